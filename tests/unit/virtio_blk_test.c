/* unit-sources: vmm/virtio/blk.c vmm/virtio/queue.c vmm/virtio/mmio.c vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/log.c vmm/lib/evloop.c vmm/run/stats.c */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kvm/vm.h"
#include "lib/le.h"
#include "run/stats.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"

/* A fake guest as in virtio_test.c: one 8-entry queue, a request header, a data buffer and a status byte. */
#define RAM_SIZE	0x10000
#define DESC_GPA	0x1000
#define AVAIL_GPA	0x2000
#define USED_GPA	0x3000
#define HDR_GPA		0x4000
#define DATA_GPA	0x8000
#define STATUS_GPA	0xc000
#define QNUM		8
#define SECTORS		8

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct vm vm;
static struct virtio_dev *dev;
static char path[] = "/tmp/shrike-blk-test-XXXXXX";
static int disk_fd = -1;

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, true);
}

/* A fresh 8-sector disk whose byte i is i % 251, a fresh guest, the device created and driven to DRIVER_OK. */
static int setup(bool read_only)
{
	uint8_t disk[SECTORS * 512];
	unsigned int i;

	if (disk_fd >= 0)
		close(disk_fd);
	strcpy(path, "/tmp/shrike-blk-test-XXXXXX");
	disk_fd = mkstemp(path);
	for (i = 0; i < sizeof(disk); i++)
		disk[i] = (uint8_t)(i % 251);
	if (disk_fd < 0 || write(disk_fd, disk, sizeof(disk)) != (ssize_t)sizeof(disk))
		return -1;
	memset(ram, 0, sizeof(ram));
	vm = (struct vm){ .ram = ram, .ram_size = RAM_SIZE, .low_size = RAM_SIZE, .vm_fd = -1, .kvm_fd = -1 };
	iotrap_init(&vm.io);
	if (virtio_blk_create(&vm, path, read_only, &dev) < 0)
		return -1;
	unlink(path);
	wr(0x070, 3);
	wr(0x024, 1);
	wr(0x020, 1);
	wr(0x070, 0xb);
	wr(0x038, QNUM);
	wr(0x080, DESC_GPA);
	wr(0x090, AVAIL_GPA);
	wr(0x0a0, USED_GPA);
	wr(0x044, 1);
	wr(0x070, 0xf);
	return rd(0x070) == 0xf ? 0 : -1;
}

static void teardown(void)
{
	dev->ops->destroy(dev);
	dev = NULL;
}

static void set_desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc *d = (struct virtq_desc *)(ram + DESC_GPA) + i;

	*d = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/*
 * Submits header, data (len bytes, device-writable unless data_out) and status as one chain and notifies.
 * Returns the status byte, or -1 if the device did not answer.
 */
