#ifndef SHRIKE_RUN_OPTS_H
#define SHRIKE_RUN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "config/limits.h"
#include "hw/ib700.h"
#include "lib/addr.h"
#include "net/user.h"

/* What `shrike run` was asked for (docs/vmm.md, "Command line"); strings point into argv. */
struct run_disk {
	char *path;
	bool read_only;
};

struct run_nic {
	char *tap;			/* NULL: a user NIC */
	uint8_t mac[ADDR_MAC_LEN];
	struct net_user_conf user;
};

struct run_opts {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t mem;
	unsigned int vcpus;
	struct run_disk disks[GUEST_MAX_DISKS];
	unsigned int nr_disks;
	struct run_nic nics[GUEST_MAX_NICS];
	unsigned int nr_nics;
	struct metadata *md;		/* --metadata and --user-data; freed by run_opts_release() */
	bool no_acpi;
	bool virtio_console;		/* --console virtio: input goes to hvc0, not the UART */
	const char *control;		/* --control PATH */
	enum ib700_action watchdog;	/* --watchdog-action */
	int stats_fd;			/* --stats-fd N: the counter area PID 1 reads (run/stats.h), -1 */
	uint64_t start_ns;		/* CLOCK_MONOTONIC when run started, for the boot timer */
};

/*
 * Parses run's arguments (argv[0] is "run") into o, cutting values out of argv's strings, and checks that the
 * devices they ask for are built in (the device table, run/devices.h). Each problem is one logged line. Returns
 * 0 or -EINVAL; o needs run_opts_release() either way.
 */
int run_opts_parse(int argc, char **argv, struct run_opts *o);
void run_opts_release(struct run_opts *o);

#endif
