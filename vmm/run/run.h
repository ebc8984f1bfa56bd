#ifndef SHRIKE_RUN_RUN_H
#define SHRIKE_RUN_RUN_H

/*
 * `shrike run`: boot one guest in the foreground. Exit statuses, for scripts and the supervisor's restart policy
 * (docs/vmm.md): the guest powered off, rebooted or crashed, its watchdog expired, the host asked us to stop, or we could not run it.
 */
#define RUN_EXIT_POWEROFF	0
#define RUN_EXIT_ERROR		1
#define RUN_EXIT_USAGE		2
#define RUN_EXIT_REBOOT		10
#define RUN_EXIT_CRASH		11
#define RUN_EXIT_SIGNAL		12
#define RUN_EXIT_WATCHDOG	13

/* argv[0] is "run". Returns one of the RUN_EXIT_* statuses. */
int run_main(int argc, char **argv);

#endif
