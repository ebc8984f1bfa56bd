#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init/bootconf.h"
#include "init/hostnet.h"
#include "init/partlabel.h"
#include "init/procscan.h"
#include "init/supervisor_args.h"
#include "init/supervisor_internal.h"
#include "lib/log.h"

/*
 * A guest that was still booting when its shutdown request came has no power button driver yet and never sees
 * the press; pressing again this often until its shutdown-timeout catches it once it is up.
 */
#define PRESS_AGAIN_MS	5000
#define EPOLL_TIMER	0	/* epoll data: 0 the timer, i + 1 guest i's output pipes */

static const char *const state_names[] = {
	[GUEST_STOPPED] = "stopped",
	[GUEST_RUNNING] = "running",
	[GUEST_STOPPING] = "stopping",
	[GUEST_BACKOFF] = "backoff",
	[GUEST_FAILED] = "failed",
};

const char *supervisor_state_name(enum guest_state state)
{
	return state <= GUEST_FAILED ? state_names[state] : "unknown";
}

/* "10m", "1h30m", "15s": how config.md writes durations. */
static const char *duration(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = (ms + 500) / 1000;
	size_t len = 0;

	buf[0] = '\0';
	if (s >= 3600)
		len += (size_t)snprintf(buf + len, size - len, "%lluh", (unsigned long long)(s / 3600));
	if (s % 3600 >= 60 && len < size)
		len += (size_t)snprintf(buf + len, size - len, "%llum", (unsigned long long)(s % 3600 / 60));
	if ((s % 60 || !s) && len < size)
		snprintf(buf + len, size - len, "%llus", (unsigned long long)(s % 60));
	return buf;
}

/* How an exit reads on the console: "powered off", "killed by signal 9 (Killed)", ... */
static const char *exit_text(enum restart_exit kind, int code, char *buf, size_t size)
{
	switch (kind) {
	case RESTART_EXIT_POWEROFF:
		return "powered off";
	case RESTART_EXIT_REBOOT:
		return "rebooted";
	case RESTART_EXIT_CRASH:
		return "crashed (exit status 11)";
	case RESTART_EXIT_STOPPED:
		return "stopped by a signal to its VMM (exit status 12)";
	case RESTART_EXIT_WATCHDOG:
		return "watchdog expired, the guest hung (exit status 13)";
	case RESTART_EXIT_SIGNAL:
		snprintf(buf, size, "VMM killed by signal %d (%s)", code, strsignal(code));
		return buf;
	default:
		snprintf(buf, size, "VMM failed (exit status %d)", code);
		return buf;
	}
}

void supervisor_set_state(struct supervisor *sv, struct guest *g, enum guest_state state)
{
	g->state = state;
	if (sv->watch && sv->watch->state)
		sv->watch->state(sv->watch_opaque, g);
}

struct guest *supervisor_guest_find(struct supervisor *sv, const char *name)
{
	unsigned int i;

	for (i = 0; i < sv->cfg.nguests; i++)
		if (!strcmp(sv->guests[i].cfg->name, name))
			return &sv->guests[i];
	return NULL;
}

