/* unit-sources: vmm/run/stats.c vmm/init/statsmap.c vmm/lib/log.c */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "init/statsmap.h"
#include "run/stats.h"

#define THREADS		4
#define ROUNDS		200000

/*
 * What a VMM counts in the tests: disk vda in slot 1 (slot 0 is the rng), NIC eth0 in slot 2, a second disk vdb in
 * slot 3, the balloon in slot 4; two vCPUs.
 */
static void count_like_a_vmm(void)
{
	struct stats_device *rng = stats_device(0, STATS_DEVICE_RNG);
	struct stats_device *vda = stats_device(1, STATS_DEVICE_BLK);
	struct stats_device *eth0 = stats_device(2, STATS_DEVICE_NET);
	struct stats_device *vdb = stats_device(3, STATS_DEVICE_BLK);
	struct stats_device *balloon = stats_device(4, STATS_DEVICE_BALLOON);

	stats_add(&vda->blk.write_bytes, 1 << 20);
	stats_add(&vda->blk.write_ops, 256);
	stats_add(&vda->blk.flushes, 3);
	stats_add(&vdb->blk.read_bytes, 4096);
	stats_add(&vdb->blk.read_ops, 1);
	stats_add(&vdb->needs_reset, 1);
	stats_add(&eth0->net.rx_bytes, 1500);
	stats_add(&eth0->net.rx_packets, 1);
	stats_add(&eth0->net.tx_bytes, 60);
	stats_add(&eth0->net.tx_packets, 1);
	stats_add(&eth0->net.tx_dropped, 2);
	stats_add(&rng->needs_reset, 5);
	stats_set(&balloon->balloon.target_bytes, 96ULL << 20);
	stats_set(&balloon->balloon.actual_bytes, 32ULL << 20);
	stats_add(&stats_vcpu(0)->exits[STATS_EXIT_IO], 100);
	stats_add(&stats_vcpu(1)->exits[STATS_EXIT_IO], 20);
	stats_add(&stats_vcpu(1)->exits[STATS_EXIT_MMIO], 7);
	stats_add(&stats_vcpu(0)->exits[STATS_EXIT_OTHER], 1);
	stats_console_dropped(42);
}

/* A VMM in a child process: it attaches to fd, counts, and exits. Returns its exit status. */
static int vmm_child(int fd)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (stats_attach(fd) < 0)
			_exit(1);
		count_like_a_vmm();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* PID 1 makes the area, a VMM counts into it and exits; PID 1 still reads every value, by disk and NIC. */
static const char *test_writer_then_reader(void)
{
	struct statsmap m = { 0 };
	struct proto_guest_info info;
	int fd;

	fd = statsmap_create(&m, "web");
	CHECK(fd >= 0);
	memset(&info, 0, sizeof(info));
	statsmap_read(&m, &info);
	CHECK_INT(info.has_counters, 0);	/* nothing written yet */
	CHECK_INT(vmm_child(fd), 0);
	close(fd);
	memset(&info, 0, sizeof(info));
	statsmap_read(&m, &info);
	CHECK_INT(info.has_counters, 1);
	CHECK_INT(info.ndisks, 2);
	CHECK_INT(info.disks[0].write_bytes, 1 << 20);
	CHECK_INT(info.disks[0].write_ops, 256);
	CHECK_INT(info.disks[0].flushes, 3);
	CHECK_INT(info.disks[0].read_bytes, 0);
	CHECK_INT(info.disks[1].read_bytes, 4096);
	CHECK_INT(info.disks[1].read_ops, 1);
	CHECK_INT(info.disks[1].needs_reset, 1);
	CHECK_INT(info.nnics, 1);
	CHECK_INT(info.nics[0].rx_bytes, 1500);
	CHECK_INT(info.nics[0].rx_packets, 1);
	CHECK_INT(info.nics[0].tx_bytes, 60);
	CHECK_INT(info.nics[0].tx_dropped, 2);
	CHECK_INT(info.needs_reset[PROTO_DEVICE_RNG], 5);
	CHECK_INT(info.needs_reset[PROTO_DEVICE_BALLOON], 0);
	CHECK_INT(info.balloon_mib, 96);
	CHECK_INT(info.balloon_actual_mib, 32);
	CHECK_INT(info.exits[PROTO_EXIT_IO], 120);
	CHECK_INT(info.exits[PROTO_EXIT_MMIO], 7);
	CHECK_INT(info.exits[PROTO_EXIT_OTHER], 1);
	CHECK_INT(info.exits[PROTO_EXIT_INTR], 0);
	CHECK_INT(info.vmm_console_dropped_bytes, 42);

	/* The next start begins at zero: the old values are gone, not passed off as the new run's. */
	fd = statsmap_create(&m, "web");
	CHECK(fd >= 0);
	close(fd);
	memset(&info, 0, sizeof(info));
	statsmap_read(&m, &info);
	CHECK_INT(info.has_counters, 0);
	CHECK_INT(info.ndisks, 0);
	statsmap_release(&m);
	statsmap_read(&m, &info);
	CHECK_INT(info.has_counters, 0);
	return NULL;
}

