#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init/bootconf.h"
#include "init/conout.h"
#include "init/console_cmd.h"
#include "init/hostnet.h"
#include "init/init.h"
#include "init/mgmtlink.h"
#include "init/procscan.h"
#include "init/supervisor.h"
#include "init/watchdog.h"
#include "kvm/probe.h"
#include "lib/log.h"

/* Event devices watched for the power button; QEMU and servers have one or two that report KEY_POWER. */
#define INPUT_MAX 8

/* Zombies listed by the 'zombies' command; more are counted. */
#define ZOMBIES_SHOWN 16

enum { SLOT_SIGNALS, SLOT_CONSOLE, SLOT_CONOUT, SLOT_RELAY, SLOT_SUPERVISOR, SLOT_MGMT, SLOT_WATCHDOG, SLOT_INPUT };

struct init_state {
	struct pollfd fds[SLOT_INPUT + INPUT_MAX];
	nfds_t nfds;
	struct console_cmd console;
	struct kvm_probe_result kvm;
	int kvm_rc;
	struct supervisor *sv;
	struct watchdog watchdog;
	int shutdown_how;	/* 0, or the reboot(2) command the shutdown under way ends in */
};

/* Static: the configuration it holds is far too big for the stack. */
static struct supervisor supervisor;
/* What PID 1 shows on the console, and the lines of its children that are no guest (mgmt, udhcpc). */
static struct conout con;
static struct conout_lines relay;
static struct mgmtlink mgmt;	/* 64 KiB of it a reply slot: zero-initialised, so not in the binary */
static pid_t dhcp_pid;
static time_t dhcp_started;
/* udhcpc runs until it fails; one that fails this soon after its start would only fail again. */
#define DHCP_MIN_RUN_S 10

static time_t uptime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static const struct {
	const char *source;
	const char *target;
	const char *type;
	unsigned long flags;
	const char *data;
} mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755" },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755" },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
};

static void mount_all(void)
{
	size_t i;

	for (i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		/* The initramfs skeleton should carry the mount points; creating them costs nothing if not. */
		if (mkdir(mounts[i].target, 0755) < 0 && errno != EEXIST)
			log_error("mkdir %s: %s", mounts[i].target, strerror(errno));
		/* EBUSY: already mounted, e.g. /dev by a kernel with CONFIG_DEVTMPFS_MOUNT. */
		if (mount(mounts[i].source, mounts[i].target, mounts[i].type, mounts[i].flags, mounts[i].data) < 0 &&
		    errno != EBUSY)
			log_error("mount %s on %s: %s", mounts[i].type, mounts[i].target, strerror(errno));
	}
}

