#include <sys/wait.h>

#include "init/restart.h"

/* The exit statuses of `shrike run` (docs/vmm.md). */
#define RUN_STATUS_POWEROFF	0
#define RUN_STATUS_REBOOT	10
#define RUN_STATUS_CRASH	11
#define RUN_STATUS_STOPPED	12
#define RUN_STATUS_WATCHDOG	13

static const char *const exit_names[RESTART_EXIT_KINDS] = {
	[RESTART_EXIT_POWEROFF] = "poweroff",
	[RESTART_EXIT_REBOOT] = "reboot",
	[RESTART_EXIT_CRASH] = "crash",
	[RESTART_EXIT_STOPPED] = "stopped",
	[RESTART_EXIT_ERROR] = "error",
	[RESTART_EXIT_SIGNAL] = "signal",
	[RESTART_EXIT_WATCHDOG] = "watchdog",
};

enum restart_exit restart_classify(int wstatus, int *code)
{
	if (WIFSIGNALED(wstatus)) {
		*code = WTERMSIG(wstatus);
		return RESTART_EXIT_SIGNAL;
	}
	*code = WEXITSTATUS(wstatus);
	switch (*code) {
	case RUN_STATUS_POWEROFF:
		return RESTART_EXIT_POWEROFF;
	case RUN_STATUS_REBOOT:
		return RESTART_EXIT_REBOOT;
	case RUN_STATUS_CRASH:
		return RESTART_EXIT_CRASH;
	case RUN_STATUS_STOPPED:
		return RESTART_EXIT_STOPPED;
	case RUN_STATUS_WATCHDOG:
		return RESTART_EXIT_WATCHDOG;
	default:
		return RESTART_EXIT_ERROR;
	}
}

bool restart_is_failure(enum restart_exit kind)
{
	/* A stop nobody asked for (another process sent SIGTERM) is as unplanned as a crash. */
	return kind != RESTART_EXIT_POWEROFF && kind != RESTART_EXIT_REBOOT;
}

const char *restart_exit_name(enum restart_exit kind)
{
	return kind < RESTART_EXIT_KINDS ? exit_names[kind] : "unknown";
}

void restart_reset(struct restart_history *h)
{
	h->head = 0;
	h->count = 0;
}

/* Forgets failures older than the window, and beyond limit (the config may have changed since they were kept). */
static void expire(struct restart_history *h, uint64_t window_ms, unsigned int limit, uint64_t now_ms)
{
	while (h->count && (h->count > limit || now_ms - h->at[h->head] >= window_ms)) {
		h->head = (h->head + 1) % RESTART_MAX_FAILURES;
		h->count--;
	}
}

static void record(struct restart_history *h, uint64_t now_ms)
{
	if (h->count == RESTART_MAX_FAILURES) {
		h->head = (h->head + 1) % RESTART_MAX_FAILURES;
		h->count--;
	}
	h->at[(h->head + h->count) % RESTART_MAX_FAILURES] = now_ms;
	h->count++;
}

void restart_decide(const struct config_guest *g, struct restart_history *h, enum restart_exit kind, uint64_t now_ms,
		    struct restart_decision *d)
{
	unsigned int limit = g->restart_limit_count;
	unsigned int shift;

	if (limit < 1)
		limit = 1;
	if (limit > RESTART_MAX_FAILURES)
		limit = RESTART_MAX_FAILURES;
	expire(h, (uint64_t)g->restart_limit_seconds * 1000, limit, now_ms);
	d->action = RESTART_NONE;
	d->delay_ms = 0;
	d->failures = h->count;
	d->span_ms = h->count ? now_ms - h->at[h->head] : 0;

	if (kind == RESTART_EXIT_REBOOT) {
		d->action = RESTART_NOW;
		return;
	}
	if (!restart_is_failure(kind)) {
		if (g->restart == CONFIG_RESTART_ALWAYS)
			d->action = RESTART_NOW;
		return;
	}
	if (g->restart == CONFIG_RESTART_NO)
		return;

	expire(h, (uint64_t)g->restart_limit_seconds * 1000, limit - 1, now_ms);
	record(h, now_ms);
	d->failures = h->count;
	d->span_ms = now_ms - h->at[h->head];
	if (h->count >= limit) {
		d->action = RESTART_GIVE_UP;
		return;
	}
	shift = h->count - 1;
	d->action = RESTART_LATER;
	d->delay_ms = shift >= 9 ? RESTART_MAX_DELAY_MS : RESTART_FIRST_DELAY_MS << shift;
	if (d->delay_ms > RESTART_MAX_DELAY_MS)
		d->delay_ms = RESTART_MAX_DELAY_MS;
}