static int request(uint32_t type, uint64_t sector, uint32_t len, bool data_out)
{
	uint16_t *avail = (uint16_t *)(ram + AVAIL_GPA), *used = (uint16_t *)(ram + USED_GPA);
	uint16_t before = used[1];

	le_put32(ram + HDR_GPA, type);
	le_put32(ram + HDR_GPA + 4, 0);
	le_put64(ram + HDR_GPA + 8, sector);
	ram[STATUS_GPA] = 0xee;
	set_desc(0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, len ? 1 : 2);
	set_desc(1, DATA_GPA, len, VIRTQ_DESC_F_NEXT | (data_out ? 0 : VIRTQ_DESC_F_WRITE), 2);
	set_desc(2, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	avail[2 + avail[1] % QNUM] = 0;
	avail[1]++;
	wr(0x050, 0);
	return used[1] == (uint16_t)(before + 1) ? ram[STATUS_GPA] : -1;
}

static uint32_t last_used_len(void)
{
	uint16_t *used = (uint16_t *)(ram + USED_GPA);

	return *(uint32_t *)(ram + USED_GPA + 4 + ((used[1] - 1) % QNUM) * 8 + 4);
}

static const char *test_read_write(void)
{
	uint8_t buf[512];
	unsigned int i;

	CHECK_INT(setup(false), 0);
	CHECK_INT(rd(0x008), 2);
	CHECK_INT(rd(0x100), SECTORS);	/* capacity, low half */
	CHECK_INT(rd(0x104), 0);
	CHECK_INT(rd(0x010) & (1 << 5), 0);	/* not read-only */
	CHECK_INT(request(0, 1, 512, false), 0);
	CHECK_INT(last_used_len(), 513);
	for (i = 0; i < 512; i++)
		CHECK_INT(ram[DATA_GPA + i], (512 + i) % 251);
	memset(ram + DATA_GPA, 0x5a, 512);
	CHECK_INT(request(1, 7, 512, true), 0);
	CHECK_INT(pread(disk_fd, buf, 512, 7 * 512), 512);
	CHECK_INT(buf[0] & buf[511], 0x5a);
	CHECK_INT(request(4, 0, 0, false), 0);	/* flush */
	CHECK_INT(request(8, 0, 20, false), 0);	/* get ID: the file name */
	CHECK(!memcmp(ram + DATA_GPA, "shrike-blk-test-", 16));
	CHECK_INT(request(99, 0, 512, false), 2);	/* unsupported */
	teardown();
	return NULL;
}

static const char *test_sector_ranges(void)
{
	CHECK_INT(setup(false), 0);
	/* the last sector is fine, one past it is not, nor two sectors from the last */
	CHECK_INT(request(0, SECTORS - 1, 512, false), 0);
	CHECK_INT(request(0, SECTORS, 512, false), 1);
	CHECK_INT(request(0, SECTORS - 1, 1024, false), 1);
	CHECK_INT(request(1, SECTORS, 512, true), 1);
	/* sector * 512 wraps to 0 or to a small number in 64 bits */
	CHECK_INT(request(0, 1ULL << 55, 512, false), 1);
	CHECK_INT(request(1, (1ULL << 55) + 1, 512, true), 1);
	CHECK_INT(request(0, UINT64_MAX, 512, false), 1);
	/* data that is not whole sectors */
	CHECK_INT(request(0, 0, 100, false), 1);
	CHECK_INT(rd(0x070), 0xf);	/* bad requests are answered, the device keeps working */
	CHECK_INT(request(0, 0, 512, false), 0);
	teardown();
	return NULL;
}

/* Only served requests count, in bytes and requests; an answered error or an ID request does not. */
static const char *test_counters(void)
{
	struct stats_blk before, *st;

	CHECK_INT(setup(false), 0);
	st = &dev->stats->blk;
	before = (struct stats_blk){ .read_bytes = st->read_bytes, .read_ops = st->read_ops,
				     .write_bytes = st->write_bytes, .write_ops = st->write_ops,
				     .flushes = st->flushes };
	CHECK_INT(atomic_load(&dev->stats->device_id), 2);
	CHECK_INT(request(0, 0, 1024, false), 0);
	CHECK_INT(request(0, 2, 512, false), 0);
	CHECK_INT(request(1, 3, 1536, true), 0);
	CHECK_INT(request(4, 0, 0, false), 0);
	CHECK_INT(request(0, SECTORS, 512, false), 1);
	CHECK_INT(request(1, SECTORS, 512, true), 1);
	CHECK_INT(request(8, 0, 20, false), 0);
	CHECK_INT(st->read_bytes - before.read_bytes, 1536);
	CHECK_INT(st->read_ops - before.read_ops, 2);
	CHECK_INT(st->write_bytes - before.write_bytes, 1536);
	CHECK_INT(st->write_ops - before.write_ops, 1);
	CHECK_INT(st->flushes - before.flushes, 1);
	teardown();
	return NULL;
}

static const char *test_read_only(void)
{
	uint8_t buf[512];

	CHECK_INT(setup(true), 0);
	CHECK_INT(rd(0x010) & (1 << 5), 1 << 5);
	memset(ram + DATA_GPA, 0x5a, 512);
	CHECK_INT(request(1, 0, 512, true), 1);
	CHECK_INT(pread(disk_fd, buf, 512, 0), 512);
	CHECK_INT(buf[1], 1);
	CHECK_INT(request(0, 0, 512, false), 0);
	teardown();
	return NULL;
}

static const char *test_no_status_byte(void)
{
	uint16_t *avail = (uint16_t *)(ram + AVAIL_GPA);
	uint64_t resets;
	int saved, null;

	CHECK_INT(setup(false), 0);
	set_desc(0, HDR_GPA, 16, 0, 0);
	avail[2] = 0;
	avail[1] = 1;
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	resets = dev->stats->needs_reset;
	wr(0x050, 0);
	wr(0x050, 0);		/* already broken: no second event */
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	CHECK_INT(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	CHECK_INT(dev->stats->needs_reset - resets, 1);
	teardown();
	return NULL;
}

static const char *test_missing_disk(void)
{
	struct virtio_dev *d = NULL;
	int saved, null;

	vm = (struct vm){ .ram = ram, .ram_size = RAM_SIZE, .low_size = RAM_SIZE, .vm_fd = -1, .kvm_fd = -1 };
	iotrap_init(&vm.io);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	CHECK_INT(virtio_blk_create(&vm, "/nonexistent/disk.img", false, &d), -ENOENT);
	CHECK_INT(virtio_blk_create(&vm, "/dev", false, &d), -EISDIR);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	CHECK(!d);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "virtio-blk-read-write-flush-id", test_read_write },
		{ "virtio-blk-sector-ranges", test_sector_ranges },
		{ "virtio-blk-counters", test_counters },
		{ "virtio-blk-read-only", test_read_only },
		{ "virtio-blk-no-status-byte", test_no_status_byte },
		{ "virtio-blk-missing-disk", test_missing_disk },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
