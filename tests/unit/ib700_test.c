/* unit-sources: vmm/hw/ib700.c vmm/bus/iotrap.c vmm/lib/evloop.c vmm/lib/log.c */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "check.h"
#include "hw/ib700.h"
#include "run/devices.h"

static struct vm vm;
static struct evloop loop;
static bool loop_made;
static struct ib700 *wd;
static char logged[512];

/* kvm/vm.c's, without KVM: the first reason sticks, as there. */
void vm_request_exit(struct vm *v, enum vm_exit reason)
{
	int running = VM_RUNNING;

	atomic_compare_exchange_strong(&v->exit_reason, &running, (int)reason);
}

/* run/devices.c's; the device table's glue is not what these cases test. */
int run_devices_on_teardown(struct run_device_env *env, void (*fn)(void *opaque), void *opaque)
{
	(void)env;
	(void)fn;
	(void)opaque;
	return 0;
}

static void out(uint16_t port, uint8_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_PIO, port, &v, 1, true);
}

static int fresh(enum ib700_action action)
{
	if (wd)
		ib700_destroy(wd);
	wd = NULL;
	if (loop_made)
		evloop_destroy(&loop);
	memset(&vm, 0, sizeof(vm));
	iotrap_init(&vm.io);
	loop_made = evloop_init(&loop) == 0;
	if (!loop_made)
		return -1;
	return ib700_create(&vm, &loop, action, &wd);
}

/* Seconds until the timer expires, 0 when it is disarmed (or already expired). */
static double remaining(void)
{
	struct itimerspec its;

	if (timerfd_gettime(wd->timer_fd, &its) < 0)
		return -1;
	return (double)its.it_value.tv_sec + (double)its.it_value.tv_nsec / 1e9;
}

/* Runs the event loop for up to run_ms, with its log lines in logged[]. */
static int run_ms;

static void run_loop(void)
{
	evloop_run_once(&loop, run_ms);
}

static int run(int ms)
{
	run_ms = ms;
	logged[0] = '\0';
	return check_stderr(run_loop, logged, sizeof(logged));
}

/* 30 - 2 * (V & 0xf) seconds, from the port and the one after it, for a byte or a word; 0x441/0x442 disarm. */
static const char *test_ports(void)
{
	uint8_t w[2] = { 0x0e, 0x00 }, r[2] = { 0, 0 };
	unsigned int v;
	double t;

	CHECK_INT(fresh(IB700_RESET), 0);
	CHECK(remaining() == 0);
	for (v = 0; v < 15; v++) {
		out(IB700_PORT_START, (uint8_t)v);
		t = remaining();
		if (!(t > 30 - 2 * v - 0.5 && t <= 30 - 2 * v))
			return check_fail(__FILE__, __LINE__, "value %u: %.3f s left, expected %u", v, t, 30 - 2 * v);
	}
	out(IB700_PORT_START, 0xf0);		/* the high nibble does not count */
	CHECK(remaining() > 29.5);
	out(IB700_PORT_STOP, 0);
	CHECK(remaining() == 0);
	CHECK(iotrap_dispatch(&vm.io, IOTRAP_PIO, IB700_PORT_START, w, 2, true));	/* OUT DX,AX */
	CHECK(remaining() > 1.5 && remaining() <= 2);
	out(IB700_PORT_STOP, 0);
	out(IB700_PORT_START + 1, 0x0d);
	CHECK(remaining() > 3.5 && remaining() <= 4);
	out(IB700_PORT_STOP + 1, 0x5a);
	CHECK(remaining() == 0);
	CHECK(iotrap_dispatch(&vm.io, IOTRAP_PIO, IB700_PORT_STOP, r, 2, false));
	CHECK_INT(r[0] & r[1], 0xff);
	CHECK(remaining() == 0);
	/* Nothing around the four ports is the watchdog's. */
	CHECK(!iotrap_dispatch(&vm.io, IOTRAP_PIO, IB700_PORT_STOP - 1, w, 1, true));
	CHECK(!iotrap_dispatch(&vm.io, IOTRAP_PIO, IB700_PORT_STOP + IB700_NR_PORTS, w, 1, true));
	CHECK(remaining() == 0);
	return NULL;
}

/* 0xf is 0 s: the reset comes at once, with the line that says so. */
static const char *test_reset(void)
{
	CHECK_INT(fresh(IB700_RESET), 0);
	out(IB700_PORT_START, 0x0f);
	CHECK_INT(run(1000), 1);
	CHECK_INT(atomic_load(&vm.exit_reason), VM_EXIT_WATCHDOG);
	CHECK_INT(wd->expiries, 1);
	CHECK(strstr(logged, "watchdog expired after 0 s: the guest stopped petting it; resetting it"));
	return NULL;
}

