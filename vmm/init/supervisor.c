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
#include "init/supervisor.h"
#include "lib/log.h"

/*
 * A guest that was still booting when its shutdown request came has no power button driver yet and never sees
 * the press; pressing again this often until its shutdown-timeout catches it once it is up.
 */
#define PRESS_AGAIN_MS	5000
#define EPOLL_TIMER	0	/* epoll data: 0 the timer, i + 1 guest i's output */
#define READ_CHUNK	4096

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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
	case RESTART_EXIT_SIGNAL:
		snprintf(buf, size, "VMM killed by signal %d (%s)", code, strsignal(code));
		return buf;
	default:
		snprintf(buf, size, "VMM failed (exit status %d)", code);
		return buf;
	}
}

static void set_state(struct supervisor *sv, struct guest *g, enum guest_state state)
{
	g->state = state;
	if (sv->watch && sv->watch->state)
		sv->watch->state(sv->watch_opaque, g);
}

static struct guest *guest_find(struct supervisor *sv, const char *name)
{
	unsigned int i;

	for (i = 0; i < sv->cfg.nguests; i++)
		if (!strcmp(sv->guests[i].cfg->name, name))
			return &sv->guests[i];
	return NULL;
}

static bool guest_alive(const struct guest *g)
{
	return g->pid > 0;
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

static int add_arg(struct supervisor_args *a, const char *word)
{
	if (a->argc + 2 > SUPERVISOR_ARGV_MAX)
		return -E2BIG;
	a->argv[a->argc++] = word;
	a->argv[a->argc] = NULL;
	return 0;
}

static int add_opt(struct supervisor_args *a, const char *opt, const char *value)
{
	int ret = add_arg(a, opt);

	return ret ? ret : add_arg(a, value);
}

static bool has_console(const char *cmdline)
{
	const char *p = cmdline;

	for (; (p = strstr(p, "console=")); p++)
		if (p == cmdline || p[-1] == ' ' || p[-1] == '\t')
			return true;
	return false;
}

static const char *ipv4(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
	return buf;
}

static const char *mac_text(const uint8_t *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/*
 * "user,mac=...,net=A.B.C.D/N[,address=...]" and, for the guest's first user NIC, its forwards: the VMM's --net
 * user syntax (docs/vmm.md). Returns 0 or -E2BIG.
 */
static int user_nic(const struct config_guest *c, const struct config_nic *n, bool first, char *buf, size_t size)
{
	char mac[24], net[16], addr[16];
	size_t len;
	unsigned int i;
	int w;

	w = snprintf(buf, size, "user,mac=%s,net=%s/%u", mac_text(n->mac, mac, sizeof(mac)),
		     ipv4(n->net, net, sizeof(net)), n->prefix);
	if (w < 0 || (size_t)w >= size)
		return -E2BIG;
	len = (size_t)w;
	if (n->address_given) {
		w = snprintf(buf + len, size - len, ",address=%s", ipv4(n->address, addr, sizeof(addr)));
		if (w < 0 || (size_t)w >= size - len)
			return -E2BIG;
		len += (size_t)w;
	}
	for (i = 0; first && i < c->nforwards; i++) {
		w = snprintf(buf + len, size - len, ",forward=tcp:%u:%u", c->forwards[i].host_port,
			     c->forwards[i].guest_port);
		if (w < 0 || (size_t)w >= size - len)
			return -E2BIG;
		len += (size_t)w;
	}
	return 0;
}

/*
 * What the metadata service tells the guest about itself. It lives in the user NIC's backend, so only a guest
 * with one gets it; mac and address are that NIC's.
 */
static int metadata(const struct config_guest *c, const struct config_nic *user, struct supervisor_args *a)
{
	char addr[16], mac[24];
	int ret = 0;

	snprintf(a->meta_name, sizeof(a->meta_name), "name=%s", c->name);
	ret |= add_opt(a, "--metadata", a->meta_name);
	snprintf(a->meta_vcpus, sizeof(a->meta_vcpus), "vcpus=%u", c->vcpus);
	ret |= add_opt(a, "--metadata", a->meta_vcpus);
	/* Bytes: a number a script can use as it is, unlike the config's "256M". */
	snprintf(a->meta_memory, sizeof(a->meta_memory), "memory=%llu", (unsigned long long)c->memory);
	ret |= add_opt(a, "--metadata", a->meta_memory);
	snprintf(a->meta_cmdline, sizeof(a->meta_cmdline), "cmdline=%s", c->cmdline);
	ret |= add_opt(a, "--metadata", a->meta_cmdline);
	snprintf(a->meta_autostart, sizeof(a->meta_autostart), "autostart=%s", c->autostart ? "yes" : "no");
	ret |= add_opt(a, "--metadata", a->meta_autostart);
	snprintf(a->meta_mac, sizeof(a->meta_mac), "mac=%s", mac_text(user->mac, mac, sizeof(mac)));
	ret |= add_opt(a, "--metadata", a->meta_mac);
	snprintf(a->meta_address, sizeof(a->meta_address), "address=%s", ipv4(user->address, addr, sizeof(addr)));
	ret |= add_opt(a, "--metadata", a->meta_address);
	if (c->user_data[0]) {
		snprintf(a->user_data, sizeof(a->user_data), "%s/%s.user-data", SUPERVISOR_CTL_DIR, c->name);
		ret |= add_opt(a, "--user-data", a->user_data);
	}
	return ret;
}

int supervisor_build_args(const struct config_guest *c, unsigned int index, const char *partlabel_sysfs,
			  struct supervisor_args *a)
{
	const struct config_nic *user = NULL;
	unsigned int i, dup;
	char dev[64];
	int ret = 0;

	memset(a, 0, sizeof(*a));
	ret |= add_arg(a, "shrike");
	ret |= add_arg(a, "run");
	snprintf(a->kernel, sizeof(a->kernel), "%s/%s", BOOTCONF_DATA_DIR, c->kernel);
	ret |= add_opt(a, "--kernel", a->kernel);
	if (c->initrd[0]) {
		snprintf(a->initrd, sizeof(a->initrd), "%s/%s", BOOTCONF_DATA_DIR, c->initrd);
		ret |= add_opt(a, "--initrd", a->initrd);
	}
	/* Without a console= the guest says nothing the ring could keep; quiet, since every UART byte is an exit. */
	if (has_console(c->cmdline))
		snprintf(a->cmdline, sizeof(a->cmdline), "%s", c->cmdline);
	else
		snprintf(a->cmdline, sizeof(a->cmdline), "console=%s quiet%s%s",
			 c->console == CONFIG_CONSOLE_VIRTIO ? "hvc0" : "ttyS0", c->cmdline[0] ? " " : "", c->cmdline);
	ret |= add_opt(a, "--cmdline", a->cmdline);
	snprintf(a->mem, sizeof(a->mem), "%lluM", (unsigned long long)(c->memory >> 20));
	ret |= add_opt(a, "--mem", a->mem);
	snprintf(a->vcpus, sizeof(a->vcpus), "%u", c->vcpus);
	ret |= add_opt(a, "--vcpus", a->vcpus);
	ret |= add_opt(a, "--console", c->console == CONFIG_CONSOLE_VIRTIO ? "virtio" : "serial");
	snprintf(a->control, sizeof(a->control), "%s/%s.ctl", SUPERVISOR_CTL_DIR, c->name);
	ret |= add_opt(a, "--control", a->control);
	for (i = 0; i < c->ndisks && !ret; i++) {
		const struct config_disk *d = &c->disks[i];

		if (d->kind == CONFIG_DISK_LABEL) {
			ret = partlabel_find(partlabel_sysfs, d->path, dev, sizeof(dev), &dup);
			if (ret < 0) {
				log_error("guest %s: disk label:%s: %s", c->name, d->path,
					  ret == -ENOENT ? "no partition has that label" : strerror(-ret));
				return ret;
			}
			snprintf(a->disks[i], sizeof(a->disks[i]), "%s%s", dev, d->ro ? ",ro" : "");
		} else {
			snprintf(a->disks[i], sizeof(a->disks[i]), "%s/%s%s", BOOTCONF_DATA_DIR, d->path,
				 d->ro ? ",ro" : "");
		}
		ret = add_opt(a, "--disk", a->disks[i]);
	}
	for (i = 0; i < c->nnics && !ret; i++) {
		const struct config_nic *n = &c->nics[i];

		if (n->kind == CONFIG_NIC_USER) {
			/* The forwards go to the first user NIC (docs/config.md). */
			ret = user_nic(c, n, !user, a->nics[i], sizeof(a->nics[i]));
			if (!user)
				user = n;
		} else {
			/* Interface names are 15 bytes at most: a guest name does not fit, its index does. */
			snprintf(a->nics[i], sizeof(a->nics[i]), "tap=vm%un%u,mac=%02x:%02x:%02x:%02x:%02x:%02x", index,
				 i, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		}
		if (!ret)
			ret = add_opt(a, "--net", a->nics[i]);
	}
	if (!ret && user)
		ret = metadata(c, user, a);
	if (ret)
		log_error("guest %s: too many arguments for the VMM (at most %d)", c->name, SUPERVISOR_ARGV_MAX - 1);
	return ret ? -E2BIG : 0;
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
static _Noreturn void exec_vmm(const struct guest *g, const struct supervisor_args *a, int in, int out, int stats)
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
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	if (out > STDERR_FILENO)
		close(out);
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

static int guest_start(struct supervisor *sv, struct guest *g)
{
	struct epoll_event ev = { .events = EPOLLIN };
	static struct supervisor_args args;	/* 20 KiB: not on the PID 1's stack */
	int fds[2], in[2], ret, stats = -1;
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
		ret = add_opt(&args, "--stats-fd", args.stats_fd);
	}
	if (ret < 0)
		goto fail;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		ret = -errno;
		log_error("guest %s: pipe: %s", g->cfg->name, strerror(-ret));
		goto fail;
	}
	if (pipe2(in, O_CLOEXEC) < 0) {
		ret = -errno;
		log_error("guest %s: pipe: %s", g->cfg->name, strerror(-ret));
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	/* stdout is line-buffered: what is in it must not be written twice, once by the child. */
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		log_error("guest %s: fork: %s", g->cfg->name, strerror(-ret));
		close(fds[0]);
		close(fds[1]);
		close(in[0]);
		close(in[1]);
		goto fail;
	}
	if (!pid)
		exec_vmm(g, &args, in[0], fds[1], stats);
	if (stats >= 0)
		close(stats);
	close(fds[1]);
	close(in[0]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	g->in_fd = in[1];
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ev.data.u64 = g->index + 1;
	if (epoll_ctl(sv->epoll_fd, EPOLL_CTL_ADD, fds[0], &ev) < 0)
		log_error("guest %s: epoll_ctl: %s; its output is lost", g->cfg->name, strerror(errno));
	g->out_fd = fds[0];
	g->pid = pid;
	g->stop_requested = false;
	g->killed = false;
	g->started_ms = now_ms();
	if (g->starts++)
		g->restarts++;
	set_state(sv, g, GUEST_RUNNING);
	log_info("guest %s: started (pid %d)", g->cfg->name, (int)pid);
	return 0;
fail:
	if (stats >= 0)
		close(stats);
	/* A start that failed before a VMM ran counts as the VMM failing: the restart policy decides. */
	g->starts++;
	on_exit_status(sv, g, 1 << 8);
	return ret;
}

/*
 * Puts g's held output on the console: a whole line, or (complete false) the start of one. Guests write side by
 * side, so a line is shown only once it is complete, or has waited SUPERVISOR_HOLD_MS (a prompt), or fills
 * line[]; a started line of another guest is ended first, so that every console line carries one guest's prefix.
 */
static void output_emit(struct supervisor *sv, struct guest *g, bool complete)
{
	if (sv->open_line && sv->open_line != g) {
		fputc('\n', stdout);
		sv->open_line->continued = false;
		sv->open_line = NULL;
	}
	if (!g->continued)
		printf("%s| ", g->cfg->name);
	fwrite(g->line, 1, g->line_len, stdout);
	fflush(stdout);
	g->continued = !complete;
	sv->open_line = complete ? NULL : g;
	g->line_len = 0;
	g->line_ms = 0;
}

void supervisor_console_break(struct supervisor *sv)
{
	if (!sv->open_line)
		return;
	fputc('\n', stdout);
	fflush(stdout);
	sv->open_line->continued = false;
	sv->open_line = NULL;
}

/* Keeps a piece of guest output in its ring and passes it on to the console line by line. */
static void output_put(struct supervisor *sv, struct guest *g, const char *data, size_t len)
{
	size_t i;

	ring_write(&g->history, data, len);
	if (sv->watch && sv->watch->output)
		sv->watch->output(sv->watch_opaque, g, data, len);
	for (i = 0; i < len; i++) {
		g->line[g->line_len++] = data[i];
		if (data[i] == '\n' || g->line_len == sizeof(g->line))
			output_emit(sv, g, data[i] == '\n');
	}
	if (g->line_len && !g->line_ms)
		g->line_ms = now_ms();
}

static void output_close(struct supervisor *sv, struct guest *g)
{
	if (g->out_fd < 0)
		return;
	epoll_ctl(sv->epoll_fd, EPOLL_CTL_DEL, g->out_fd, NULL);
	close(g->out_fd);
	g->out_fd = -1;
	/* The last words without a line end: show them, and end the line for the next writer. */
	if (g->line_len)
		output_emit(sv, g, false);
	if (sv->open_line == g) {
		fputc('\n', stdout);
		fflush(stdout);
		sv->open_line = NULL;
	}
	g->continued = false;
}

/* Reads what the pipe holds; all of it when drain, else one chunk (a chatty guest must not starve the rest). */
static void output_read(struct supervisor *sv, struct guest *g, bool drain)
{
	char buf[READ_CHUNK];
	ssize_t n;

	while (g->out_fd >= 0) {
		n = read(g->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0)
				log_error("guest %s: reading its output: %s", g->cfg->name, strerror(errno));
			output_close(sv, g);
			return;
		}
		output_put(sv, g, buf, (size_t)n);
		if (!drain)
			return;
	}
}

static void request_stop(struct supervisor *sv, struct guest *g, uint64_t now)
{
	char d[32];

	g->stop_requested = true;
	set_state(sv, g, GUEST_STOPPING);
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

		if (!guest_alive(h))
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
			request_stop(sv, g, now);
	}
}

static void on_timer(struct supervisor *sv)
{
	uint64_t expirations, now = now_ms();
	unsigned int i;
	char d[32];

	if (read(sv->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_error("supervisor: timerfd: %s", strerror(errno));
	for (i = 0; i < sv->cfg.nguests; i++) {
		struct guest *g = &sv->guests[i];

		if (g->line_len && g->line_ms + SUPERVISOR_HOLD_MS <= now) {
			/*
			 * A prompt, most likely: end the line rather than leave it open for whatever the next writer to
			 * the console is (the answer to what is typed at it comes with a prefix of its own).
			 */
			output_emit(sv, g, false);
			supervisor_console_break(sv);
		}
	}
	for (i = 0; i < sv->cfg.nguests; i++) {
		struct guest *g = &sv->guests[i];

		if (g->state == GUEST_BACKOFF || g->state == GUEST_STOPPING)
			supervisor_console_break(sv);
		if (g->state == GUEST_BACKOFF && g->next_ms <= now && !sv->shutting_down) {
			guest_start(sv, g);
		} else if (g->state == GUEST_STOPPING && guest_alive(g) && !g->killed && g->kill_ms <= now) {
			log_info("guest %s: not powered off after %s; killing it", g->cfg->name,
				 duration((uint64_t)g->cfg->shutdown_timeout * 1000, d, sizeof(d)));
			g->killed = true;
			kill(g->pid, SIGKILL);
		} else if (g->state == GUEST_STOPPING && guest_alive(g) && !g->killed && g->next_ms <= now) {
			kill(g->pid, SIGPWR);
			g->next_ms = now + PRESS_AGAIN_MS;
		}
	}
}

static void apply_step(struct supervisor *sv);

static void after_event(struct supervisor *sv)
{
	if (sv->shutting_down)
		shutdown_step(sv, now_ms());
	if (sv->next_cfg)
		apply_step(sv);
	arm_timer(sv);
}

static void on_exit_status(struct supervisor *sv, struct guest *g, int wstatus)
{
	const struct config_guest *c = g->cfg;
	struct restart_decision d;
	char text[96], t1[32], t2[32];
	const char *what;
	uint64_t now = now_ms();

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
		set_state(sv, g, GUEST_STOPPED);
		log_info("guest %s: stopped (%s%s)", c->name, what, g->killed ? " after the shutdown timeout" : "");
		if (g->start_after_stop && !sv->shutting_down) {
			g->start_after_stop = false;
			log_info("guest %s: starting again (reboot requested)", c->name);
			guest_start(sv, g);
		}
		g->start_after_stop = false;
		return;
	}
	restart_decide(c, &g->failures, g->last_exit, now, &d);
	switch (d.action) {
	case RESTART_NONE:
		set_state(sv, g, GUEST_STOPPED);
		log_info("guest %s: %s; restart = %s leaves it stopped", c->name, what,
			 c->restart == CONFIG_RESTART_NO ? "no" : "on-failure");
		break;
	case RESTART_NOW:
		log_info("guest %s: %s; restarting", c->name, what);
		guest_start(sv, g);
		break;
	case RESTART_LATER:
		set_state(sv, g, GUEST_BACKOFF);
		g->next_ms = now + d.delay_ms;
		log_info("guest %s: %s; restarting in %s (failure %u of %u within %s)", c->name, what,
			 duration(d.delay_ms, t1, sizeof(t1)), d.failures, c->restart_limit_count,
			 duration((uint64_t)c->restart_limit_seconds * 1000, t2, sizeof(t2)));
		break;
	case RESTART_GIVE_UP:
		set_state(sv, g, GUEST_FAILED);
		log_info("guest %s: %s", c->name, what);
		log_error("guest %s: gave up after %u failures in %s (restart-limit %u/%s); 'start %s' tries again",
			  c->name, d.failures, duration(d.span_ms, t1, sizeof(t1)), c->restart_limit_count,
			  duration((uint64_t)c->restart_limit_seconds * 1000, t2, sizeof(t2)), c->name);
		break;
	}
}

int supervisor_init(struct supervisor *sv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EPOLL_TIMER };
	unsigned int i;

	memset(sv, 0, sizeof(*sv));
	for (i = 0; i < CONFIG_MAX_GUESTS; i++)
		sv->guests[i].out_fd = sv->guests[i].in_fd = -1;
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
		guest_start(sv, g);
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
			output_read(sv, &sv->guests[evs[i].data.u64 - 1], false);
	}
	after_event(sv);
}