static void arm_timer(struct supervisor *sv)
{
	struct itimerspec its = { 0 };
	uint64_t next = UINT64_MAX, t;
	unsigned int i;

	for (i = 0; i < sv->cfg.nguests; i++) {
		const struct guest *g = &sv->guests[i];

		if (g->state == GUEST_BACKOFF)
			t = g->next_ms;
		else if (g->state == GUEST_STOPPING && !g->killed)
			t = g->kill_ms < g->next_ms ? g->kill_ms : g->next_ms;
		else
			t = UINT64_MAX;
		if (g->line_len && g->line_ms + SUPERVISOR_HOLD_MS < t)
			t = g->line_ms + SUPERVISOR_HOLD_MS;
		if (t < next)
			next = t;
	}
	if (next != UINT64_MAX) {
		/* 0 would disarm the timer; a deadline already past fires at once. */
		if (!next)
			next = 1;
		its.it_value.tv_sec = (time_t)(next / 1000);
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
	}
	if (timerfd_settime(sv->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_error("supervisor: timerfd_settime: %s", strerror(errno));
}

/* The user data the metadata service serves, from the config partition; written anew at each start. */
static int write_user_data(struct supervisor *sv, const struct config_guest *c)
{
	const struct partition_file *f;
	char path[sizeof(SUPERVISOR_CTL_DIR) + CONFIG_NAME_MAX + 16];
	unsigned int i;
	int ret;

	if (!c->user_data[0])
		return 0;
	for (i = 0; i < c->nnics && c->nics[i].kind != CONFIG_NIC_USER; i++)
		;
	if (i == c->nnics)
		return 0;	/* no metadata service to serve it */
	f = partition_find(&sv->part, c->user_data);
	if (!f) {
		log_error("guest %s: user-data %s is not in the config partition", c->name, c->user_data);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/%s.user-data", SUPERVISOR_CTL_DIR, c->name);
	ret = bootconf_write_file(path, f->data, f->len);
	if (ret < 0)
		log_error("guest %s: writing %s: %s", c->name, path, strerror(-ret));
	return ret;
}

/* The taps of the guest's bridge NICs, ready for its VMM to open: named as in supervisor_build_args(). */
static int attach_taps(const struct guest *g)
{
	const struct config_guest *c = g->cfg;
	char tap[CONFIG_IFNAME_MAX + 1];
	unsigned int i;
	int ret;

	for (i = 0; i < c->nnics; i++) {
		if (c->nics[i].kind != CONFIG_NIC_BRIDGE)
			continue;
		snprintf(tap, sizeof(tap), "vm%un%u", g->index, i);
		ret = hostnet_tap_attach(tap, c->nics[i].bridge);
		if (ret < 0) {
			log_error("guest %s: nic %u: tap %s on bridge %s could not be set up", c->name, i, tap,
				  c->nics[i].bridge);
			return ret;
		}
	}
	return 0;
}

/* The child's side of a start: never returns. */
static _Noreturn void exec_vmm(const struct guest *g, const struct supervisor_args *a, int in, int out, int err,
			       int stats)
{
	sigset_t keep;

	/*
	 * The VMM blocks these itself and reads them from a signalfd; blocked across exec, one sent before it gets
	 * there (a shutdown of a guest that just started) is kept pending instead of killing it. Everything else
	 * the PID 1 blocks must reach the VMM normally.
	 */
	sigemptyset(&keep);
	sigaddset(&keep, SIGTERM);
	sigaddset(&keep, SIGINT);
	sigaddset(&keep, SIGPWR);
	sigprocmask(SIG_SETMASK, &keep, NULL);
	/* Its own session: keys typed on the appliance console must not signal it. */
	setsid();
	/* A pipe, not the appliance console: PID 1 reads that one, and writes what operators type for the guest. */
	dup2(in, STDIN_FILENO);
	if (in > STDERR_FILENO)
		close(in);
	/* The guest's console on stdout, the VMM's own messages on stderr: PID 1 shows each on lines of their own. */
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	if (out > STDERR_FILENO)
		close(out);
	if (err > STDERR_FILENO)
		close(err);
	if (chdir("/") < 0)
		_exit(127);
	if (stats >= 0)
		fcntl(stats, F_SETFD, 0);	/* the one descriptor besides 0-2 that the VMM keeps */
	/* execv() takes char *const[] for historical reasons; it does not write to the strings. */
	execv("/proc/self/exe", (char *const *)(uintptr_t)a->argv);
	execv("/bin/shrike", (char *const *)(uintptr_t)a->argv);
	log_error("guest %s: exec /bin/shrike: %s", g->cfg->name, strerror(errno));
	_exit(127);
}

static void on_exit_status(struct supervisor *sv, struct guest *g, int wstatus);

static void close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/* A pipe end PID 1 reads, non-blocking and watched; -1 if epoll refuses it (then that output is lost). */
static int watch_pipe(struct supervisor *sv, const struct guest *g, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = g->index + 1 };

	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (!epoll_ctl(sv->epoll_fd, EPOLL_CTL_ADD, fd, &ev))
		return fd;
	log_error("guest %s: epoll_ctl: %s; its output is lost", g->cfg->name, strerror(errno));
	close(fd);
	return -1;
}

int supervisor_guest_start(struct supervisor *sv, struct guest *g)
{
	static struct supervisor_args args;	/* 20 KiB: not on the PID 1's stack */
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 }, ret, stats = -1;
	pid_t pid;

	if (!g->history.buf) {
		ret = ring_init(&g->history, SUPERVISOR_HISTORY);
		if (ret < 0) {
			log_error("guest %s: console history: %s", g->cfg->name, strerror(-ret));
			return ret;
		}
	}
	ret = supervisor_build_args(g->cfg, g->index, PARTLABEL_SYSFS, &args);
	if (!ret)
		ret = write_user_data(sv, g->cfg);
	if (!ret)
		ret = attach_taps(g);
	/* Without its counters a guest still runs: statsmap_create() said why. */
	if (!ret && (stats = statsmap_create(&g->stats, g->cfg->name)) >= 0) {
		snprintf(args.stats_fd, sizeof(args.stats_fd), "%d", stats);
		ret = supervisor_args_add(&args, "--stats-fd", args.stats_fd);
	}
	if (ret < 0)
		goto fail;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0) {
		ret = -errno;
		log_error("guest %s: pipe: %s", g->cfg->name, strerror(-ret));
		goto close_pipes;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		log_error("guest %s: fork: %s", g->cfg->name, strerror(-ret));
		goto close_pipes;
	}
	if (!pid)
		exec_vmm(g, &args, in[0], out[1], err[1], stats);
	if (stats >= 0)
		close(stats);
	close(out[1]);
	close(err[1]);
	close(in[0]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	g->in_fd = in[1];
	g->out_fd = watch_pipe(sv, g, out[0]);
	g->err_fd = watch_pipe(sv, g, err[0]);
	g->pid = pid;
	g->stop_requested = false;
	g->killed = false;
	g->started_ms = supervisor_now_ms();
	if (g->starts++)
		g->restarts++;
	supervisor_set_state(sv, g, GUEST_RUNNING);
	log_info("guest %s: started (pid %d)", g->cfg->name, (int)pid);
	return 0;
close_pipes:
	close_pipe(out);
	close_pipe(err);
	close_pipe(in);
fail:
	if (stats >= 0)
		close(stats);
	/* A start that failed before a VMM ran counts as the VMM failing: the restart policy decides. */
	g->starts++;
	on_exit_status(sv, g, 1 << 8);
	return ret;
}

void supervisor_request_stop(struct supervisor *sv, struct guest *g, uint64_t now)
{
	char d[32];

	g->stop_requested = true;
	supervisor_set_state(sv, g, GUEST_STOPPING);
	g->kill_ms = now + (uint64_t)g->cfg->shutdown_timeout * 1000;
	g->next_ms = now + PRESS_AGAIN_MS;
	log_info("guest %s: shutdown requested (killed after %s)", g->cfg->name,
		 duration((uint64_t)g->cfg->shutdown_timeout * 1000, d, sizeof(d)));
	if (kill(g->pid, SIGPWR) < 0)
		log_error("guest %s: kill %d SIGPWR: %s", g->cfg->name, (int)g->pid, strerror(errno));
}

/* True while a guest that names g in `after` still runs: g must outlive it. */
static bool has_live_dependent(const struct supervisor *sv, const struct guest *g)
{
	unsigned int i, j;

	for (i = 0; i < sv->cfg.nguests; i++) {
		const struct guest *h = &sv->guests[i];

		if (!supervisor_guest_alive(h))
			continue;
		for (j = 0; j < h->cfg->nafter; j++)
			if (h->cfg->after[j] == g->index)
				return true;
	}
	return false;
}

static void shutdown_step(struct supervisor *sv, uint64_t now)
{
	unsigned int i;

	for (i = sv->norder; i-- > 0;) {
		struct guest *g = &sv->guests[sv->order[i]];

		if (g->state == GUEST_RUNNING && !has_live_dependent(sv, g))
			supervisor_request_stop(sv, g, now);
	}
}

static void on_timer(struct supervisor *sv)
{
	uint64_t expirations, now = supervisor_now_ms();
	unsigned int i;
	char d[32];

	if (read(sv->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_error("supervisor: timerfd: %s", strerror(errno));
	supervisor_output_expire(sv, now);
	for (i = 0; i < sv->cfg.nguests; i++) {
		struct guest *g = &sv->guests[i];

		if (g->state == GUEST_BACKOFF && g->next_ms <= now && !sv->shutting_down) {
			supervisor_guest_start(sv, g);
		} else if (g->state == GUEST_STOPPING && supervisor_guest_alive(g) && !g->killed && g->kill_ms <= now) {
			log_info("guest %s: not powered off after %s; killing it", g->cfg->name,
				 duration((uint64_t)g->cfg->shutdown_timeout * 1000, d, sizeof(d)));
			g->killed = true;
			kill(g->pid, SIGKILL);
		} else if (g->state == GUEST_STOPPING && supervisor_guest_alive(g) && !g->killed && g->next_ms <= now) {
			kill(g->pid, SIGPWR);
			g->next_ms = now + PRESS_AGAIN_MS;
		}
	}
}

void supervisor_after_event(struct supervisor *sv)
{
	if (sv->shutting_down)
		shutdown_step(sv, supervisor_now_ms());
	if (sv->next_cfg)
		supervisor_apply_step(sv);
	arm_timer(sv);
}

static void on_exit_status(struct supervisor *sv, struct guest *g, int wstatus)
{
	const struct config_guest *c = g->cfg;
	struct restart_decision d;
	char text[96], t1[32], t2[32];
	const char *what;
	uint64_t now = supervisor_now_ms();

	g->pid = 0;
	if (g->in_fd >= 0) {
		close(g->in_fd);
		g->in_fd = -1;
	}
	g->has_exited = true;
	g->last_exit = restart_classify(wstatus, &g->last_code);
	g->exits[g->last_exit]++;
	what = exit_text(g->last_exit, g->last_code, text, sizeof(text));

	if (g->stop_requested || sv->shutting_down) {
		g->stop_requested = false;
		supervisor_set_state(sv, g, GUEST_STOPPED);
		log_info("guest %s: stopped (%s%s)", c->name, what, g->killed ? " after the shutdown timeout" : "");
		if (g->start_after_stop && !sv->shutting_down) {
			g->start_after_stop = false;
			log_info("guest %s: starting again (reboot requested)", c->name);
			supervisor_guest_start(sv, g);
		}
		g->start_after_stop = false;
		return;
	}
	restart_decide(c, &g->failures, g->last_exit, now, &d);
	switch (d.action) {
	case RESTART_NONE:
		supervisor_set_state(sv, g, GUEST_STOPPED);
		log_info("guest %s: %s; restart = %s leaves it stopped", c->name, what,
			 c->restart == CONFIG_RESTART_NO ? "no" : "on-failure");
		break;
	case RESTART_NOW:
		log_info("guest %s: %s; restarting", c->name, what);
		supervisor_guest_start(sv, g);
		break;
	case RESTART_LATER:
		supervisor_set_state(sv, g, GUEST_BACKOFF);
		g->next_ms = now + d.delay_ms;
		log_info("guest %s: %s; restarting in %s (failure %u of %u within %s)", c->name, what,
			 duration(d.delay_ms, t1, sizeof(t1)), d.failures, c->restart_limit_count,
			 duration((uint64_t)c->restart_limit_seconds * 1000, t2, sizeof(t2)));
		break;
	case RESTART_GIVE_UP:
		supervisor_set_state(sv, g, GUEST_FAILED);
		log_info("guest %s: %s", c->name, what);
		log_error("guest %s: gave up after %u failures in %s (restart-limit %u/%s); 'start %s' tries again",
			  c->name, d.failures, duration(d.span_ms, t1, sizeof(t1)), c->restart_limit_count,
			  duration((uint64_t)c->restart_limit_seconds * 1000, t2, sizeof(t2)), c->name);
		break;
	}
}

int supervisor_init(struct supervisor *sv, struct conout *con)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EPOLL_TIMER };
	unsigned int i;

	memset(sv, 0, sizeof(*sv));
	sv->con = con;
	for (i = 0; i < CONFIG_MAX_GUESTS; i++)
		sv->guests[i].out_fd = sv->guests[i].err_fd = sv->guests[i].in_fd = -1;
	sv->timer_fd = -1;
	sv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (sv->epoll_fd < 0)
		return -errno;
	sv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sv->timer_fd < 0 || epoll_ctl(sv->epoll_fd, EPOLL_CTL_ADD, sv->timer_fd, &ev) < 0) {
		int ret = -errno;

		if (sv->timer_fd >= 0)
			close(sv->timer_fd);
		close(sv->epoll_fd);
		sv->epoll_fd = sv->timer_fd = -1;
		return ret;
	}
	return 0;
}

