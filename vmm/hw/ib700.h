#ifndef SHRIKE_HW_IB700_H
#define SHRIKE_HW_IB700_H

#include <pthread.h>
#include <stdbool.h>

#include "kvm/vm.h"
#include "lib/evloop.h"

/*
 * The watchdog of the iBASE IB700 single-board computer, as QEMU's `-device ib700` offers it, because every Linux
 * has its driver (ib700wdt, CONFIG_IB700_WDT: /dev/watchdog) and it needs no bus: a write of V to the start port
 * (0x443) arms the timer, or restarts it, for 30 - 2 * (V & 0xf) seconds (0 to 30); a write of anything to the stop
 * port (0x441) disarms it. Each answers at the next port too, so the word-sized OUT of the board's manual lands.
 * Reads return all ones. The timer is a timerfd on the VMM's event thread; when it expires the device logs
 * "watchdog expired after N s: ..." and does what the action says. A paused VM (ctl pause) does not expire:
 * the guest gets a whole new period.
 */
#define IB700_PORT_STOP		0x441
#define IB700_PORT_START	0x443
#define IB700_NR_PORTS		4	/* 0x441-0x444 */
#define IB700_MAX_TIMEOUT_S	30
/* With action none a guest could expire it in a loop (period 0 s): the lines stop after this many. */
#define IB700_MAX_LOGGED	16

enum ib700_action {
	IB700_RESET,		/* the VM ends with VM_EXIT_WATCHDOG: `run` exits with its own status, the supervisor restarts */
	IB700_POWEROFF,		/* the VM ends as if the guest had powered off */
	IB700_NONE,		/* the line is logged, nothing else */
};

struct ib700 {
	struct vm *vm;
	struct evloop *loop;
	enum ib700_action action;
	pthread_mutex_t lock;		/* the vCPUs' port writes against the event thread's expiry */
	int timer_fd;
	struct evloop_watch w;
	unsigned int timeout_s;		/* of the last start write */
	unsigned int expiries;		/* under lock */
};

/*
 * "reset", "poweroff" or "none" into *action; anything else is logged and -EINVAL. Weak, because run's option
 * parser calls it and a build without CONFIG_HW_WATCHDOG leaves the device out: run then refuses the option first.
 */
int ib700_parse_action(const char *s, enum ib700_action *action) __attribute__((weak));
/* Registers the ports and watches the timer on loop. Returns 0 with the device in *out, or -errno (logged). */
int ib700_create(struct vm *vm, struct evloop *loop, enum ib700_action action, struct ib700 **out);
/* After the event thread has stopped. */
void ib700_destroy(struct ib700 *wd);

#endif
