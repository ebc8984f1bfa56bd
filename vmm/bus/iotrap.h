#ifndef SHRIKE_BUS_IOTRAP_H
#define SHRIKE_BUS_IOTRAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * One registry for both guest port I/O and MMIO (kvmtool ioport.c + mmio.c folded into one): devices register an
 * address range and one handler; the vCPU loop hands every trapped access to iotrap_dispatch(). Ranges never
 * overlap and never wrap, so a lookup is a plain search. Registration happens before the vCPUs start; dispatch
 * only reads the table, so vCPU threads need no lock here (devices lock their own state).
 */

enum iotrap_bus {
	IOTRAP_PIO,
	IOTRAP_MMIO,
	IOTRAP_NR_BUSES,
};

/* data holds len bytes (1..8), little-endian as the guest sees them: read from it on writes, fill it on reads. */
typedef void iotrap_fn(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#define IOTRAP_MAX_RANGES	32
/* Unknown addresses are logged once each, up to this many; after that a guest scanning the bus stays quiet. */
#define IOTRAP_MAX_UNKNOWN	32

struct iotrap_range {
	uint64_t base;
	uint64_t len;
	iotrap_fn *fn;
	void *opaque;
};

struct iotrap {
	struct iotrap_range ranges[IOTRAP_NR_BUSES][IOTRAP_MAX_RANGES];
	unsigned int nr[IOTRAP_NR_BUSES];
	pthread_mutex_t unknown_lock;
	uint64_t unknown[IOTRAP_NR_BUSES][IOTRAP_MAX_UNKNOWN];
	unsigned int nr_unknown[IOTRAP_NR_BUSES];
};

void iotrap_init(struct iotrap *t);

/* Returns 0, -EINVAL for an empty or wrapping range or an unknown bus, -EEXIST on overlap, -ENOSPC when full. */
int iotrap_register(struct iotrap *t, enum iotrap_bus bus, uint64_t base, uint64_t len, iotrap_fn *fn,
		    void *opaque);

/*
 * Hands the access to the handler whose range holds all len bytes; anything else (unknown address, an access
 * straddling a range's end, len 0 or above 8) is ignored, reads return all ones. Returns true if a handler ran.
 */
bool iotrap_dispatch(struct iotrap *t, enum iotrap_bus bus, uint64_t addr, uint8_t *data, uint32_t len,
		     bool is_write);

#endif
