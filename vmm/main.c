#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/check.h"
#include "run/control.h"
#include "init/init.h"
#include "kvm/probe.h"
#include "lib/log.h"
#include "mgmt/mgmt.h"
#include "run/run.h"

/* Exit statuses beyond 0/1, for scripts: 2 is a usage error, 77 is "cannot run here" to automake-style tests. */
#define EXIT_USAGE 2
#define EXIT_SKIP 77

static int cmd_kvm_probe(void)
{
	struct kvm_probe_result r;
	int rc;

	rc = kvm_probe(&r);
	kvm_probe_report(rc, &r);
	if (rc == -ENOENT)
		return EXIT_SKIP;
	return rc ? 1 : 0;
}

static int cmd_check(int argc, char **argv)
{
	if (argc != 2) {
		log_error("usage: shrike check FILE");
		return EXIT_USAGE;
	}
	return check_file(argv[1]);
}

static int cmd_mgmt(int argc, char **argv)
{
	if (!mgmt_main) {
		log_error("mgmt: not built in (CONFIG_MGMT is not set)");
		return 1;
	}
	return mgmt_main(argc, argv);
}

static int cmd_version(void)
{
	printf("shrike %s\n", SHRIKE_VERSION);
	return 0;
}

static int cmd_help(void);

static const struct command {
	const char *name;
	const char *alias;
	int (*run)(void);
	int (*run_args)(int argc, char **argv);	/* instead of run, for commands with options */
	const char *help;
} commands[] = {
	{ "init", NULL, init_run, NULL, "the PID 1 role; run by hand it only prints what it would report" },
	{ "run", NULL, NULL, run_main,
	  "boot a guest: run --kernel BZIMAGE|VMLINUX [--initrd FILE] [--cmdline TEXT] [--mem 256M] [--vcpus N]\n"
	  "              [--disk PATH[,ro]]... [--net tap=NAME[,mac=MAC]]... [--console serial|virtio]\n"
	  "              [--net user[,mac=MAC][,net=A.B.C.D/N][,address=A.B.C.D][,forward=tcp:HOST:GUEST]...\n"
	  "              [,loopback]]... [--metadata KEY=VALUE]... [--user-data FILE]\n"
	  "              [--control SOCKET] [--no-acpi] [--watchdog-action reset|poweroff|none];\n"
	  "              SIGPWR presses the guest's power button;\n"
	  "              exit 0 poweroff, 10 reboot, 11 crash, 12 SIGTERM/SIGINT, 13 watchdog reset, 1 error, 2 usage" },
	{ "ctl", NULL, NULL, control_client_main,
	  "ctl SOCKET COMMAND: talk to a run --control SOCKET: info, shutdown, balloon SIZE, pause, resume, stop" },
	{ "kvm-probe", NULL, cmd_kvm_probe, NULL, "run a tiny guest on /dev/kvm; exit 0 ok, 1 failed, 77 no /dev/kvm" },
	{ "check", NULL, NULL, cmd_check, "check FILE: validate a shrike.conf; exit 0 good, 1 errors" },
	{ "mgmt", NULL, NULL, cmd_mgmt,
	  "serve the management API: mgmt --listen ADDR:PORT --cert F --key F --client-ca F --supervisor-fd N" },
	{ "--version", "version", cmd_version, NULL, "print the version" },
	{ "help", "--help", cmd_help, NULL, "print this help" },
};

static int cmd_help(void)
{
	size_t i;

	printf("usage: shrike COMMAND [OPTIONS]\n"
	       "As PID 1, or when called as 'init', shrike runs the init role.\n\n"
	       "commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-11s %s\n", commands[i].name, commands[i].help);
	return 0;
}

static const struct command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name) || (commands[i].alias && !strcmp(commands[i].alias, name)))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	const char *self, *slash;

	/* The kernel starts /init with whatever arguments the boot loader left over: ignore them as PID 1. */
	self = argc > 0 ? argv[0] : "";
	slash = strrchr(self, '/');
	if (getpid() == 1 || !strcmp(slash ? slash + 1 : self, "init"))
		return init_run();

	if (argc < 2) {
		log_error("no command given; try 'shrike help'");
		return EXIT_USAGE;
	}
	cmd = command_find(argv[1]);
	if (!cmd) {
		log_error("unknown command '%s'; try 'shrike help'", argv[1]);
		return EXIT_USAGE;
	}
	if (cmd->run_args)
		return cmd->run_args(argc - 1, argv + 1);
	if (argc > 2) {
		log_error("%s takes no arguments", cmd->name);
		return EXIT_USAGE;
	}
	return cmd->run();
}
