#ifndef SHRIKE_INIT_HOSTNET_H
#define SHRIKE_INIT_HOSTNET_H

#include "config/config.h"

#include <sys/types.h>

/*
 * The host's own network, as far as it goes so far: loopback, and the management NIC with the static address and
 * default route of [host], or with `address = dhcp` busybox's udhcpc in the foreground (it renews the lease), with
 * a script PID 1 writes that applies the lease with busybox `ip`. Bridges and taps are not done yet. Returns 0 or
 * -errno (logged); *dhcp_pid is udhcpc's pid, 0 without one.
 */
int hostnet_up(const struct config_host *h, pid_t *dhcp_pid);

/* Starts udhcpc again (after it exited). Returns its pid or -errno. */
pid_t hostnet_dhcp_start(const struct config_host *h);

#endif