void supervisor_reap(struct supervisor *sv)
{
	unsigned int i;
	int wstatus;
	pid_t pid;

	supervisor_console_break(sv);
	/* One SIGCHLD may stand for several children: reap until none is left, orphans included. */
	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (i = 0; i < sv->cfg.nguests; i++) {
			struct guest *g = &sv->guests[i];

			if (g->pid != pid)
				continue;
			/* The VMM is gone: its last words are all in the pipe now. */
			output_read(sv, g, true);
			output_close(sv, g);
			on_exit_status(sv, g, wstatus);
			break;
		}
		if (i == sv->cfg.nguests && sv->other_exited)
			sv->other_exited(sv->other_opaque, pid, wstatus);
	}
	after_event(sv);
}

void supervisor_shutdown(struct supervisor *sv)
{
	unsigned int i, running = 0;

	sv->shutting_down = true;
	for (i = 0; i < sv->cfg.nguests; i++) {
		struct guest *g = &sv->guests[i];

		if (g->state == GUEST_BACKOFF)
			set_state(sv, g, GUEST_STOPPED);
		if (guest_alive(g))
			running++;
	}
	if (running)
		log_info("stopping %u guest%s", running, running == 1 ? "" : "s");
	after_event(sv);
}

bool supervisor_idle(const struct supervisor *sv)
{
	unsigned int i;

	for (i = 0; i < sv->cfg.nguests; i++)
		if (guest_alive(&sv->guests[i]))
			return false;
	return true;
}

