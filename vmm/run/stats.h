#ifndef SHRIKE_RUN_STATS_H
#define SHRIKE_RUN_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * A guest's counters, kept by its VMM and read by PID 1 (docs/vmm.md, Counters). For each start PID 1 creates a
 * memfd of STATS_SIZE bytes, seals its size, maps it read-only and passes it as `shrike run --stats-fd N`; the
 * VMM maps it read-write and counts into it. Without --stats-fd the same counters live in the VMM's own memory.
 *
 * This layout is the contract between the two. The memfd starts as zeros; the VMM fills in version and size,
 * then stores the magic (release), and PID 1 reads nothing before it has seen the magic (acquire) and checked
 * both. A change of layout is a new STATS_VERSION.
 *
 * Every counter is a relaxed atomic: a writer never waits and never makes a system call, a reader sees each value
 * whole (but no snapshot across several). PID 1 takes nothing from the block but numbers: a VMM is as trusted as
 * its guest, and the sealed size means it cannot make PID 1's mapping fault.
 */
#define STATS_MAGIC		0x7374617473686b73ULL	/* "shkstats" in memory */
#define STATS_VERSION		1
#define STATS_MAX_VCPUS		64
#define STATS_MAX_DEVICES	32			/* virtio-mmio slots */

/* The exit reasons the vCPU loop tells apart (kvm/vcpu.c); anything else is OTHER. */
enum stats_exit {
	STATS_EXIT_IO,
	STATS_EXIT_MMIO,
	STATS_EXIT_INTR,		/* KVM_RUN left for a signal: a pause, a stop */
	STATS_EXIT_SHUTDOWN,
	STATS_EXIT_SYSTEM_EVENT,
	STATS_EXIT_FAIL_ENTRY,
	STATS_EXIT_INTERNAL_ERROR,
	STATS_EXIT_OTHER,
	STATS_EXIT_COUNT
};

/* One vCPU's exits, written by its own thread only, in a cache line of its own so that vCPUs never contend. */
struct stats_vcpu {
	_Alignas(64) _Atomic uint64_t exits[STATS_EXIT_COUNT];
};

struct stats_blk {
	_Atomic uint64_t read_bytes, read_ops;
	_Atomic uint64_t write_bytes, write_ops;
	_Atomic uint64_t flushes;
};

struct stats_net {
	_Atomic uint64_t rx_bytes, rx_packets, rx_dropped;	/* towards the guest */
	_Atomic uint64_t tx_bytes, tx_packets, tx_dropped;	/* from the guest */
};

/* Gauges, not counters: what the host asks for and what the guest has given back. */
struct stats_balloon {
	_Atomic uint64_t target_bytes, actual_bytes;
};

/* Virtio-mmio device slot n: which device it is (its virtio device ID, 0 for none) and its counters. */
struct stats_device {
	_Atomic uint32_t device_id;
	uint32_t reserved;
	_Atomic uint64_t needs_reset;		/* times the device set NEEDS_RESET (virtio_mmio_violation()) */
	union {
		struct stats_blk blk;		/* device ID 2 */
		struct stats_net net;		/* device ID 1 */
		struct stats_balloon balloon;	/* device ID 5 */
	};
};

struct stats_block {
	_Atomic uint64_t magic;			/* STATS_MAGIC once version and size are there */
	uint32_t version;			/* STATS_VERSION */
	uint32_t size;				/* sizeof(struct stats_block) */
	_Atomic uint64_t console_dropped_bytes;	/* guest output the VMM's stdout was too slow for (run/console.c) */
	struct stats_device devices[STATS_MAX_DEVICES];
	struct stats_vcpu vcpus[STATS_MAX_VCPUS];
};

/* The memfd's size: the block in whole pages. */
#define STATS_SIZE		((sizeof(struct stats_block) + 4095) & ~(size_t)4095)

#define STATS_DEVICE_NET	1
#define STATS_DEVICE_BLK	2
#define STATS_DEVICE_CONSOLE	3
#define STATS_DEVICE_RNG	4
#define STATS_DEVICE_BALLOON	5

/*
 * The VMM's side. From here on, count into the memfd fd (run's --stats-fd): maps it (it must be STATS_SIZE bytes)
 * and marks it valid. Call before any device or vCPU is created. Returns 0 or -errno (logged).
 */
int stats_attach(int fd);

/* vCPU id's slot; ids beyond STATS_MAX_VCPUS share a slot nobody reads. */
struct stats_vcpu *stats_vcpu(unsigned int id);

/* Device slot index, marked as holding a device of virtio device ID device_id; the same spare beyond the end. */
struct stats_device *stats_device(unsigned int index, uint32_t device_id);

void stats_console_dropped(uint64_t bytes);

static inline void stats_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline void stats_set(_Atomic uint64_t *gauge, uint64_t v)
{
	atomic_store_explicit(gauge, v, memory_order_relaxed);
}

/*
 * PID 1's side: the block at area (a mapping of STATS_SIZE bytes), once its writer has marked it valid. NULL
 * with -ENODATA (nothing written yet) or -EPROTO (another magic, version or size: refused) in *err.
 */
const struct stats_block *stats_check(const void *area, int *err);

static inline uint64_t stats_get(const _Atomic uint64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

#endif
