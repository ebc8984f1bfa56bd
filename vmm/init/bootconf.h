#ifndef SHRIKE_INIT_BOOTCONF_H
#define SHRIKE_INIT_BOOTCONF_H

#include "config/config.h"

#define BOOTCONF_CONFIG_LABEL	"shrike-config"
#define BOOTCONF_DATA_LABEL	"shrike-data"
#define BOOTCONF_DATA_DIR	"/data"
#define BOOTCONF_TLS_DIR	"/run/shrike/tls"	/* the [mgmt] files, for `shrike mgmt` to read */

/*
 * The PID 1's view of its configuration: finds the config partition by GPT label, takes its current slot and
 * loads shrike.conf from it (checked against the host's RAM). Says on the console which slot it took, or why
 * there is none, and every configuration error. The payload files [mgmt] names are written to BOOTCONF_TLS_DIR
 * (mode 0600, on tmpfs). Returns 0 with cfg filled and *text a malloc()ed copy of shrike.conf (*text_len bytes,
 * NUL-terminated; NULL if there was no memory for it), or -errno: the caller then stays in the safe state.
 */
int bootconf_load(struct config *cfg, char **text, size_t *text_len);

/* Mounts the data partition, found by its GPT label, on BOOTCONF_DATA_DIR. Returns 0 or -errno (logged). */
int bootconf_mount_data(void);

/* Flushes and unmounts the data partition if bootconf_mount_data() mounted it; errors are logged. */
void bootconf_unmount_data(void);

#endif