static struct guest *named(struct supervisor *sv, const char *name)
{
	struct guest *g = sv->configured ? guest_find(sv, name) : NULL;

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
	if (guest_alive(g)) {
		log_error("guest %s: already %s (pid %d)", name, supervisor_state_name(g->state), (int)g->pid);
		return -EALREADY;
	}
	if (sv->next_cfg && sv->plan.retire[g->index]) {
		log_error("guest %s: not started: a new configuration replaces it once its guests are down", name);
		return -EBUSY;
	}
	/* An operator's start is a fresh start: earlier failures no longer count against it. */
	restart_reset(&g->failures);
	ret = guest_start(sv, g);
	after_event(sv);
	return ret;
}

int supervisor_stop(struct supervisor *sv, const char *name)
{
	struct guest *g = named(sv, name);

	if (!g)
		return -ENOENT;
	if (g->state == GUEST_BACKOFF || g->state == GUEST_FAILED) {
		set_state(sv, g, GUEST_STOPPED);
		log_info("guest %s: stopped (no restart)", name);
		after_event(sv);
		return 0;
	}
	if (g->state != GUEST_RUNNING) {
		log_error("guest %s: not running (%s)", name, supervisor_state_name(g->state));
		return -ESRCH;
	}
	request_stop(sv, g, now_ms());
	after_event(sv);
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
	if (!guest_alive(g)) {
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
	set_state(sv, g, GUEST_STOPPING);
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
		printf("no guests (safe state: no configuration)\n");
		return;
	}
	printf("%-16s %-9s %-7s %-8s %s\n", "NAME", "STATE", "PID", "RESTARTS", "LAST-EXIT");
	for (i = 0; i < sv->norder; i++) {
		const struct guest *g = &sv->guests[sv->order[i]];

		snprintf(pid, sizeof(pid), g->pid ? "%d" : "-", (int)g->pid);
		printf("%-16s %-9s %-7s %-8u %s\n", g->cfg->name, supervisor_state_name(g->state), pid, g->restarts,
		       last_exit(g, exit_buf, sizeof(exit_buf)));
	}
}

