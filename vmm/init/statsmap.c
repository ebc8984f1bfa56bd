#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "init/statsmap.h"
#include "lib/log.h"
#include "run/stats.h"

int statsmap_create(struct statsmap *m, const char *guest)
{
	void *area;
	int fd, ret;

	statsmap_release(m);
	fd = memfd_create("shrike-stats", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		ret = -errno;
		log_error("guest %s: counters: memfd_create: %s", guest, strerror(errno));
		return ret;
	}
	/* The VMM may write the counters, never change the size: a shrunk file would fault PID 1's reads. */
	if (ftruncate(fd, (off_t)STATS_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		ret = -errno;
		log_error("guest %s: counters: sizing and sealing the memfd: %s", guest, strerror(errno));
		goto fail;
	}
	area = mmap(NULL, STATS_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (area == MAP_FAILED) {
		ret = -errno;
		log_error("guest %s: counters: mmap: %s", guest, strerror(errno));
		goto fail;
	}
	m->area = area;
	return fd;
fail:
	close(fd);
	return ret;
}

void statsmap_release(struct statsmap *m)
{
	if (m->area)
		munmap((void *)(uintptr_t)m->area, STATS_SIZE);
	m->area = NULL;
}

static void read_disk(const struct stats_device *d, struct proto_disk_stats *s)
{
	s->read_bytes = stats_get(&d->blk.read_bytes);
	s->read_ops = stats_get(&d->blk.read_ops);
	s->write_bytes = stats_get(&d->blk.write_bytes);
	s->write_ops = stats_get(&d->blk.write_ops);
	s->flushes = stats_get(&d->blk.flushes);
	s->needs_reset = stats_get(&d->needs_reset);
}

static void read_nic(const struct stats_device *d, struct proto_nic_stats *s)
{
	s->rx_bytes = stats_get(&d->net.rx_bytes);
	s->rx_packets = stats_get(&d->net.rx_packets);
	s->rx_dropped = stats_get(&d->net.rx_dropped);
	s->tx_bytes = stats_get(&d->net.tx_bytes);
	s->tx_packets = stats_get(&d->net.tx_packets);
	s->tx_dropped = stats_get(&d->net.tx_dropped);
	s->needs_reset = stats_get(&d->needs_reset);
}

void statsmap_read(const struct statsmap *m, struct proto_guest_info *info)
{
	static const uint32_t exit_of[STATS_EXIT_COUNT] = {
		[STATS_EXIT_IO] = PROTO_EXIT_IO,
		[STATS_EXIT_MMIO] = PROTO_EXIT_MMIO,
		[STATS_EXIT_INTR] = PROTO_EXIT_INTR,
		[STATS_EXIT_SHUTDOWN] = PROTO_EXIT_SHUTDOWN,
		[STATS_EXIT_SYSTEM_EVENT] = PROTO_EXIT_SYSTEM_EVENT,
		[STATS_EXIT_FAIL_ENTRY] = PROTO_EXIT_FAIL_ENTRY,
		[STATS_EXIT_INTERNAL_ERROR] = PROTO_EXIT_INTERNAL_ERROR,
		[STATS_EXIT_OTHER] = PROTO_EXIT_OTHER,
	};
	const struct stats_block *b;
	const struct stats_device *d;
	unsigned int i, r;
	int err;

	b = m->area ? stats_check(m->area, &err) : NULL;
	if (!b)
		return;
	info->has_counters = 1;
	info->vmm_console_dropped_bytes = stats_get(&b->console_dropped_bytes);
	for (i = 0; i < STATS_MAX_VCPUS; i++)
		for (r = 0; r < STATS_EXIT_COUNT; r++)
			info->exits[exit_of[r]] += stats_get(&b->vcpus[i].exits[r]);
	/* The VMM creates disks and NICs in the config's order, so the n-th of a kind is the config's n-th. */
	for (i = 0; i < STATS_MAX_DEVICES; i++) {
		d = &b->devices[i];
		switch (atomic_load_explicit(&d->device_id, memory_order_relaxed)) {
		case STATS_DEVICE_BLK:
			if (info->ndisks < PROTO_MAX_DISKS)
				read_disk(d, &info->disks[info->ndisks++]);
			break;
		case STATS_DEVICE_NET:
			if (info->nnics < PROTO_MAX_NICS)
				read_nic(d, &info->nics[info->nnics++]);
			break;
		case STATS_DEVICE_BALLOON:
			info->balloon_mib = stats_get(&d->balloon.target_bytes) >> 20;
			info->balloon_actual_mib = stats_get(&d->balloon.actual_bytes) >> 20;
			info->needs_reset[PROTO_DEVICE_BALLOON] = stats_get(&d->needs_reset);
			break;
		case STATS_DEVICE_RNG:
			info->needs_reset[PROTO_DEVICE_RNG] = stats_get(&d->needs_reset);
			break;
		case STATS_DEVICE_CONSOLE:
			info->needs_reset[PROTO_DEVICE_CONSOLE] = stats_get(&d->needs_reset);
			break;
		default:
			break;
		}
	}
}
