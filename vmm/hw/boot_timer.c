#include <string.h>
#include <time.h>

#include "hw/boot_timer.h"
#include "lib/log.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void boot_timer_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct boot_timer *t = opaque;
	uint64_t now, elapsed, none = 0;
	unsigned int nr;

	(void)addr;
	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	if (data[0] != BOOT_TIMER_MAGIC)
		return;
	now = monotonic_ns();
	elapsed = now > t->start_ns ? now - t->start_ns : 0;
	/* 0 means "no marker yet": a marker at the very start still counts as one. */
	if (!elapsed)
		elapsed = 1;
	/* vCPUs may race here: the first marker wins, without a lock on the vCPU path. */
	__atomic_compare_exchange_n(&t->first_ns, &none, elapsed, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	nr = __atomic_add_fetch(&t->markers, 1, __ATOMIC_RELAXED);
	if (nr <= BOOT_TIMER_MAX_LOGGED)
		log_info("boot-timer: guest marker after %llu.%03llu ms", (unsigned long long)(elapsed / 1000000),
			 (unsigned long long)(elapsed / 1000 % 1000));
	else if (nr == BOOT_TIMER_MAX_LOGGED + 1)
		log_info("boot-timer: more than %d guest markers; not logging the rest", BOOT_TIMER_MAX_LOGGED);
}

int boot_timer_create(struct boot_timer *t, struct vm *vm, uint64_t start_ns)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->vm = vm;
	t->start_ns = start_ns;
	ret = iotrap_register(&vm->io, IOTRAP_PIO, BOOT_TIMER_PORT, 1, boot_timer_io, t);
	if (ret < 0)
		log_error("boot-timer: port 0x%x: %s", BOOT_TIMER_PORT, strerror(-ret));
	return ret;
}

uint64_t boot_timer_first_ns(const struct boot_timer *t)
{
	return __atomic_load_n(&t->first_ns, __ATOMIC_RELAXED);
}