void supervisor_boot(struct supervisor *sv)
{
	const struct partition_file *text;
	unsigned int i, started = 0;

	if (sv->epoll_fd < 0) {
		log_error("safe state: the supervisor has no event descriptors; no guests started");
		return;
	}
	if (bootconf_load(&sv->cfg, &sv->part, sv->config_dev, sizeof(sv->config_dev)) < 0) {
		memset(&sv->cfg, 0, sizeof(sv->cfg));
		log_error("safe state: no usable configuration, no guests started; the console still takes commands");
		return;
	}
	sv->configured = true;
	text = partition_find(&sv->part, PARTITION_CONFIG_FILE);
	sv->config_text = (const char *)text->data;
	sv->config_len = text->len;
	for (i = 0; i < sv->cfg.nguests; i++) {
		sv->guests[i].cfg = &sv->cfg.guests[i];
		sv->guests[i].index = i;
	}
	sv->norder = config_start_order(&sv->cfg, sv->order);
	sv->host = sv->cfg.host;
	sv->mgmt = sv->cfg.mgmt;
	if (sethostname(sv->cfg.host.hostname, strlen(sv->cfg.host.hostname)) < 0)
		log_error("hostname %s: %s", sv->cfg.host.hostname, strerror(errno));
	else
		log_info("hostname: %s", sv->cfg.host.hostname);
	if (mkdir(SUPERVISOR_CTL_DIR, 0700) < 0 && errno != EEXIST)
		log_error("mkdir %s: %s", SUPERVISOR_CTL_DIR, strerror(errno));
	if (bootconf_mount_data() < 0) {
		log_error("safe state: no data partition, no guests started");
		return;
	}
	/* Before any guest: their taps are attached to the bridges as they start. */
	hostnet_bridges_up(&sv->cfg);
	for (i = 0; i < sv->norder; i++) {
		struct guest *g = &sv->guests[sv->order[i]];

		if (!g->cfg->autostart)
			continue;
		supervisor_guest_start(sv, g);
		started++;
	}
	log_info("%u guest%s configured, %u autostart", sv->cfg.nguests, sv->cfg.nguests == 1 ? "" : "s", started);
	arm_timer(sv);
}

