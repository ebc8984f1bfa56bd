#include <errno.h>
#include <string.h>

#include "bus/iotrap.h"
#include "lib/log.h"

static const char *const bus_names[IOTRAP_NR_BUSES] = { "port", "mmio" };

void iotrap_init(struct iotrap *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->unknown_lock, NULL);
}

/* base + len - 1 is the last byte; comparing last bytes never overflows where base + len could. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

int iotrap_register(struct iotrap *t, enum iotrap_bus bus, uint64_t base, uint64_t len, iotrap_fn *fn,
		    void *opaque)
{
	struct iotrap_range *r;
	unsigned int i;

	if ((unsigned int)bus >= IOTRAP_NR_BUSES || !len || !fn || base > UINT64_MAX - (len - 1))
		return -EINVAL;
	if (bus == IOTRAP_PIO && (base > 0xffff || len - 1 > 0xffff - base))
		return -EINVAL;
	for (i = 0; i < t->nr[bus]; i++)
		if (ranges_overlap(base, len, t->ranges[bus][i].base, t->ranges[bus][i].len))
			return -EEXIST;
	if (t->nr[bus] == IOTRAP_MAX_RANGES)
		return -ENOSPC;
	r = &t->ranges[bus][t->nr[bus]++];
	r->base = base;
	r->len = len;
	r->fn = fn;
	r->opaque = opaque;
	return 0;
}

static void unknown_access(struct iotrap *t, enum iotrap_bus bus, uint64_t addr, uint32_t len, bool is_write)
{
	unsigned int i;
	bool first = true;

	pthread_mutex_lock(&t->unknown_lock);
	for (i = 0; i < t->nr_unknown[bus]; i++)
		if (t->unknown[bus][i] == addr)
			first = false;
	if (first && t->nr_unknown[bus] < IOTRAP_MAX_UNKNOWN)
		t->unknown[bus][t->nr_unknown[bus]++] = addr;
	else
		first = false;
	pthread_mutex_unlock(&t->unknown_lock);
	if (first)
		log_info("guest %s of %u byte(s) at %s 0x%llx: no device there, ignored", is_write ? "write" : "read",
			 len, bus_names[bus], (unsigned long long)addr);
}

bool iotrap_dispatch(struct iotrap *t, enum iotrap_bus bus, uint64_t addr, uint8_t *data, uint32_t len,
		     bool is_write)
{
	const struct iotrap_range *r;
	unsigned int i;

	if ((unsigned int)bus >= IOTRAP_NR_BUSES || !len || len > 8)
		return false;
	for (i = 0; i < t->nr[bus]; i++) {
		r = &t->ranges[bus][i];
		if (addr >= r->base && addr - r->base < r->len && len - 1 <= r->len - 1 - (addr - r->base)) {
			r->fn(r->opaque, addr, data, len, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	unknown_access(t, bus, addr, len, is_write);
	return false;
}