int supervisor_show(struct supervisor *sv, const char *name)
{
	const struct guest *g = sv->configured ? guest_find(sv, name) : NULL;
	struct procscan_memory mem;
	char buf[32];

	if (!g) {
		log_error("no guest named '%s'", name);
		return -ENOENT;
	}
	printf("%s: state=%s pid=%d starts=%u restarts=%u last-exit=%s\n", name, supervisor_state_name(g->state),
	       (int)g->pid, g->starts, g->restarts, last_exit(g, buf, sizeof(buf)));
	printf("%s: exits poweroff=%u reboot=%u crash=%u stopped=%u error=%u signal=%u failures-in-window=%u\n", name,
	       g->exits[RESTART_EXIT_POWEROFF], g->exits[RESTART_EXIT_REBOOT], g->exits[RESTART_EXIT_CRASH],
	       g->exits[RESTART_EXIT_STOPPED], g->exits[RESTART_EXIT_ERROR], g->exits[RESTART_EXIT_SIGNAL],
	       g->failures.count);
	if (g->pid > 0 && procscan_vmm_memory("/proc", g->pid, g->cfg->memory, &mem) == 0)
		printf("%s: vmm memory %llu KiB besides the guest's RAM\n", name, mem.vmm_kib);
	printf("%s: console history %llu bytes kept of %llu\n", name,
	       (unsigned long long)(g->history.buf ? g->history.end - ring_start(&g->history) : 0),
	       (unsigned long long)(g->history.buf ? g->history.end : 0));
	return 0;
}