int supervisor_fd(const struct supervisor *sv)
{
	return sv->epoll_fd;
}

void supervisor_dispatch(struct supervisor *sv)
{
	struct epoll_event evs[8];
	int n, i;

	n = epoll_wait(sv->epoll_fd, evs, sizeof(evs) / sizeof(evs[0]), 0);
	if (n < 0 && errno != EINTR)
		log_error("supervisor: epoll_wait: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (evs[i].data.u64 == EPOLL_TIMER)
			on_timer(sv);
		else if (evs[i].data.u64 <= sv->cfg.nguests)
			supervisor_output_read(sv, &sv->guests[evs[i].data.u64 - 1], false);
	}
	supervisor_after_event(sv);
}

void supervisor_reap(struct supervisor *sv)
{
	unsigned int i;
	int wstatus;
	pid_t pid;

	/* One SIGCHLD may stand for several children: reap until none is left, orphans included. */
	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (i = 0; i < sv->cfg.nguests; i++) {
			struct guest *g = &sv->guests[i];

			if (g->pid != pid)
				continue;
			/* The VMM is gone: its last words are all in the pipe now. */
			supervisor_output_read(sv, g, true);
			supervisor_output_close(sv, g);
			on_exit_status(sv, g, wstatus);
			break;
		}
		if (i == sv->cfg.nguests && sv->other_exited)
			sv->other_exited(sv->other_opaque, pid, wstatus);
	}
	supervisor_after_event(sv);
}