/* The VMM may count, not resize: a shrunk area would fault PID 1's reads. And it takes only a real area. */
static const char *test_sealed_and_checked(void)
{
	struct statsmap m = { 0 };
	int fd, small;

	fd = statsmap_create(&m, "web");
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 4096) < 0 && errno == EPERM);
	CHECK(ftruncate(fd, (off_t)STATS_SIZE * 2) < 0 && errno == EPERM);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0 && errno == EPERM);
	close(fd);
	statsmap_release(&m);
	small = memfd_create("small", MFD_CLOEXEC);
	CHECK(small >= 0);
	CHECK_INT(ftruncate(small, 4096), 0);
	CHECK_INT(stats_attach(small), -EINVAL);
	close(small);
	CHECK_INT(stats_attach(-1), -EBADF);
	return NULL;
}

/* A block of another version, size or magic is refused whole: no number from it is taken. */
static const char *test_other_layout_refused(void)
{
	struct statsmap m = { 0 };
	struct proto_guest_info info;
	struct stats_block *b;
	int fd, err = 0;

	fd = statsmap_create(&m, "web");
	CHECK(fd >= 0);
	b = mmap(NULL, STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(b != MAP_FAILED);
	CHECK(stats_check(b, &err) == NULL && err == -ENODATA);
	b->size = sizeof(*b);
	b->version = STATS_VERSION + 1;
	b->devices[0].device_id = STATS_DEVICE_BLK;
	b->devices[0].blk.write_bytes = 12345;
	b->vcpus[0].exits[STATS_EXIT_IO] = 99;
	atomic_store(&b->magic, STATS_MAGIC);
	CHECK(stats_check(b, &err) == NULL && err == -EPROTO);
	memset(&info, 0, sizeof(info));
	statsmap_read(&m, &info);
	CHECK(info.has_counters == 0 && info.ndisks == 0 && info.exits[PROTO_EXIT_IO] == 0);

	b->version = STATS_VERSION;
	b->size = sizeof(*b) - 8;
	CHECK(stats_check(b, &err) == NULL && err == -EPROTO);
	b->size = sizeof(*b);
	atomic_store(&b->magic, STATS_MAGIC + 1);
	CHECK(stats_check(b, &err) == NULL && err == -EPROTO);
	atomic_store(&b->magic, STATS_MAGIC);
	CHECK(stats_check(b, &err) == b);
	statsmap_read(&m, &info);
	CHECK(info.has_counters == 1 && info.ndisks == 1 && info.disks[0].write_bytes == 12345);
	munmap(b, STATS_SIZE);
	close(fd);
	statsmap_release(&m);
	return NULL;
}

static struct stats_device *shared_dev;

static void *incrementer(void *arg)
{
	struct stats_vcpu *own = stats_vcpu((unsigned int)(uintptr_t)arg);
	unsigned int i;

	for (i = 0; i < ROUNDS; i++) {
		stats_add(&shared_dev->net.tx_packets, 1);
		stats_add(&shared_dev->net.tx_bytes, 60);
		stats_add(&own->exits[STATS_EXIT_MMIO], 1);
	}
	return NULL;
}

/* Threads counting into one device and their own vCPU slots lose nothing; a reader sees only growth. */
static const char *test_concurrent_increments(void)
{
	struct statsmap m = { 0 };
	pthread_t threads[THREADS];
	struct proto_guest_info info;
	uint64_t last = 0, now;
	unsigned int i;
	bool grew = true;
	int fd;

	fd = statsmap_create(&m, "web");
	CHECK(fd >= 0);
	CHECK_INT(stats_attach(fd), 0);
	close(fd);
	shared_dev = stats_device(0, STATS_DEVICE_NET);
	for (i = 0; i < THREADS; i++)
		CHECK_INT(pthread_create(&threads[i], NULL, incrementer, (void *)(uintptr_t)i), 0);
	do {
		memset(&info, 0, sizeof(info));
		statsmap_read(&m, &info);
		now = info.nnics ? info.nics[0].tx_packets : 0;
		grew = grew && now >= last;
		last = now;
	} while (now < (uint64_t)THREADS * ROUNDS);
	for (i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	CHECK(grew);
	memset(&info, 0, sizeof(info));
	statsmap_read(&m, &info);
	CHECK_INT(info.nics[0].tx_packets, (uint64_t)THREADS * ROUNDS);
	CHECK_INT(info.nics[0].tx_bytes, (uint64_t)THREADS * ROUNDS * 60);
	CHECK_INT(info.exits[PROTO_EXIT_MMIO], (uint64_t)THREADS * ROUNDS);
	statsmap_release(&m);
	return NULL;
}

/* Ids and indexes past the block count somewhere harmless instead of past its end. */
static const char *test_out_of_range_slots(void)
{
	CHECK(stats_vcpu(STATS_MAX_VCPUS) == stats_vcpu(STATS_MAX_VCPUS + 100));
	CHECK(stats_vcpu(STATS_MAX_VCPUS) != stats_vcpu(STATS_MAX_VCPUS - 1));
	CHECK(stats_device(STATS_MAX_DEVICES, STATS_DEVICE_BLK) == stats_device(1000, STATS_DEVICE_NET));
	stats_add(&stats_vcpu(1000)->exits[STATS_EXIT_IO], 1);
	stats_add(&stats_device(1000, STATS_DEVICE_BLK)->blk.read_bytes, 1);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "stats-writer-then-reader", test_writer_then_reader },
		{ "stats-sealed-and-checked", test_sealed_and_checked },
		{ "stats-other-layout-refused", test_other_layout_refused },
		{ "stats-concurrent-increments", test_concurrent_increments },
		{ "stats-out-of-range-slots", test_out_of_range_slots },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