/* A new configuration (PUT /v1/config): the plan, the stops it needs, then the switch once they are down. */

static bool has_bridge_nic(const struct config_guest *c)
{
	unsigned int i;

	for (i = 0; i < c->nnics; i++)
		if (c->nics[i].kind == CONFIG_NIC_BRIDGE)
			return true;
	return false;
}

void supervisor_plan(const struct config *old, const enum guest_state *state, const struct config *next,
		     struct supervisor_plan *plan)
{
	enum config_guest_diff diff;
	unsigned int i, j;
	bool running;

	memset(plan, 0, sizeof(*plan));
	plan->old_count = old->nguests;
	plan->new_count = next->nguests;
	for (i = 0; i < old->nguests; i++) {
		plan->removed[i] = plan->retire[i] = true;
		memcpy(plan->old_names[i], old->guests[i].name, sizeof(plan->old_names[i]));
	}
	for (j = 0; j < next->nguests; j++) {
		const struct config_guest *c = &next->guests[j];

		plan->from[j] = -1;
		for (i = 0; i < old->nguests; i++)
			if (!strcmp(old->guests[i].name, c->name))
				plan->from[j] = (int)i;
		if (plan->from[j] < 0) {
			plan->step[j] = c->autostart ? STEP_START : STEP_UPDATE;
			continue;
		}
		i = (unsigned int)plan->from[j];
		plan->removed[i] = false;
		diff = config_guest_diff(&old->guests[i], c);
		if (diff != CONFIG_GUEST_CHANGED && (i == j || !has_bridge_nic(c))) {
			plan->step[j] = STEP_KEEP;
			plan->retire[i] = false;
			continue;
		}
		/* Waiting to be restarted by its policy counts as running: the operator expects it back. */
		running = state[i] == GUEST_RUNNING || state[i] == GUEST_BACKOFF;
		plan->step[j] = running ? STEP_RESTART : STEP_UPDATE;
	}
	plan->reboot_required = !config_host_equal(old, next);
}

