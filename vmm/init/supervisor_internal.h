#ifndef SHRIKE_INIT_SUPERVISOR_INTERNAL_H
#define SHRIKE_INIT_SUPERVISOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "init/supervisor.h"

/*
 * What the supervisor's files share among themselves and nobody else: supervisor.c (the guests' lives),
 * supervisor_output.c (their console output on the appliance console) and supervisor_apply.c (a new
 * configuration taking over).
 */

static inline uint64_t supervisor_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline bool supervisor_guest_alive(const struct guest *g)
{
	return g->pid > 0;
}

struct guest *supervisor_guest_find(struct supervisor *sv, const char *name);
void supervisor_set_state(struct supervisor *sv, struct guest *g, enum guest_state state);
/* Starts g's VMM; a start that fails counts as a failed run for the restart policy. Returns 0 or -errno. */
int supervisor_guest_start(struct supervisor *sv, struct guest *g);
/* The ACPI shutdown request, repeated until g's shutdown-timeout, then SIGKILL. */
void supervisor_request_stop(struct supervisor *sv, struct guest *g, uint64_t now);
/* What follows any event: the shutdown's and the apply's next steps, and the timer for the next deadline. */
void supervisor_after_event(struct supervisor *sv);

/* Reads g's output pipe: all it holds when drain, else one chunk. Closes it at its end. */
void supervisor_output_read(struct supervisor *sv, struct guest *g, bool drain);
/* Closes g's output pipe, showing what it left without a line end. */
void supervisor_output_close(struct supervisor *sv, struct guest *g);
/* Shows the held lines (prompts) that have waited SUPERVISOR_HOLD_MS by now. */
void supervisor_output_expire(struct supervisor *sv, uint64_t now);

/* Called by supervisor_after_event() while a new configuration is being applied: switches once it can. */
void supervisor_apply_step(struct supervisor *sv);

#endif
