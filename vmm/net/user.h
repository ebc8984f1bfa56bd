#ifndef SHRIKE_NET_USER_H
#define SHRIKE_NET_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/limits.h"
#include "lib/evloop.h"
#include "net/backend.h"

struct metadata;

/*
 * The user network (docs/network.md): the guest's NIC on a private IPv4 network served by lwIP inside this
 * process, like QEMU's -netdev user. The VMM is the gateway (net+2), answers DHCP and relays DNS (net+3) to the
 * host's resolver; guest TCP and UDP leave through ordinary host sockets; forwards bring host ports in; the
 * metadata service answers at 169.254.169.254:80. IPv4 values in host byte order.
 */
struct net_user_conf {
	uint8_t guest_mac[6];
	uint32_t net;
	unsigned int prefix;		/* GUEST_USER_NET_MIN_PREFIX .. GUEST_USER_NET_MAX_PREFIX */
	uint32_t guest_addr;		/* 0: net+15 */
	struct { uint16_t host_port, guest_port; } forwards[GUEST_MAX_FORWARDS];
	unsigned int nforwards;
	struct metadata *md;		/* may be NULL: no metadata service */
	const char *hostname;		/* DHCP option 12, may be NULL */
	bool host_loopback;		/* the gateway address (and 127/8) reach the host's 127.0.0.1 */
	const char *resolv_conf;	/* NULL: /etc/resolv.conf */
};

/*
 * Opens the backend; the event handlers of its sockets and timer go into loop. Returns 0 or -errno, logged
 * (a forward whose port cannot be bound names it). Several user NICs in one process need disjoint networks.
 * Weak, so that run links without CONFIG_NET_USER: the symbol is then NULL and run refuses --net user.
 */
int net_user_open(const struct net_user_conf *c, struct evloop *loop, struct net_backend **out)
	__attribute__((weak));

#endif