void supervisor_shutdown(struct supervisor *sv)
{
	unsigned int i, running = 0;

	sv->shutting_down = true;
	for (i = 0; i < sv->cfg.nguests; i++) {
		struct guest *g = &sv->guests[i];

		if (g->state == GUEST_BACKOFF)
			supervisor_set_state(sv, g, GUEST_STOPPED);
		if (supervisor_guest_alive(g))
			running++;
	}
	if (running)
		log_info("stopping %u guest%s", running, running == 1 ? "" : "s");
	supervisor_after_event(sv);
}

bool supervisor_idle(const struct supervisor *sv)
{
	unsigned int i;

	for (i = 0; i < sv->cfg.nguests; i++)
		if (supervisor_guest_alive(&sv->guests[i]))
			return false;
	return true;
}

static struct guest *named(struct supervisor *sv, const char *name)
{
	struct guest *g = sv->configured ? supervisor_guest_find(sv, name) : NULL;

	if (!g)
		log_error("no guest named '%s'%s", name, sv->configured ? "" : " (safe state: no configuration)");
	return g;
}

int supervisor_start(struct supervisor *sv, const char *name)
{
	struct guest *g = named(sv, name);
	int ret;

	if (!g)
		return -ENOENT;
	if (sv->shutting_down) {
		log_error("guest %s: not started: shutting down", name);
		return -ESHUTDOWN;
	}
	if (supervisor_guest_alive(g)) {
		log_error("guest %s: already %s (pid %d)", name, supervisor_state_name(g->state), (int)g->pid);
		return -EALREADY;
	}
	if (sv->next_cfg && sv->plan.retire[g->index]) {
		log_error("guest %s: not started: a new configuration replaces it once its guests are down", name);
		return -EBUSY;
	}
	/* An operator's start is a fresh start: earlier failures no longer count against it. */
	restart_reset(&g->failures);
	ret = supervisor_guest_start(sv, g);
	supervisor_after_event(sv);
	return ret;
}

