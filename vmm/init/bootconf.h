#ifndef SHRIKE_INIT_BOOTCONF_H
#define SHRIKE_INIT_BOOTCONF_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/partition.h"

#define BOOTCONF_CONFIG_LABEL	"shrike-config"
#define BOOTCONF_DATA_LABEL	"shrike-data"
#define BOOTCONF_DATA_DIR	"/data"
#define BOOTCONF_TLS_DIR	"/run/shrike/tls"	/* the [mgmt] files, for `shrike mgmt` to read */

/*
 * The PID 1's view of its configuration: finds the config partition by GPT label, takes its current slot and
 * loads shrike.conf from it (checked against the host's RAM, and every payload file it names must be in the slot).
 * Says on the console which slot it took, or why there is none, and every configuration error. The payload files
 * [mgmt] names are written to BOOTCONF_TLS_DIR (mode 0600, on tmpfs). Returns 0 with cfg filled, part holding the
 * current slot's files (the user-data files and the next config write need them; partition_release() it) and dev
 * the partition's device (dev_size bytes), or -errno: the caller then stays in the safe state, part released.
 */
int bootconf_load(struct config *cfg, struct partition *part, char *dev, size_t dev_size);

/* The RAM the autostart guests must fit in; 0 when unknown (the check is then skipped). */
uint64_t bootconf_host_memory(void);

/*
 * Every payload file cfg names must be one of files[]: an error at the line that names it otherwise. What
 * `shrike check` checks against a directory, checked against the partition. Returns 0 or -EINVAL.
 */
int bootconf_check_refs(const struct config *cfg, const struct partition *part, struct config_errors *errs);

/*
 * Writes text as the next generation of the config partition on dev: shrike.conf and the payload files cfg names,
 * taken from part (the current slot). Power-loss safe (config/partition.c). Returns 0 with next holding the slot
 * as read back (partition_release() it) and *generation its generation, or -errno (logged; the current slot
 * stays current).
 */
int bootconf_write(const char *dev, const struct partition *part, const struct config *cfg, const char *text,
		   size_t len, struct partition *next, uint64_t *generation);

/* Writes data to path (mode 0600, replaced if it exists, no symlinks followed). Returns 0 or -errno. */
int bootconf_write_file(const char *path, const void *data, size_t len);

/* Mounts the data partition, found by its GPT label, on BOOTCONF_DATA_DIR. Returns 0 or -errno (logged). */
int bootconf_mount_data(void);

/* Flushes and unmounts the data partition if bootconf_mount_data() mounted it; errors are logged. */
void bootconf_unmount_data(void);

#endif
