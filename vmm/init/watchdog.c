#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "init/watchdog.h"
#include "lib/log.h"

/* What the kernel's drivers default to when the device cannot say (softdog's default). */
#define DEFAULT_TIMEOUT_S	60

int watchdog_open(struct watchdog *w, const char *path)
{
	struct itimerspec its = { 0 };
	int interval, ret;

	w->dev_fd = w->timer_fd = -1;
	w->dev_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (w->dev_fd < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO)
			return 0;
		log_error("watchdog: %s: %s", path, strerror(-ret));
		return ret;
	}
	if (ioctl(w->dev_fd, WDIOC_GETTIMEOUT, &w->timeout_s) < 0 || w->timeout_s <= 0)
		w->timeout_s = DEFAULT_TIMEOUT_S;
	interval = w->timeout_s / 3 > 0 ? w->timeout_s / 3 : 1;
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->timer_fd < 0) {
		ret = -errno;
		goto fail;
	}
	its.it_value.tv_sec = interval;
	its.it_interval.tv_sec = interval;
	if (timerfd_settime(w->timer_fd, 0, &its, NULL) < 0) {
		ret = -errno;
		goto fail;
	}
	watchdog_pet(w);
	log_info("watchdog: %s, timeout %d s, petted every %d s", path, w->timeout_s, interval);
	return 0;
fail:
	log_error("watchdog: timer: %s", strerror(-ret));
	/* Without a timer nobody would pet it: close it with the magic character so that it stops counting. */
	if (write(w->dev_fd, "V", 1) < 0)
		log_error("watchdog: magic close: %s", strerror(errno));
	close(w->dev_fd);
	if (w->timer_fd >= 0)
		close(w->timer_fd);
	w->dev_fd = w->timer_fd = -1;
	return ret;
}

void watchdog_pet(struct watchdog *w)
{
	uint64_t expirations;

	if (w->timer_fd >= 0 && read(w->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_error("watchdog: timer: %s", strerror(errno));
	if (w->dev_fd >= 0 && ioctl(w->dev_fd, WDIOC_KEEPALIVE, 0) < 0)
		log_error("watchdog: keepalive: %s", strerror(errno));
}