int supervisor_stop(struct supervisor *sv, const char *name)
{
	struct guest *g = named(sv, name);

	if (!g)
		return -ENOENT;
	if (g->state == GUEST_BACKOFF || g->state == GUEST_FAILED) {
		supervisor_set_state(sv, g, GUEST_STOPPED);
		log_info("guest %s: stopped (no restart)", name);
		supervisor_after_event(sv);
		return 0;
	}
	if (g->state != GUEST_RUNNING) {
		log_error("guest %s: not running (%s)", name, supervisor_state_name(g->state));
		return -ESRCH;
	}
	supervisor_request_stop(sv, g, supervisor_now_ms());
	supervisor_after_event(sv);
	return 0;
}

int supervisor_reboot(struct supervisor *sv, const char *name)
{
	struct guest *g = named(sv, name);
	int ret;

	if (!g)
		return -ENOENT;
	if (g->state != GUEST_RUNNING) {
		log_error("guest %s: not running (%s)", name, supervisor_state_name(g->state));
		return -EINVAL;
	}
	ret = supervisor_stop(sv, name);
	if (!ret)
		g->start_after_stop = true;
	return ret;
}

/* The guest called name if its VMM is running; NULL after saying why not (*err: -ENOENT or -ESRCH). */
static struct guest *running_named(struct supervisor *sv, const char *name, int *err)
{
	struct guest *g = named(sv, name);

	*err = -ENOENT;
	if (!g)
		return NULL;
	if (!supervisor_guest_alive(g)) {
		log_error("guest %s: not running (%s)", name, supervisor_state_name(g->state));
		*err = -ESRCH;
		return NULL;
	}
	return g;
}

static int kill_vmm(const struct guest *g)
{
	if (kill(g->pid, SIGKILL) == 0)
		return 0;
	log_error("guest %s: kill %d: %s", g->cfg->name, (int)g->pid, strerror(errno));
	return -errno;
}

