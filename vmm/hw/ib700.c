#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hw/ib700.h"
#include "lib/log.h"
#include "run/devices.h"

static const char *const action_names[] = {
	[IB700_RESET] = "reset",
	[IB700_POWEROFF] = "poweroff",
	[IB700_NONE] = "none",
};

int ib700_parse_action(const char *s, enum ib700_action *action)
{
	unsigned int i;

	for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(s, action_names[i])) {
			*action = (enum ib700_action)i;
			return 0;
		}
	log_error("--watchdog-action %s: expected reset, poweroff or none", s);
	return -EINVAL;
}

/* Under lock. 0 s is the board's shortest period: expire at once, which a zero it_value would not do (it disarms). */
static void arm(struct ib700 *wd, unsigned int seconds)
{
	struct itimerspec its = { .it_value = { .tv_sec = seconds, .tv_nsec = seconds ? 0 : 1 } };

	if (timerfd_settime(wd->timer_fd, 0, &its, NULL) < 0)
		log_error("watchdog: timerfd_settime: %s", strerror(errno));
}

static void disarm(struct ib700 *wd)
{
	struct itimerspec its = { 0 };

	if (timerfd_settime(wd->timer_fd, 0, &its, NULL) < 0)
		log_error("watchdog: timerfd_settime: %s", strerror(errno));
}

/* On a vCPU thread. Only the low byte counts: Linux writes a byte, the board's manual a word. */
static void ib700_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct ib700 *wd = opaque;

	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&wd->lock);
	if (addr >= IB700_PORT_START) {
		wd->timeout_s = IB700_MAX_TIMEOUT_S - 2 * (data[0] & 0xfu);
		arm(wd, wd->timeout_s);
	} else {
		disarm(wd);
	}
	pthread_mutex_unlock(&wd->lock);
}

/* On the event thread. */
static void ib700_expired(struct evloop_watch *w, uint32_t events)
{
	struct ib700 *wd = w->opaque;
	unsigned int timeout, nr;
	uint64_t ticks;

	(void)events;
	pthread_mutex_lock(&wd->lock);
	/* Nothing to read: the guest restarted or stopped the timer between its expiry and now. */
	if (read(wd->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks)) {
		pthread_mutex_unlock(&wd->lock);
		return;
	}
	timeout = wd->timeout_s;
	if (atomic_load(&wd->vm->paused)) {
		/* A paused guest cannot pet it; once resumed it has a whole period again. */
		arm(wd, timeout ? timeout : 1);
		pthread_mutex_unlock(&wd->lock);
		return;
	}
	nr = ++wd->expiries;
	pthread_mutex_unlock(&wd->lock);
	switch (wd->action) {
	case IB700_RESET:
		log_info("watchdog expired after %u s: the guest stopped petting it; resetting it", timeout);
		vm_request_exit(wd->vm, VM_EXIT_WATCHDOG);
		break;
	case IB700_POWEROFF:
		log_info("watchdog expired after %u s: the guest stopped petting it; powering it off", timeout);
		vm_request_exit(wd->vm, VM_EXIT_POWEROFF);
		break;
	case IB700_NONE:
		if (nr <= IB700_MAX_LOGGED)
			log_info("watchdog expired after %u s: the guest stopped petting it; no action "
				 "(--watchdog-action none)", timeout);
		else if (nr == IB700_MAX_LOGGED + 1)
			log_info("watchdog: more than %d expiries; not logging the rest", IB700_MAX_LOGGED);
		break;
	}
}

int ib700_create(struct vm *vm, struct evloop *loop, enum ib700_action action, struct ib700 **out)
{
	struct ib700 *wd = calloc(1, sizeof(*wd));
	int ret;

	if (!wd) {
		log_error("watchdog: out of memory");
		return -ENOMEM;
	}
	*wd = (struct ib700){ .vm = vm, .loop = loop, .action = action, .timeout_s = IB700_MAX_TIMEOUT_S };
	pthread_mutex_init(&wd->lock, NULL);
	wd->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (wd->timer_fd < 0) {
		ret = -errno;
		log_error("watchdog: timerfd_create: %s", strerror(-ret));
		goto fail;
	}
	wd->w = (struct evloop_watch){ .fd = wd->timer_fd, .fn = ib700_expired, .opaque = wd };
	ret = evloop_add(loop, &wd->w, EPOLLIN);
	if (ret < 0)
		goto fail;
	ret = iotrap_register(&vm->io, IOTRAP_PIO, IB700_PORT_STOP, IB700_NR_PORTS, ib700_io, wd);
	if (ret < 0) {
		log_error("watchdog: ports 0x%x-0x%x: %s", IB700_PORT_STOP, IB700_PORT_STOP + IB700_NR_PORTS - 1,
			  strerror(-ret));
		evloop_del(loop, &wd->w);
		goto fail;
	}
	*out = wd;
	return 0;
fail:
	if (wd->timer_fd >= 0)
		close(wd->timer_fd);
	pthread_mutex_destroy(&wd->lock);
	free(wd);
	return ret;
}

void ib700_destroy(struct ib700 *wd)
{
	evloop_del(wd->loop, &wd->w);
	close(wd->timer_fd);
	pthread_mutex_destroy(&wd->lock);
	free(wd);
}

static void ib700_run_destroy(void *opaque)
{
	ib700_destroy(opaque);
}

/* Every guest gets the watchdog; one that never opens /dev/watchdog never arms it. */
static int ib700_run_create(struct run_device_env *env)
{
	struct ib700 *wd;
	int ret = ib700_create(env->vm, env->loop, env->opts->watchdog, &wd);

	if (ret < 0)
		return ret;
	ret = run_devices_on_teardown(env, ib700_run_destroy, wd);
	if (ret < 0)
		ib700_destroy(wd);
	return ret;
}

RUN_DEVICE(hw_ib700, "ib700", 60, ib700_run_create);