static const char *test_poweroff(void)
{
	CHECK_INT(fresh(IB700_POWEROFF), 0);
	out(IB700_PORT_START, 0x0f);
	CHECK_INT(run(1000), 1);
	CHECK_INT(atomic_load(&vm.exit_reason), VM_EXIT_POWEROFF);
	CHECK(strstr(logged, "watchdog expired after 0 s: the guest stopped petting it; powering it off"));
	return NULL;
}

/* On real time: each write restarts the period, and the expiry with action none only logs and disarms. */
static const char *test_petting(void)
{
	CHECK_INT(fresh(IB700_NONE), 0);
	out(IB700_PORT_START, 0x0e);			/* 2 s */
	CHECK_INT(run(1200), 0);
	out(IB700_PORT_START, 0x0e);			/* petted at 1.2 s: now due at 3.2 s */
	CHECK_INT(run(1200), 0);
	CHECK_INT(wd->expiries, 0);
	CHECK_INT(run(1500), 1);
	CHECK_INT(wd->expiries, 1);
	CHECK(strstr(logged, "watchdog expired after 2 s: the guest stopped petting it; no action "
		      "(--watchdog-action none)"));
	CHECK_INT(atomic_load(&vm.exit_reason), VM_RUNNING);
	CHECK(remaining() == 0);
	/* Disarmed until the guest writes again. */
	CHECK_INT(run(100), 0);
	CHECK_INT(wd->expiries, 1);
	return NULL;
}

/* A guest that expires it in a loop cannot flood the console: 16 lines, one more saying so, then silence. */
static const char *test_none_bounded(void)
{
	unsigned int i, lines = 0;

	CHECK_INT(fresh(IB700_NONE), 0);
	for (i = 0; i < IB700_MAX_LOGGED + 10; i++) {
		out(IB700_PORT_START, 0x0f);
		lines += (unsigned int)run(1000);
	}
	CHECK_INT(wd->expiries, IB700_MAX_LOGGED + 10);
	CHECK_INT(lines, IB700_MAX_LOGGED + 1);
	CHECK_INT(atomic_load(&vm.exit_reason), VM_RUNNING);
	return NULL;
}

/* A stop that comes after the expiry but before the event thread saw it wins: nothing happens. */
static const char *test_stop_races_expiry(void)
{
	struct timespec ms = { 0, 5000000 };

	CHECK_INT(fresh(IB700_RESET), 0);
	out(IB700_PORT_START, 0x0f);
	nanosleep(&ms, NULL);
	out(IB700_PORT_STOP, 0);
	CHECK_INT(run(200), 0);
	CHECK_INT(wd->expiries, 0);
	CHECK_INT(atomic_load(&vm.exit_reason), VM_RUNNING);
	return NULL;
}

/* A paused VM cannot pet its watchdog: the expiry waits, and the guest gets a new period after the resume. */
static const char *test_paused(void)
{
	CHECK_INT(fresh(IB700_RESET), 0);
	atomic_store(&vm.paused, true);
	out(IB700_PORT_START, 0x0f);
	CHECK_INT(run(500), 0);
	CHECK_INT(wd->expiries, 0);
	CHECK_INT(atomic_load(&vm.exit_reason), VM_RUNNING);
	CHECK(remaining() > 0.4 && remaining() <= 1);	/* 0 s is re-armed as 1 s, not as a busy loop */
	atomic_store(&vm.paused, false);
	CHECK_INT(run(1500), 1);
	CHECK_INT(wd->expiries, 1);
	CHECK_INT(atomic_load(&vm.exit_reason), VM_EXIT_WATCHDOG);
	return NULL;
}

static const char *parse_arg;
static enum ib700_action parsed;
static int parse_ret;

static void parse(void)
{
	parse_ret = ib700_parse_action(parse_arg, &parsed);
}

static const char *test_parse_action(void)
{
	static const char *const names[] = { "reset", "poweroff", "none" };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		parse_arg = names[i];
		CHECK_INT(check_stderr(parse, NULL, 0), 0);
		CHECK_INT(parse_ret, 0);
		CHECK_INT(parsed, i);
	}
	parse_arg = "reboot";
	CHECK_INT(check_stderr(parse, logged, sizeof(logged)), 1);
	CHECK_INT(parse_ret, -EINVAL);
	CHECK(strstr(logged, "--watchdog-action reboot: expected reset, poweroff or none"));
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "ib700-ports-and-periods", test_ports },
		{ "ib700-expiry-resets", test_reset },
		{ "ib700-expiry-powers-off", test_poweroff },
		{ "ib700-petting-and-action-none", test_petting },
		{ "ib700-action-none-log-bounded", test_none_bounded },
		{ "ib700-stop-races-expiry", test_stop_races_expiry },
		{ "ib700-paused-vm", test_paused },
		{ "ib700-parse-action", test_parse_action },
	};
	int ret = check_main(cases, sizeof(cases) / sizeof(cases[0]));

	if (wd)
		ib700_destroy(wd);
	if (loop_made)
		evloop_destroy(&loop);
	return ret;
}