int supervisor_kill(struct supervisor *sv, const char *name)
{
	int err;
	struct guest *g = running_named(sv, name, &err);

	if (!g)
		return err;
	log_info("guest %s: killing its VMM (pid %d)", name, (int)g->pid);
	return kill_vmm(g);
}

int supervisor_input(struct guest *g, const void *data, size_t len)
{
	ssize_t n;

	if (g->in_fd < 0)
		return -EINVAL;
	n = write(g->in_fd, data, len);
	if (n < 0)
		return errno == EAGAIN ? -EBUSY : -EINVAL;
	return 0;
}

int supervisor_destroy(struct supervisor *sv, const char *name)
{
	int err;
	struct guest *g = running_named(sv, name, &err);

	if (!g)
		return err;
	g->stop_requested = true;
	supervisor_set_state(sv, g, GUEST_STOPPING);
	/* No further presses or deadlines: it is being killed already. */
	g->next_ms = g->kill_ms = UINT64_MAX;
	log_info("guest %s: destroying it (SIGKILL to pid %d)", name, (int)g->pid);
	return kill_vmm(g);
}

static const char *last_exit(const struct guest *g, char *buf, size_t size)
{
	if (!g->has_exited)
		return "-";
	if (g->last_exit == RESTART_EXIT_SIGNAL || g->last_exit == RESTART_EXIT_ERROR)
		snprintf(buf, size, "%s %d", restart_exit_name(g->last_exit), g->last_code);
	else
		snprintf(buf, size, "%s", restart_exit_name(g->last_exit));
	return buf;
}

void supervisor_list(const struct supervisor *sv)
{
	char pid[16], exit_buf[32];
	unsigned int i;

	if (!sv->configured) {
		conout_printf(sv->con, "no guests (safe state: no configuration)\n");
		return;
	}
	conout_printf(sv->con, "%-16s %-9s %-7s %-8s %s\n", "NAME", "STATE", "PID", "RESTARTS", "LAST-EXIT");
	for (i = 0; i < sv->norder; i++) {
		const struct guest *g = &sv->guests[sv->order[i]];

		snprintf(pid, sizeof(pid), g->pid ? "%d" : "-", (int)g->pid);
		conout_printf(sv->con, "%-16s %-9s %-7s %-8u %s\n", g->cfg->name, supervisor_state_name(g->state), pid,
			      g->restarts, last_exit(g, exit_buf, sizeof(exit_buf)));
	}
}

int supervisor_show(struct supervisor *sv, const char *name)
{
	const struct guest *g = sv->configured ? supervisor_guest_find(sv, name) : NULL;
	struct procscan_memory mem;
	char buf[32];

	if (!g) {
		log_error("no guest named '%s'", name);
		return -ENOENT;
	}
	conout_printf(sv->con, "%s: state=%s pid=%d starts=%u restarts=%u last-exit=%s\n", name,
		      supervisor_state_name(g->state), (int)g->pid, g->starts, g->restarts,
		      last_exit(g, buf, sizeof(buf)));
	conout_printf(sv->con,
		      "%s: exits poweroff=%u reboot=%u crash=%u stopped=%u error=%u signal=%u watchdog=%u "
		      "failures-in-window=%u\n", name, g->exits[RESTART_EXIT_POWEROFF], g->exits[RESTART_EXIT_REBOOT],
		      g->exits[RESTART_EXIT_CRASH], g->exits[RESTART_EXIT_STOPPED], g->exits[RESTART_EXIT_ERROR],
		      g->exits[RESTART_EXIT_SIGNAL], g->exits[RESTART_EXIT_WATCHDOG], g->failures.count);
	if (g->pid > 0 && procscan_vmm_memory("/proc", g->pid, g->cfg->memory, &mem) == 0)
		conout_printf(sv->con, "%s: vmm memory %llu KiB besides the guest's RAM\n", name, mem.vmm_kib);
	conout_printf(sv->con, "%s: console history %llu bytes kept of %llu\n", name,
		      (unsigned long long)(g->history.buf ? g->history.end - ring_start(&g->history) : 0),
		      (unsigned long long)(g->history.buf ? g->history.end : 0));
	return 0;
}
