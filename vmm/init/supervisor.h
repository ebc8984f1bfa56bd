#ifndef SHRIKE_INIT_SUPERVISOR_H
#define SHRIKE_INIT_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "config/partition.h"
#include "init/conout.h"
#include "init/restart.h"
#include "init/statsmap.h"
#include "lib/ring.h"

/*
 * The PID 1's guests (docs/supervisor.md): one `shrike run` child per guest, started in the configuration's start
 * order, restarted by its policy, its console output and its VMM's messages kept in a ring and copied to the
 * appliance console with a "NAME| " prefix, and stopped in reverse order on shutdown. Everything runs on the
 * PID 1's one thread: the supervisor's descriptors (a timer and the guests' output pipes) sit behind one epoll
 * descriptor that the PID 1 polls, and the PID 1 passes SIGCHLD on through supervisor_reap().
 */
#define SUPERVISOR_HISTORY	(64 * 1024)	/* console bytes kept per guest */
#define SUPERVISOR_CTL_DIR	"/run/shrike"
#define SUPERVISOR_LINE_MAX	256		/* a longer console line is shown in pieces */
#define SUPERVISOR_HOLD_MS	200		/* how long a line without its end (a prompt) waits for it */

enum guest_state {
	GUEST_STOPPED,		/* never started, powered off, or stopped on request */
	GUEST_RUNNING,
	GUEST_STOPPING,		/* a shutdown request is out; killed at kill_ms */
	GUEST_BACKOFF,		/* failed; starts again at next_ms */
	GUEST_FAILED,		/* gave up: too many failures in the restart-limit window */
};

struct guest {
	const struct config_guest *cfg;
	unsigned int index;		/* in cfg->guests */
	enum guest_state state;
	pid_t pid;			/* 0 when no VMM runs */
	int out_fd;			/* read end of the VMM's stdout: the guest's console output, -1 */
	int err_fd;			/* read end of the VMM's stderr: its own messages, -1 */
	int in_fd;			/* write end of the VMM's stdin: the guest's console input, -1 */
	char line[SUPERVISOR_LINE_MAX];	/* output not on the console yet: a line without its end */
	size_t line_len;
	uint64_t line_ms;		/* when line[] got its first byte; shown at line_ms + SUPERVISOR_HOLD_MS */
	struct conout_lines messages;	/* the VMM's messages, each shown on a line of its own */
	struct ring history;
	struct statsmap stats;		/* its VMM's counters, of the current or last run */
	bool stop_requested;		/* the exit under way was asked for: do not restart */
	bool start_after_stop;		/* ... except that a reboot was asked for: start it again */
	bool killed;			/* SIGKILL sent after the shutdown timeout */
	uint64_t started_ms, next_ms, kill_ms;
	unsigned int starts, restarts;
	unsigned int exits[RESTART_EXIT_KINDS];
	bool has_exited;
	enum restart_exit last_exit;
	int last_code;			/* exit status or signal number */
	struct restart_history failures;
};

struct supervisor_watch {
	void (*state)(void *opaque, const struct guest *g);
	void (*output)(void *opaque, const struct guest *g, const char *data, size_t len);
	/* A new configuration took over: old guest i is now guest map[i], or gone when map[i] is -1. */
	void (*reindex)(void *opaque, const int map[CONFIG_MAX_GUESTS], unsigned int old_count);
};

/* What a new configuration does to each guest (PUT /v1/config). */
enum supervisor_step {
	STEP_KEEP,		/* the same VMM configuration: not touched (policy changes take effect in place) */
	STEP_RESTART,		/* changed while running (or waiting to restart): stopped, then started anew */
	STEP_START,		/* new, with autostart */
	STEP_UPDATE,		/* changed or new while stopped: the new configuration, not started */
};

struct supervisor_plan {
	unsigned int old_count, new_count;
	int from[CONFIG_MAX_GUESTS];		/* new guest j's index in the old configuration, -1 if new */
	enum supervisor_step step[CONFIG_MAX_GUESTS];	/* of new guest j */
	bool retire[CONFIG_MAX_GUESTS];		/* old guest i must be down before the switch: changed or removed */
	bool removed[CONFIG_MAX_GUESTS];	/* old guest i is not in the new configuration */
	char old_names[CONFIG_MAX_GUESTS][CONFIG_NAME_MAX + 1];
	bool reboot_required;			/* [host], [mgmt] or bridges differ: they wait for the next boot */
};