/* The kernel opens /dev/console for init only if the initramfs has that node; otherwise fds 0-2 are closed. */
static void console_open(void)
{
	int fd, i;

	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;	/* nowhere to say so */
	for (i = 0; i <= 2; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/*
 * PID 1 never waits for the console (docs/supervisor.md): a serial console that does not drain must not stop its
 * loop, the watchdog or the answers to mgmt. It writes through a buffer on an open file description of its own,
 * non-blocking (fds 0-2 stay blocking: the rescue shell shares them). Its children that are no guest (mgmt,
 * udhcpc) get a pipe as stdout and stderr instead of the console, non-blocking too, and PID 1 passes their lines
 * on; a guest's VMM has pipes of its own.
 */
static void output_open(struct init_state *s)
{
	int fd, p[2];

	fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/dev/console", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	conout_init(&con, fd);
	log_set_sink(conout_log, &con);
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_error("console: pipe: %s; mgmt and udhcpc write to the console themselves", strerror(errno));
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	/* dup2() leaves close-on-exec off: every child inherits them, and a VMM replaces them with its own. */
	if (dup2(p[1], STDOUT_FILENO) < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		log_error("console: dup2: %s; mgmt and udhcpc write to the console themselves", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	close(p[1]);
	s->fds[SLOT_RELAY].fd = p[0];
}

static bool handle_relay(int fd)
{
	char buf[4096];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;	/* PID 1 holds the write end itself: this does not happen */
	conout_lines(&con, &relay, "", buf, (size_t)n);
	return true;
}

static int signals_open(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGPWR);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static bool has_power_key(int fd)
{
	unsigned char keys[KEY_MAX / 8 + 1] = { 0 };

	if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) < 0)
		return false;
	return keys[KEY_POWER / 8] & (1 << (KEY_POWER % 8));
}

/*
 * The ACPI power button (QEMU's system_powerdown) is an input device, not a signal. Only devices that can report
 * KEY_POWER are kept, so a mouse does not wake PID 1 on every movement. Devices appearing later are not seen.
 */
static void inputs_open(struct init_state *s)
{
	struct dirent *e;
	DIR *dir;
	int fd;

	dir = opendir("/dev/input");
	if (!dir) {
		if (errno != ENOENT)
			log_error("/dev/input: %s", strerror(errno));
		return;
	}
	while ((e = readdir(dir))) {
		if (strncmp(e->d_name, "event", 5))
			continue;
		fd = openat(dirfd(dir), e->d_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			log_error("/dev/input/%s: %s", e->d_name, strerror(errno));
			continue;
		}
		if (!has_power_key(fd)) {
			close(fd);
			continue;
		}
		if (s->nfds == sizeof(s->fds) / sizeof(s->fds[0])) {
			log_error("/dev/input/%s: more than %d power buttons; ignored", e->d_name, INPUT_MAX);
			close(fd);
			continue;
		}
		s->fds[s->nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	closedir(dir);
}

static void print_banner(void)
{
	conout_printf(&con, "Shrike %s starting (board %s)\n", SHRIKE_VERSION, SHRIKE_BOARD);
}

static void print_kvm(const struct init_state *s)
{
	char line[192];

	kvm_probe_verdict(s->kvm_rc, &s->kvm, line, sizeof(line));
	conout_printf(&con, "%s\n", line);
}

static void power(int how)
{
	log_info("%s", how == RB_POWER_OFF ? "powering off" : "rebooting");
	/* The last words are worth a short wait; a console that takes nothing gets no more than that. */
	conout_drain(&con, 2000);
	sync();
	if (reboot(how) < 0)
		log_error("reboot: %s; still running", strerror(errno));
}

/*
 * Guests first, in reverse start order, each given its shutdown-timeout; serve() calls power() once the last
 * one is down. A second request while one is under way changes nothing: the first one's end stands.
 */
static void shutdown_begin(struct init_state *s, int how)
{
	if (s->shutdown_how) {
		log_info("already shutting down");
		return;
	}
	s->shutdown_how = how;
	log_info("shutting down for %s", how == RB_POWER_OFF ? "poweroff" : "reboot");
	supervisor_shutdown(s->sv);
}

/* A power request from the management API. */
static void mgmt_power(void *opaque, int how)
{
	shutdown_begin(opaque, how);
}

/* Children that are no guest: mgmt, and udhcpc, which keeps the lease and is restarted when it ends. */
/*
 * The busybox shell on the console, only with rescue-shell = yes in [host]: the console is physical access, but
 * the operator decides whether it is also a shell. PID 1 stops reading the console while the shell runs, so each
 * line goes to one reader; guests keep running and their output keeps coming.
 */
static pid_t rescue_pid;

static void rescue_start(struct init_state *s)
{
	sigset_t none;
	pid_t pid;

	if (rescue_pid) {
		log_error("rescue shell: already running (pid %d)", (int)rescue_pid);
		return;
	}
	if (!s->sv->configured || !s->sv->host.rescue_shell) {
		log_error("rescue shell: off; rescue-shell = yes in [host] turns it on");
		return;
	}
	pid = fork();
	if (pid < 0) {
		log_error("rescue shell: fork: %s", strerror(errno));
		return;
	}
	if (!pid) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		/* The console itself, which fd 0 still is: fds 1 and 2 are PID 1's pipe for its children's lines. */
		dup2(STDIN_FILENO, STDOUT_FILENO);
		dup2(STDIN_FILENO, STDERR_FILENO);
		execl("/bin/sh", "sh", (char *)NULL);
		log_error("rescue shell: exec /bin/sh: %s", strerror(errno));
		_exit(127);
	}
	rescue_pid = pid;
	s->fds[SLOT_CONSOLE].fd = -1;
	log_info("rescue shell: started (pid %d); console commands again once it exits", (int)pid);
}

static bool rescue_exited(struct init_state *s, pid_t pid)
{
	if (!rescue_pid || pid != rescue_pid)
		return false;
	rescue_pid = 0;
	s->fds[SLOT_CONSOLE].fd = STDIN_FILENO;
	log_info("rescue shell: ended; console commands again");
	return true;
}

static void other_exited(void *opaque, pid_t pid, int wstatus)
{
	struct init_state *s = opaque;

	if (rescue_exited(s, pid))
		return;
	if (mgmtlink_exited)
		mgmtlink_exited(&mgmt, pid, wstatus);
	if (!dhcp_pid || pid != dhcp_pid)
		return;
	dhcp_pid = 0;
	if (s->shutdown_how)
		return;
	if (uptime_s() - dhcp_started < DHCP_MIN_RUN_S) {
		log_error("host network: udhcpc exited (status %d) within %d s of its start; not restarted",
			  WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, DHCP_MIN_RUN_S);
		return;
	}
	log_error("host network: udhcpc exited (status %d); starting it again",
		  WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
	dhcp_pid = hostnet_dhcp_start(&s->sv->host);
	dhcp_started = uptime_s();
	if (dhcp_pid < 0)
		dhcp_pid = 0;
}

static void shutdown_finish(struct init_state *s)
{
	bootconf_unmount_data();
	power(s->shutdown_how);
}

static void print_zombies(void)
{
	char line[16 + 12 * ZOMBIES_SHOWN];
	pid_t pids[ZOMBIES_SHOWN];
	size_t len;
	int n, i;

	n = procscan_zombies("/proc", pids, ZOMBIES_SHOWN);
	if (n < 0) {
		log_error("zombies: /proc: %s", strerror(-n));
		return;
	}
	len = (size_t)snprintf(line, sizeof(line), "zombies: %d", n);
	for (i = 0; i < n && i < ZOMBIES_SHOWN; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %d", (int)pids[i]);
	conout_printf(&con, "%s\n", line);
}

/* Each handle_* returns false once its fd is beyond use, so poll stops watching it instead of spinning. */

static bool handle_signals(struct init_state *s, int fd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(fd, &si, sizeof(si))) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			supervisor_reap(s->sv);
			break;
		case SIGTERM:
		case SIGINT:	/* ctrl-alt-del, see RB_DISABLE_CAD */
			log_info("received %s", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT (ctrl-alt-del)");
			shutdown_begin(s, RB_AUTOBOOT);
			break;
		case SIGUSR2:
		case SIGPWR:
			log_info("received %s", si.ssi_signo == SIGUSR2 ? "SIGUSR2" : "SIGPWR");
			shutdown_begin(s, RB_POWER_OFF);
			break;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		log_error("signalfd: %s; signals ignored from now on", strerror(errno));
		return false;
	}
	return true;
}

static bool handle_console(struct init_state *s)
{
	enum console_cmd_action action;
	char buf[256];
	const char *p = buf;
	size_t left, used;
	ssize_t n;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		log_error("console: %s; no longer reading commands", n ? strerror(errno) : "end of input");
		return false;
	}
	for (left = (size_t)n; left; p += used, left -= used) {
		used = console_cmd_feed(&s->console, p, left, &action);
		switch (action) {
		case CONSOLE_CMD_NONE:
			break;
		case CONSOLE_CMD_POWEROFF:
			shutdown_begin(s, RB_POWER_OFF);
			break;
		case CONSOLE_CMD_REBOOT:
			shutdown_begin(s, RB_AUTOBOOT);
			break;
		case CONSOLE_CMD_STATUS:
			print_banner();
			print_kvm(s);
			break;
		case CONSOLE_CMD_REJECTED:
			log_info("%s", s->console.reply);
			break;
		case CONSOLE_CMD_HELP:
			conout_put(&con, &con, console_cmd_help, strlen(console_cmd_help));
			break;
		case CONSOLE_CMD_GUESTS:
			supervisor_list(s->sv);
			break;
		case CONSOLE_CMD_ZOMBIES:
			print_zombies();
			break;
		case CONSOLE_CMD_RESCUE:
			rescue_start(s);
			/* The rest of this read belongs to the shell, which reads the console itself from now on. */
			if (rescue_pid)
				return true;
			break;
		case CONSOLE_CMD_GUEST:
			supervisor_show(s->sv, s->console.arg);
			break;
		case CONSOLE_CMD_START:
			supervisor_start(s->sv, s->console.arg);
			break;
		case CONSOLE_CMD_STOP:
			supervisor_stop(s->sv, s->console.arg);
			break;
		case CONSOLE_CMD_KILL:
			supervisor_kill(s->sv, s->console.arg);
			break;
		}
	}
	return true;
}

static bool handle_input(struct init_state *s, int fd)
{
	struct input_event ev[16];
	ssize_t n;
	size_t i;

	n = read(fd, ev, sizeof(ev));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n < 0) {
		log_error("input device: %s; no longer watched", strerror(errno));
		return false;
	}
	for (i = 0; i < (size_t)n / sizeof(ev[0]); i++) {
		if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1) {
			log_info("power button pressed");
			shutdown_begin(s, RB_POWER_OFF);
		}
	}
	return true;
}

static _Noreturn void serve(struct init_state *s)
{
	nfds_t i;
	bool keep;

	for (;;) {
		/* mgmt's socket changes when it is restarted. */
		s->fds[SLOT_MGMT].fd = mgmt.fd;
		s->fds[SLOT_MGMT].events = mgmtlink_events ? mgmtlink_events(&mgmt) : POLLIN;
		s->fds[SLOT_CONOUT].fd = conout_pending(&con) ? con.fd : -1;
		if (poll(s->fds, s->nfds, -1) < 0) {
			if (errno != EINTR) {
				log_error("poll: %s", strerror(errno));
				sleep(1);	/* whatever broke poll, do not spin on it */
			}
			continue;
		}
		for (i = 0; i < s->nfds; i++) {
			if (!s->fds[i].revents)
				continue;
			if (i == SLOT_MGMT) {
				/* It closes and forgets the socket itself when it fails. */
				mgmtlink_handle(&mgmt);
				continue;
			}
			if (i == SLOT_CONOUT) {
				/* A write that fails drops what waits (counted), and the slot is free again. */
				conout_flush(&con);
				continue;
			}
			if (s->fds[i].revents & POLLNVAL)
				keep = false;
			else if (i == SLOT_SIGNALS)
				keep = handle_signals(s, s->fds[i].fd);
			else if (i == SLOT_CONSOLE)
				keep = handle_console(s);
			else if (i == SLOT_RELAY)
				keep = handle_relay(s->fds[i].fd);
			else if (i == SLOT_WATCHDOG) {
				watchdog_pet(&s->watchdog);
				keep = true;
			} else if (i == SLOT_SUPERVISOR) {
				supervisor_dispatch(s->sv);
				keep = true;
			} else
				keep = handle_input(s, s->fds[i].fd);
			if (!keep) {
				if (i != SLOT_CONSOLE)	/* fd 0 stays open: children will inherit it */
					close(s->fds[i].fd);
				s->fds[i].fd = -1;	/* poll ignores negative fds */
			}
		}
		if (s->shutdown_how && supervisor_idle(s->sv))
			shutdown_finish(s);
	}
}

static _Noreturn void run_pid1(struct init_state *s)
{
	int fd;

	/* Make ctrl-alt-del send SIGINT to PID 1 instead of rebooting on the spot: shutdown stays orderly. */
	if (reboot(RB_DISABLE_CAD) < 0)
		log_error("reboot(RB_DISABLE_CAD): %s", strerror(errno));
	/* First, so a signal that arrives during the slow steps below is queued instead of ignored. */
	fd = signals_open();
	if (fd < 0)
		log_error("signalfd: %s; signals ignored", strerror(-fd));
	s->fds[SLOT_SIGNALS] = (struct pollfd){ .fd = fd < 0 ? -1 : fd, .events = POLLIN };
	s->fds[SLOT_CONSOLE] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	s->fds[SLOT_CONOUT] = (struct pollfd){ .fd = -1, .events = POLLOUT };
	s->fds[SLOT_RELAY] = (struct pollfd){ .fd = -1, .events = POLLIN };
	s->fds[SLOT_SUPERVISOR] = (struct pollfd){ .fd = -1, .events = POLLIN };
	s->fds[SLOT_MGMT] = (struct pollfd){ .fd = -1, .events = POLLIN };
	s->fds[SLOT_WATCHDOG] = (struct pollfd){ .fd = -1, .events = POLLIN };
	s->nfds = SLOT_INPUT;
	mgmt.fd = -1;

	mount_all();
	console_open();
	output_open(s);
	print_banner();
	s->kvm_rc = kvm_probe(&s->kvm);
	print_kvm(s);
	inputs_open(s);
	if (!watchdog_open(&s->watchdog, "/dev/watchdog"))
		s->fds[SLOT_WATCHDOG].fd = s->watchdog.timer_fd;
	s->sv = &supervisor;
	fd = supervisor_init(s->sv, &con);
	if (fd < 0)
		log_error("supervisor: %s", strerror(-fd));
	else
		s->fds[SLOT_SUPERVISOR].fd = supervisor_fd(s->sv);
	supervisor_boot(s->sv);
	s->sv->other_exited = other_exited;
	s->sv->other_opaque = s;
	if (s->sv->configured)
		hostnet_up(&s->sv->host, &dhcp_pid);
	dhcp_started = uptime_s();
	if (mgmtlink_start) {
		mgmt.sv = s->sv;
		mgmt.kvm_ok = !s->kvm_rc;
		mgmt.kvm_api = s->kvm.api_version;
		mgmt.power = mgmt_power;
		mgmt.opaque = s;
		mgmtlink_start(&mgmt);
	}
	log_info("ready; type 'help', 'guests', 'poweroff' or 'reboot' on the console");
	serve(s);
}

int init_run(void)
{
	struct init_state s = { 0 };

	/* PID 1 replaces it with a non-blocking one of its own; a test's `shrike init` writes to stdout as it is. */
	conout_init(&con, STDOUT_FILENO);
	console_cmd_init(&s.console);
	if (getpid() == 1)
		run_pid1(&s);

	print_banner();
	log_info("not PID 1 (pid %d): not mounting, not serving the console, not rebooting", (int)getpid());
	s.kvm_rc = kvm_probe(&s.kvm);
	print_kvm(&s);
	return 0;
}
