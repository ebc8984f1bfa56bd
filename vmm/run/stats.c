#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "run/stats.h"

/* Shared between processes: every counter must be a plain lock-free word, the same in both. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2, "counters need lock-free atomics");

/* `shrike run` by hand counts here; the devices cannot tell the difference. */
static struct stats_block own = { .magic = STATS_MAGIC, .version = STATS_VERSION,
				  .size = sizeof(struct stats_block) };
static struct stats_block *block = &own;
/* Where ids and indexes beyond the block count: written, never read. */
static struct stats_vcpu spare_vcpu;
static struct stats_device spare_device;

int stats_attach(int fd)
{
	struct stats_block *b;
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0) {
		err = errno;
		log_error("--stats-fd %d: %s", fd, strerror(err));
		return -err;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != STATS_SIZE) {
		log_error("--stats-fd %d: not a counter area of %zu bytes", fd, STATS_SIZE);
		return -EINVAL;
	}
	b = mmap(NULL, STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED) {
		err = errno;
		log_error("--stats-fd %d: mmap: %s", fd, strerror(err));
		return -err;
	}
	b->version = STATS_VERSION;
	b->size = sizeof(*b);
	atomic_store_explicit(&b->magic, STATS_MAGIC, memory_order_release);
	block = b;
	return 0;
}

struct stats_vcpu *stats_vcpu(unsigned int id)
{
	return id < STATS_MAX_VCPUS ? &block->vcpus[id] : &spare_vcpu;
}

struct stats_device *stats_device(unsigned int index, uint32_t device_id)
{
	struct stats_device *d = index < STATS_MAX_DEVICES ? &block->devices[index] : &spare_device;

	atomic_store_explicit(&d->device_id, device_id, memory_order_relaxed);
	return d;
}

void stats_console_dropped(uint64_t bytes)
{
	stats_add(&block->console_dropped_bytes, bytes);
}

const struct stats_block *stats_check(const void *area, int *err)
{
	const struct stats_block *b = area;
	uint64_t magic = atomic_load_explicit(&b->magic, memory_order_acquire);

	if (magic != STATS_MAGIC) {
		*err = magic ? -EPROTO : -ENODATA;
		return NULL;
	}
	if (b->version != STATS_VERSION || b->size != sizeof(*b)) {
		*err = -EPROTO;
		return NULL;
	}
	return b;
}
