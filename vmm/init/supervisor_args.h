#ifndef SHRIKE_INIT_SUPERVISOR_ARGS_H
#define SHRIKE_INIT_SUPERVISOR_ARGS_H

#include "config/config.h"
#include "init/supervisor.h"

/*
 * The `shrike run` command line of a guest (docs/supervisor.md), for the guest's index in its configuration.
 * partlabel_sysfs is where `disk = label:` partitions are looked up (PARTLABEL_SYSFS). argv points into args and
 * ends with NULL. Returns 0 or -errno (logged).
 */
#define SUPERVISOR_ARGV_MAX	(40 + 2 * (GUEST_MAX_DISKS + GUEST_MAX_NICS))
struct supervisor_args {
	const char *argv[SUPERVISOR_ARGV_MAX];
	unsigned int argc;
	char kernel[CONFIG_PATH_MAX + 16];
	char initrd[CONFIG_PATH_MAX + 16];
	char cmdline[CONFIG_CMDLINE_MAX + 64];
	char mem[32], vcpus[16];
	char control[sizeof(SUPERVISOR_CTL_DIR) + CONFIG_NAME_MAX + 8];
	char disks[GUEST_MAX_DISKS][CONFIG_PATH_MAX + 16];
	/* a user NIC: "user,mac=...,net=.../N,address=..." and up to GUEST_MAX_FORWARDS ",forward=tcp:H:G" */
	char nics[GUEST_MAX_NICS][96 + 24 * GUEST_MAX_FORWARDS];
	char meta_name[8 + CONFIG_NAME_MAX], meta_vcpus[16], meta_memory[32], meta_cmdline[16 + CONFIG_CMDLINE_MAX];
	char meta_autostart[16], meta_mac[32], meta_address[32];
	char user_data[sizeof(SUPERVISOR_CTL_DIR) + CONFIG_NAME_MAX + 16];
	char stats_fd[16];		/* added at the start: the descriptor is made then */
};
int supervisor_build_args(const struct config_guest *c, unsigned int index, const char *partlabel_sysfs,
			  struct supervisor_args *a);
/* Appends "opt value" to a built command line (value must live as long as a). Returns 0 or -E2BIG. */
int supervisor_args_add(struct supervisor_args *a, const char *opt, const char *value);

_Static_assert(sizeof(((struct supervisor_args *)0)->cmdline) <= GUEST_MAX_CMDLINE + 1,
	       "a configured command line that run would refuse");

#endif
