#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hw/absent.h"
#include "hw/acpi_pm.h"
#include "hw/boot_timer.h"
#include "hw/i8042.h"
#include "hw/rtc.h"
#include "hw/serial.h"
#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "run/console.h"
#include "run/control.h"
#include "run/devices.h"
#include "run/load.h"
#include "run/opts.h"
#include "run/run.h"
#include "run/stats.h"

static const char *const exit_names[] = {
	[VM_RUNNING] = "still running",
	[VM_EXIT_POWEROFF] = "the guest powered off",
	[VM_EXIT_REBOOT] = "the guest rebooted",
	[VM_EXIT_CRASH] = "the guest crashed",
	[VM_EXIT_ERROR] = "VMM error",
	[VM_EXIT_SIGNAL] = "stopped by a signal",
	[VM_EXIT_WATCHDOG] = "the guest's watchdog expired",
};

static int vm_status(int reason)
{
	switch (reason) {
	case VM_EXIT_POWEROFF:
		return RUN_EXIT_POWEROFF;
	case VM_EXIT_REBOOT:
		return RUN_EXIT_REBOOT;
	case VM_EXIT_CRASH:
		return RUN_EXIT_CRASH;
	case VM_EXIT_SIGNAL:
		return RUN_EXIT_SIGNAL;
	case VM_EXIT_WATCHDOG:
		return RUN_EXIT_WATCHDOG;
	default:
		return RUN_EXIT_ERROR;
	}
}

/* Waits for the guest to end or the host to ask us to stop, whichever comes first. */
static void wait_for_exit(struct vm *vm, int sig_fd)
{
	struct pollfd fds[2] = { { .fd = vm->exit_fd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN } };
	struct signalfd_siginfo si;

	while (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			vm_request_exit(vm, VM_EXIT_ERROR);
			return;
		}
		if (!(fds[1].revents & POLLIN) || read(sig_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGPWR) {
			log_info("SIGPWR received, pressing the guest's power button");
			acpi_pm_power_button(vm);
			continue;
		}
		log_info("%s received, stopping the guest", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		vm_request_exit(vm, VM_EXIT_SIGNAL);
	}
}

/*
 * On a terminal the guest gets every key as typed (Ctrl-C included) and echoes for itself; SIGTERM and SIGINT
 * from elsewhere still stop us. Output passes untouched: the guest's own tty already turned \n into \r\n. Only
 * in the foreground: a background job that changed the terminal would be stopped by SIGTTOU, and would fight the
 * shell over it. Returns the descriptor whose terminal changed, or -1.
 */
static int raw_terminal(struct termios *saved)
{
	struct termios t;
	pid_t fg;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved) < 0)
		return -1;
	/* A terminal that is nobody's controlling terminal (a console under init) has no foreground group. */
	fg = tcgetpgrp(STDIN_FILENO);
	if (fg >= 0 && fg != getpgrp())
		return -1;
	t = *saved;
	t.c_iflag &= (tcflag_t)~ICRNL;
	t.c_lflag &= (tcflag_t)~(ICANON | ECHO | ISIG);
	t.c_oflag &= (tcflag_t)~OPOST;
	return tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0 ? STDIN_FILENO : -1;
}

/* Everything one running guest is made of. run_guest_teardown() undoes run_guest_build() from wherever it stopped. */
struct run_guest {
	struct vm vm;
	bool vm_made;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;		/* created so far */
	unsigned int nr_started;
	struct evloop loop;
	bool loop_made;
	struct console_out cout;
	bool cout_made;
	struct console_in cin;
	bool cin_made;
	struct serial serial;
	bool serial_made;
	struct rtc rtc;
	struct boot_timer boot_timer;
	struct run_device_env devs;	/* what the device table made */
	struct control_guest control_guest;
	struct control control;
	bool control_made;
	struct termios saved_tty;
	int tty_fd;			/* the terminal raw_terminal() changed, or -1 */
	char cmdline[GUEST_MAX_CMDLINE + 1 + VIRTIO_MMIO_MAX_DEVICES * 64];
	struct run_boot boot;
};

