#ifndef SHRIKE_INIT_WATCHDOG_H
#define SHRIKE_INIT_WATCHDOG_H

/*
 * The hardware (or soft) watchdog: once PID 1 opens /dev/watchdog it must write to it within the device's
 * timeout, or the box reboots. So a PID 1 that hangs (a blocked write, an endless loop) takes the box down and
 * back up instead of leaving the guests unsupervised for ever. PID 1 pets it from its poll loop, through a
 * timerfd at a third of the timeout: a poll loop that stops turning stops the petting.
 */
struct watchdog {
	int dev_fd;		/* /dev/watchdog, -1 without one */
	int timer_fd;		/* fires every interval; -1 without a watchdog */
	int timeout_s;
};

/* Opens path if it exists and starts the timer. Returns 0 (also without a watchdog) or -errno (logged). */
int watchdog_open(struct watchdog *w, const char *path);

/* Call when timer_fd is readable: consumes the expiry and pets the device. */
void watchdog_pet(struct watchdog *w);

#endif