/* The switch: the next configuration's guests take over the state of the ones with their names. */
static void apply_switch(struct supervisor *sv)
{
	static struct guest old_guests[CONFIG_MAX_GUESTS];	/* 300 KiB: not on the stack */
	static struct config old_cfg;
	const struct supervisor_plan *p = &sv->plan;
	struct epoll_event ev = { .events = EPOLLIN };
	const struct partition_file *text;
	int map[CONFIG_MAX_GUESTS];
	unsigned int i, j, n = 0;
	char list[512];

	/* The open console line belongs to a guest slot that may hold another guest after this. */
	supervisor_console_break(sv);
	memcpy(old_guests, sv->guests, sizeof(old_guests));
	old_cfg = sv->cfg;
	for (i = 0; i < p->old_count; i++) {
		old_guests[i].cfg = &old_cfg.guests[i];
		map[i] = -1;
	}
	sv->cfg = *sv->next_cfg;
	free(sv->next_cfg);
	sv->next_cfg = NULL;
	partition_release(&sv->part);
	sv->part = sv->next_part;
	memset(&sv->next_part, 0, sizeof(sv->next_part));
	text = partition_find(&sv->part, PARTITION_CONFIG_FILE);
	sv->config_text = text ? (const char *)text->data : NULL;
	sv->config_len = text ? text->len : 0;

	for (j = 0; j < CONFIG_MAX_GUESTS; j++) {
		struct guest *g = &sv->guests[j];

		if (j < p->new_count && p->from[j] >= 0) {
			/* Its console history, counters and, if it is kept, its running VMM and pipes move along. */
			*g = old_guests[p->from[j]];
			map[p->from[j]] = (int)j;
			if (p->step[j] != STEP_KEEP)
				restart_reset(&g->failures);	/* a new configuration starts with a clean slate */
		} else {
			memset(g, 0, sizeof(*g));
			g->out_fd = g->in_fd = -1;
		}
		if (j >= p->new_count)
			continue;
		g->cfg = &sv->cfg.guests[j];
		g->index = j;
		if (g->out_fd >= 0 && p->from[j] != (int)j) {
			ev.data.u64 = j + 1;
			if (epoll_ctl(sv->epoll_fd, EPOLL_CTL_MOD, g->out_fd, &ev) < 0)
				log_error("guest %s: epoll_ctl: %s; its output is lost", g->cfg->name, strerror(errno));
		}
	}
	for (i = 0; i < p->old_count; i++) {
		if (!p->removed[i])
			continue;
		log_info("guest %s: removed by the new configuration", old_guests[i].cfg->name);
		ring_free(&old_guests[i].history);
		statsmap_release(&old_guests[i].stats);
	}
	sv->norder = config_start_order(&sv->cfg, sv->order);
	if (sv->watch && sv->watch->reindex)
		sv->watch->reindex(sv->watch_opaque, map, p->old_count);

	list[0] = '\0';
	for (i = 0; i < sv->norder; i++) {
		struct guest *g = &sv->guests[sv->order[i]];
		enum supervisor_step step = p->step[sv->order[i]];

		if (step != STEP_RESTART && step != STEP_START)
			continue;
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, " %s", g->cfg->name);
		if (!sv->shutting_down)
			guest_start(sv, g);
	}
	log_info("config: the new configuration is in force%s%s", list[0] ? "; started:" : "", list);
	if (p->reboot_required)
		log_info("config: [host], [mgmt] or bridges changed; they take effect at the next boot");
}

