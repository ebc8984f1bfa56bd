#ifndef SHRIKE_INIT_RESTART_H
#define SHRIKE_INIT_RESTART_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

/*
 * The restart policy of one guest (docs/supervisor.md), apart from processes and clocks so it can be tested: what
 * an exit of the guest's VMM was, and what to do about it. Times are milliseconds of CLOCK_MONOTONIC.
 */
#define RESTART_FIRST_DELAY_MS	1000ULL
#define RESTART_MAX_DELAY_MS	(300ULL * 1000)
/* config.md's upper bound of restart-limit COUNT: the window never needs more failure times than that. */
#define RESTART_MAX_FAILURES	1000

enum restart_exit {
	RESTART_EXIT_POWEROFF,	/* status 0: the guest powered off */
	RESTART_EXIT_REBOOT,	/* status 10 */
	RESTART_EXIT_CRASH,	/* status 11 */
	RESTART_EXIT_STOPPED,	/* status 12: the VMM was told to stop (SIGTERM, ctl stop) */
	RESTART_EXIT_ERROR,	/* any other status: the VMM could not run the guest */
	RESTART_EXIT_SIGNAL,	/* the VMM itself died of a signal */
	RESTART_EXIT_WATCHDOG,	/* status 13: the guest's watchdog expired */
	RESTART_EXIT_KINDS
};

enum restart_action {
	RESTART_NONE,		/* leave it stopped */
	RESTART_NOW,
	RESTART_LATER,		/* after delay_ms */
	RESTART_GIVE_UP,	/* too many failures in the window */
};

/* Failure times within the window, oldest first in a ring. */
struct restart_history {
	uint64_t at[RESTART_MAX_FAILURES];
	unsigned int head, count;
};

struct restart_decision {
	enum restart_action action;
	uint64_t delay_ms;
	unsigned int failures;	/* in the window, this one included */
	uint64_t span_ms;	/* from the oldest of those to now */
};

/* What a waitpid() status of a VMM was; *code gets the exit status or the signal number. */
enum restart_exit restart_classify(int wstatus, int *code);
/* Counts as a failure for the backoff and the give-up limit. */
bool restart_is_failure(enum restart_exit kind);
const char *restart_exit_name(enum restart_exit kind);

void restart_reset(struct restart_history *h);

/*
 * Decides after an exit at now_ms that nobody asked for (a stop or shutdown request leaves the guest stopped
 * without asking). A reboot restarts at once whatever the policy, as libvirt's on_reboot=restart. A failure is
 * recorded in h, and the delay doubles with each failure still in the window: 1 s, 2 s, 4 s, ... 5 min.
 */
void restart_decide(const struct config_guest *g, struct restart_history *h, enum restart_exit kind, uint64_t now_ms,
		    struct restart_decision *d);

#endif
