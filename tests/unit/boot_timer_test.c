/* unit-sources: vmm/hw/boot_timer.c vmm/bus/iotrap.c vmm/lib/log.c */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hw/boot_timer.h"

static struct vm vm;
static struct boot_timer bt;
static char log_text[8192];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int fresh(uint64_t start_ns)
{
	memset(&vm, 0, sizeof(vm));
	iotrap_init(&vm.io);
	return boot_timer_create(&bt, &vm, start_ns);
}

static void outb(uint8_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_PIO, BOOT_TIMER_PORT, &v, 1, true);
}

static void not_markers(void)
{
	uint8_t w[2] = { 123, 123 };

	outb(0);
	outb(122);
	outb(0xff);
	/* 16 bits at the port do not fit its one-byte range, and one port up is the floppy controller's */
	iotrap_dispatch(&vm.io, IOTRAP_PIO, BOOT_TIMER_PORT, w, 2, true);
	iotrap_dispatch(&vm.io, IOTRAP_PIO, BOOT_TIMER_PORT + 1, w, 1, true);
}

static int second_ret;

static void second_timer(void)
{
	static struct boot_timer other;

	second_ret = boot_timer_create(&other, &vm, 0);
}

static const char *test_ignored(void)
{
	uint8_t v = 0;

	CHECK_INT(fresh(now_ns()), 0);
	CHECK_INT(boot_timer_first_ns(&bt), 0);
	CHECK(iotrap_dispatch(&vm.io, IOTRAP_PIO, BOOT_TIMER_PORT, &v, 1, false));
	CHECK_INT(v, 0xff);
	check_stderr(not_markers, log_text, sizeof(log_text));
	CHECK(!strstr(log_text, "boot-timer"));
	CHECK_INT(boot_timer_first_ns(&bt), 0);
	/* the port is taken once, and the refusal says so */
	CHECK_INT(check_stderr(second_timer, log_text, sizeof(log_text)), 1);
	CHECK_INT(second_ret, -EEXIST);
	CHECK(strstr(log_text, "boot-timer: port 0x3f0: File exists"));
	return NULL;
}

static void one_marker(void)
{
	outb(BOOT_TIMER_MAGIC);
}

static const char *test_marker(void)
{
	uint64_t start = now_ns() - 25000000, first, upper;
	double ms;

	CHECK_INT(fresh(start), 0);
	CHECK_INT(check_stderr(one_marker, log_text, sizeof(log_text)), 1);
	upper = now_ns() - start;
	first = boot_timer_first_ns(&bt);
	CHECK(first >= 25000000 && first <= upper);
	CHECK(!strncmp(log_text, "shrike: boot-timer: guest marker after ", 39));
	CHECK(sscanf(log_text + 39, "%lf ms", &ms) == 1);
	CHECK(strstr(log_text, " ms\n"));
	CHECK(ms >= 25.0 && ms <= upper / 1e6);
	/* the figure has three decimals: N.NNN */
	CHECK(strchr(log_text, '.') && strchr(log_text, '.')[4] == ' ');
	/* a later marker logs its own, larger figure and leaves the first alone */
	usleep(2000);
	CHECK_INT(check_stderr(one_marker, log_text, sizeof(log_text)), 1);
	CHECK_INT(boot_timer_first_ns(&bt), first);
	CHECK(sscanf(log_text + 39, "%lf ms", &ms) == 1);
	CHECK(ms * 1e6 > (double)first);
	return NULL;
}

static void flood(void)
{
	unsigned int i;

	for (i = 0; i < 1000; i++)
		outb(BOOT_TIMER_MAGIC);
}

static const char *test_flood(void)
{
	CHECK_INT(fresh(now_ns()), 0);
	CHECK_INT(check_stderr(flood, log_text, sizeof(log_text)), BOOT_TIMER_MAX_LOGGED + 1);
	CHECK(strstr(log_text, "not logging the rest"));
	CHECK(boot_timer_first_ns(&bt) > 0);
	return NULL;
}

/* A start time in the future (a caller's clock mix-up) still records a marker, as 0.000 ms. */
static const char *test_start_in_future(void)
{
	CHECK_INT(fresh(now_ns() + 60000000000ULL), 0);
	CHECK_INT(check_stderr(one_marker, log_text, sizeof(log_text)), 1);
	CHECK(boot_timer_first_ns(&bt) > 0);
	CHECK(strstr(log_text, "after 0.000 ms"));
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "boot-timer-other-values-ignored", test_ignored },
		{ "boot-timer-marker", test_marker },
		{ "boot-timer-flood-logged-bounded", test_flood },
		{ "boot-timer-start-in-future", test_start_in_future },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