/* Waits for the retired guests to be down, then switches. */
static void apply_step(struct supervisor *sv)
{
	unsigned int i;

	for (i = 0; i < sv->plan.old_count; i++)
		if (sv->plan.retire[i] && guest_alive(&sv->guests[i]))
			return;
	apply_switch(sv);
}

static void apply_begin(struct supervisor *sv)
{
	unsigned int i;
	uint64_t now = now_ms();

	for (i = 0; i < sv->plan.old_count; i++) {
		struct guest *g = &sv->guests[i];

		if (!sv->plan.retire[i])
			continue;
		/* A reboot under way would start it again with the old configuration. */
		g->start_after_stop = false;
		if (g->state == GUEST_BACKOFF || g->state == GUEST_FAILED)
			set_state(sv, g, GUEST_STOPPED);
		else if (g->state == GUEST_RUNNING) {
			log_info("guest %s: %s by the new configuration", g->cfg->name,
				 sv->plan.removed[i] ? "removed" : "changed");
			request_stop(sv, g, now);
		}
	}
	after_event(sv);
}

int supervisor_config_put(struct supervisor *sv, const char *text, size_t len, struct config_errors *errs,
			  struct supervisor_plan *plan, uint64_t *generation)
{
	enum guest_state state[CONFIG_MAX_GUESTS];
	struct config *next;
	unsigned int i;
	int ret;