static int run_guest_build(struct run_guest *g, const struct run_opts *o)
{
	int ret;

	ret = vm_create(&g->vm, o->mem);
	if (ret < 0)
		return ret;
	g->vm_made = true;
	g->cpuid = cpuid_supported(g->vm.kvm_fd);
	g->vcpus = calloc(o->vcpus, sizeof(*g->vcpus));
	if (!g->cpuid || !g->vcpus)
		return -ENOMEM;
	ret = evloop_init(&g->loop);
	if (ret < 0)
		return ret;
	g->loop_made = true;
	ret = console_out_init(&g->cout, STDOUT_FILENO);
	if (ret < 0)
		return ret;
	g->cout_made = true;
	g->devs = (struct run_device_env){ .vm = &g->vm, .loop = &g->loop, .opts = o,
					   .console_emit = console_out_emit, .console_opaque = &g->cout };
	ret = run_devices_create(&g->devs);
	if (ret < 0)
		return ret;
	snprintf(g->cmdline, sizeof(g->cmdline), "%s", o->cmdline);
	/* With ACPI the DSDT describes the devices; a device announced twice would be probed twice. */
	if (o->no_acpi) {
		ret = run_devices_cmdline(&g->devs, g->cmdline, sizeof(g->cmdline));
		if (ret < 0)
			return ret;
	}
	ret = run_load_guest(&g->vm, o, g->cmdline, g->cpuid, &g->boot);
	if (ret < 0)
		return ret;
	if (!o->no_acpi) {
		ret = run_load_acpi(&g->vm, o->vcpus, g->devs.virtio, g->devs.nr_virtio);
		if (ret < 0)
			return ret;
	}
	/* With --console virtio the UART still prints (early boot messages) but takes no input. */
	ret = serial_create(&g->serial, &g->vm, o->virtio_console ? -1 : STDIN_FILENO, console_out_emit, &g->cout);
	if (ret < 0)
		return ret;
	g->serial_made = true;
	if (g->devs.console) {
		ret = console_in_init(&g->cin, &g->loop, STDIN_FILENO, g->devs.console);
		if (ret < 0)
			return ret;
		g->cin_made = true;
	}
	ret = i8042_create(&g->vm);
	if (ret == 0)
		ret = absent_create(&g->vm);
	if (ret == 0)
		ret = rtc_create(&g->rtc, &g->vm);
	if (ret == 0)
		ret = boot_timer_create(&g->boot_timer, &g->vm, o->start_ns);
	if (ret < 0)
		return ret;
	for (g->nr_vcpus = 0; g->nr_vcpus < o->vcpus; g->nr_vcpus++) {
		ret = vcpu_create(&g->vcpus[g->nr_vcpus], &g->vm, g->nr_vcpus, o->vcpus, g->cpuid);
		if (ret < 0)
			return ret;
	}
	if (g->boot.pvh)
		ret = vcpu_setup_pvh(&g->vcpus[0], (uint32_t)g->boot.entry, (uint32_t)g->boot.arg);
	else
		ret = vcpu_setup_long_mode(&g->vcpus[0], g->boot.entry, g->boot.arg);
	if (ret < 0)
		return ret;
	if (o->control) {
		g->control_guest = (struct control_guest){ .vm = &g->vm, .vcpus = g->vcpus, .nr_vcpus = o->vcpus,
							   .balloon = g->devs.balloon };
		ret = control_open(&g->control, &g->loop, o->control, &g->control_guest);
		if (ret < 0)
			return ret;
		g->control_made = true;
	}
	return 0;
}

static int run_guest_start(struct run_guest *g)
{
	int ret;

	g->tty_fd = raw_terminal(&g->saved_tty);
	ret = console_out_start(&g->cout);
	if (ret == 0)
		ret = evloop_start(&g->loop);
	if (ret == 0)
		ret = serial_start(&g->serial);
	for (; ret == 0 && g->nr_started < g->nr_vcpus; g->nr_started++)
		ret = vcpu_start(&g->vcpus[g->nr_started]);
	return ret;
}

/* Stops the threads first, so that no vCPU, handler or writer touches what is freed after them. */
static void run_guest_teardown(struct run_guest *g)
{
	unsigned int i;

	if (!g->vm_made)
		return;
	vm_request_exit(&g->vm, VM_EXIT_ERROR);		/* a no-op if the guest already ended */
	for (i = 0; i < g->nr_vcpus; i++)
		vcpu_stop(&g->vcpus[i]);
	if (g->serial_made)
		serial_destroy(&g->serial);
	if (g->loop_made)
		evloop_stop(&g->loop);
	if (g->control_made)
		control_close(&g->control);
	if (g->cin_made)
		console_in_destroy(&g->cin);
	if (g->tty_fd >= 0)
		tcsetattr(g->tty_fd, TCSANOW, &g->saved_tty);
	for (i = 0; i < g->nr_vcpus; i++)
		vcpu_destroy(&g->vcpus[i]);
	run_devices_destroy(&g->devs);
	if (g->cout_made)
		console_out_destroy(&g->cout);
	if (g->loop_made)
		evloop_destroy(&g->loop);
	free(g->vcpus);
	free(g->cpuid);
	vm_destroy(&g->vm);
}

static int run_vm(const struct run_opts *o, int sig_fd)
{
	struct run_guest *g = calloc(1, sizeof(*g));
	int ret, why;

	if (!g) {
		log_error("out of memory");
		return RUN_EXIT_ERROR;
	}
	g->tty_fd = -1;
	ret = run_guest_build(g, o);
	if (ret == 0) {
		ret = run_guest_start(g);
		if (ret < 0)
			vm_request_exit(&g->vm, VM_EXIT_ERROR);
		wait_for_exit(&g->vm, sig_fd);
		ret = 0;
	}
	why = g->vm_made ? atomic_load(&g->vm.exit_reason) : VM_EXIT_ERROR;
	run_guest_teardown(g);
	free(g);
	if (ret < 0)
		return RUN_EXIT_ERROR;
	log_info("%s (exit status %d)", exit_names[why], vm_status(why));
	return vm_status(why);
}

int run_main(int argc, char **argv)
{
	struct timespec now;
	struct run_opts o;
	sigset_t stop, old;
	int sig_fd, status;

	log_set_role("run");
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (run_opts_parse(argc, argv, &o) < 0) {
		run_opts_release(&o);
		return RUN_EXIT_USAGE;
	}
	o.start_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	/* Before any device or vCPU takes its counter slot; the mapping outlives the descriptor. */
	if (o.stats_fd >= 0) {
		status = stats_attach(o.stats_fd);
		close(o.stats_fd);
		if (status < 0) {
			run_opts_release(&o);
			return RUN_EXIT_ERROR;
		}
	}
	/* Blocked before any thread starts, so only the signalfd sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGPWR);
	sigprocmask(SIG_BLOCK, &stop, &old);
	sig_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sig_fd < 0) {
		log_error("signalfd: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		run_opts_release(&o);
		return RUN_EXIT_ERROR;
	}
	status = run_vm(&o, sig_fd);
	close(sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	run_opts_release(&o);
	return status;
}