/*
 * Compares a running configuration (state[i] of each old guest) with the next one. A guest with a bridge NIC
 * whose index moves is changed even if its section is not: its taps are named after the index.
 */
void supervisor_plan(const struct config *old, const enum guest_state *state, const struct config *next,
		     struct supervisor_plan *plan);

struct supervisor {
	struct config cfg;
	bool configured;		/* false: the safe state, no guests */
	struct partition part;		/* the config partition's current slot: shrike.conf, TLS files, user data */
	char config_dev[64];		/* its block device */
	const char *config_text;	/* shrike.conf as written (in part, not NUL-terminated), NULL if none */
	size_t config_len;
	/* What the host runs with: [host] and [mgmt] of the boot configuration, until the next boot. */
	struct config_host host;
	struct config_mgmt mgmt;
	/* A configuration written and being applied: it takes over once the guests it retires are down. */
	struct config *next_cfg;	/* NULL when no apply is under way */
	struct partition next_part;	/* the slot it was written to */
	struct supervisor_plan plan;
	bool reboot_required;		/* a configuration written since boot changed [host], [mgmt] or bridges */
	struct guest guests[CONFIG_MAX_GUESTS];
	unsigned int order[CONFIG_MAX_GUESTS], norder;
	int epoll_fd, timer_fd;
	bool shutting_down;
	struct conout *con;		/* the appliance console */
	/* Told about guests' state changes and output (the management port's subscriptions); may be NULL. */
	const struct supervisor_watch *watch;
	void *watch_opaque;
	/* Told about children that are no guest's VMM (the management server); NULL: just reaped. */
	void (*other_exited)(void *opaque, pid_t pid, int wstatus);
	void *other_opaque;
};

/* Creates the epoll and timer descriptors; what it shows goes to con. Returns 0 or -errno. */
int supervisor_init(struct supervisor *sv, struct conout *con);

/* Loads the configuration, mounts the data partition, sets the hostname and starts the autostart guests. */
void supervisor_boot(struct supervisor *sv);

/* The descriptor the PID 1 polls for POLLIN; then it calls supervisor_dispatch(). */
int supervisor_fd(const struct supervisor *sv);
void supervisor_dispatch(struct supervisor *sv);

/* Reaps every child that has exited (guests and orphans alike). Call on SIGCHLD. */
void supervisor_reap(struct supervisor *sv);

/*
 * Starts the orderly shutdown: no more restarts, and each running guest gets an ACPI shutdown request once the
 * guests started after it that depend on it are down, and SIGKILL after its shutdown-timeout.
 */
void supervisor_shutdown(struct supervisor *sv);
/* True once no guest's VMM runs. */
bool supervisor_idle(const struct supervisor *sv);

/* Console commands. Each says what it did or why not on the console; return 0 or -errno. */
int supervisor_start(struct supervisor *sv, const char *name);
int supervisor_stop(struct supervisor *sv, const char *name);
/* A shutdown request, then a start once it is down (virsh reboot). */
int supervisor_reboot(struct supervisor *sv, const char *name);
int supervisor_kill(struct supervisor *sv, const char *name);
/* SIGKILL, and it stays stopped (virsh destroy). */
int supervisor_destroy(struct supervisor *sv, const char *name);
/* Types len bytes into the guest's console. Returns 0, -EINVAL if it does not run, -EBUSY if its input is full. */
int supervisor_input(struct guest *g, const void *data, size_t len);
void supervisor_list(const struct supervisor *sv);
int supervisor_show(struct supervisor *sv, const char *name);

const char *supervisor_state_name(enum guest_state state);

/*
 * PUT /v1/config: checks text as the boot would (config_load() with the host's memory, payload files taken from
 * the current slot), writes it to the config partition's other slot, and starts applying it (the stops it needs
 * go on after the return). Errors go to errs. Returns 0 with plan and *generation filled, -EINVAL (errs says
 * why), -EBUSY while another apply is under way or during the shutdown, -ENODEV in the safe state, or -EIO
 * when the write failed; on an error nothing changed.
 */
int supervisor_config_put(struct supervisor *sv, const char *text, size_t len, struct config_errors *errs,
			  struct supervisor_plan *plan, uint64_t *generation);

/* PUT /v1/guests/NAME/autostart: the autostart line of NAME's section rewritten and put as above. */
int supervisor_set_autostart(struct supervisor *sv, const char *name, bool autostart, struct config_errors *errs);

#endif