	if (!sv->configured || !sv->config_dev[0])
		return -ENODEV;
	if (sv->next_cfg || sv->shutting_down)
		return -EBUSY;
	next = calloc(1, sizeof(*next));
	if (!next)
		return -ENOMEM;
	ret = config_load(PARTITION_CONFIG_FILE, text, len, bootconf_host_memory(), next, errs);
	if (bootconf_check_refs(next, &sv->part, errs) < 0)
		ret = -EINVAL;
	if (ret < 0) {
		log_error("config: a new configuration refused with %u error%s", errs->count,
			  errs->count == 1 ? "" : "s");
		goto fail;
	}
	ret = bootconf_write(sv->config_dev, &sv->part, next, text, len, &sv->next_part, generation);
	if (ret < 0) {
		ret = -EIO;
		goto fail;
	}
	for (i = 0; i < sv->cfg.nguests; i++)
		state[i] = sv->guests[i].state;
	supervisor_plan(&sv->cfg, state, next, &sv->plan);
	if (sv->plan.reboot_required)
		sv->reboot_required = true;
	*plan = sv->plan;
	sv->next_cfg = next;
	apply_begin(sv);
	return 0;
fail:
	free(next);
	return ret;
}

int supervisor_set_autostart(struct supervisor *sv, const char *name, bool autostart, struct config_errors *errs)
{
	struct supervisor_plan plan;
	struct guest *g = sv->configured ? guest_find(sv, name) : NULL;
	uint64_t generation;
	size_t len;
	char *text;
	int ret;

	if (!g)
		return -ENOENT;
	if (!sv->config_text || sv->next_cfg)
		return sv->config_text ? -EBUSY : -ENODEV;
	if (g->cfg->autostart == autostart)
		return 0;	/* nothing to write: a generation is not spent on it */
	ret = config_set_autostart(sv->config_text, sv->config_len, &sv->cfg, g->index, autostart, &text, &len);
	if (ret < 0)
		return ret;
	ret = supervisor_config_put(sv, text, len, errs, &plan, &generation);
	free(text);
	if (!ret)
		log_info("guest %s: autostart = %s (generation %llu)", name, autostart ? "yes" : "no",
			 (unsigned long long)generation);
	return ret;
}
