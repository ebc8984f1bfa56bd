#ifndef SHRIKE_INIT_HOSTNET_H
#define SHRIKE_INIT_HOSTNET_H

#include "config/config.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The host's own network: loopback, and the management NIC with the static address and default route of [host],
 * or with `address = dhcp` busybox's udhcpc in the foreground (it renews the lease), with a script PID 1 writes
 * that applies the lease with busybox `ip`. Returns 0 or -errno (logged); *dhcp_pid is udhcpc's pid, 0 without one.
 */
int hostnet_up(const struct config_host *h, pid_t *dhcp_pid);

/* Starts udhcpc again (after it exited). Returns its pid or -errno. */
pid_t hostnet_dhcp_start(const struct config_host *h);

/*
 * Creates every [bridge NAME] (an existing one is reused), enslaves its ports and brings all of them up, over a
 * NETLINK_ROUTE socket. Each failure is logged naming the interface; the others go on. Returns 0 or the first
 * -errno.
 */
int hostnet_bridges_up(const struct config *cfg);

/*
 * A guest NIC's tap: created persistent (TUNSETIFF, TUNSETPERSIST) if it does not exist, attached to bridge and
 * brought up, so that the guest's VMM only has to open it. Returns 0 or -errno (logged, naming tap and bridge).
 */
int hostnet_tap_attach(const char *tap, const char *bridge);

/*
 * The netlink requests, built into buf (size bytes) for the tests: a new link of kind "bridge" named name
 * (NLM_F_CREATE, and NLM_F_EXCL unless an existing one may stay); and ifindex set up and, with master > 0,
 * enslaved to master. Return the message length, or -ENOSPC.
 */
int hostnet_msg_new_bridge(void *buf, size_t size, uint32_t seq, const char *name);
int hostnet_msg_set_link(void *buf, size_t size, uint32_t seq, int ifindex, int master);

#endif
