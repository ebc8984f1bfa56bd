#ifndef SHRIKE_HW_BOOT_TIMER_H
#define SHRIKE_HW_BOOT_TIMER_H

#include <stdint.h>

#include "kvm/vm.h"

#define BOOT_TIMER_PORT		0x3f0
#define BOOT_TIMER_MAGIC	123
/* Markers logged per VM; a guest writing the magic value in a loop gets one more line saying so, then silence. */
#define BOOT_TIMER_MAX_LOGGED	16

/*
 * Firecracker's boot-time marker: a guest's `outb 123, 0x3f0` (e.g. from its /init) logs
 * "boot-timer: guest marker after N.NNN ms", counted from start_ns (CLOCK_MONOTONIC), so a benchmark needs no
 * console text. Every marker logs its own figure; other values are ignored and reads return 0xff.
 */
struct boot_timer {
	struct vm *vm;
	uint64_t start_ns;
	uint64_t first_ns;		/* since start_ns, at the first marker; 0 until then (atomic) */
	unsigned int markers;		/* seen so far (atomic) */
};

/* Registers BOOT_TIMER_PORT on vm's port bus. Returns 0 or -errno (logged). */
int boot_timer_create(struct boot_timer *t, struct vm *vm, uint64_t start_ns);

/* Nanoseconds from start_ns to the guest's first marker, or 0 if there has been none. */
uint64_t boot_timer_first_ns(const struct boot_timer *t);

#endif
