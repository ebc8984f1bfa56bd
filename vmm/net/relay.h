#ifndef SHRIKE_NET_RELAY_H
#define SHRIKE_NET_RELAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/evloop.h"
#include "net/nat.h"

/*
 * The relays of the user network: every guest TCP connection and UDP flow that the NAT (net/nat.h) handed to
 * lwIP is joined here to an ordinary non-blocking host socket; DNS to the network's DNS address goes to the first
 * nameserver of resolv.conf; TCP to 169.254.169.254:80 is answered by metadata_handle(); each port forward is a
 * listening host socket whose connections lwIP opens towards the guest. Everything runs under env.lock on the
 * event thread. IPv4 values in host byte order.
 */

struct metadata;
struct netif;
struct relay;

#define RELAY_METADATA_IP	0xa9fea9feu	/* 169.254.169.254 */
#define RELAY_MAX_FORWARDS	16

struct relay_env {
	struct evloop *loop;
	pthread_mutex_t *lock;		/* taken by the relay's own event handlers */
	uint32_t net, mask, gateway, dns, guest_ip;
	uint8_t gateway_mac[6], guest_mac[6];
	struct metadata *md;		/* NULL: no metadata service */
	bool host_loopback;		/* the gateway address and 127/8 reach the host's loopback */
	const char *resolv_conf;	/* NULL: /etc/resolv.conf */
	struct { uint16_t host_port, guest_port; } forwards[RELAY_MAX_FORWARDS];
	unsigned int nforwards;
	/* A whole Ethernet frame for the guest (a crafted RST), and a rewritten one for lwIP (a held SYN). */
	void (*to_guest)(void *opaque, const uint8_t *frame, size_t len);
	void (*to_lwip)(void *opaque, const uint8_t *frame, size_t len);
	void *opaque;
};

struct relay_stats {
	unsigned long tcp_refused_limit, udp_dropped_limit, dropped_policy, dropped_malformed, udp_too_big;
};

/* After lwIP is initialised and the netif is up. Binds the forwards; a failure names the port. */
int relay_create(const struct relay_env *env, struct relay **out);
void relay_destroy(struct relay *r);

enum relay_verdict { RELAY_PASS, RELAY_DROP, RELAY_HELD };

/*
 * An IPv4 packet from the guest (ip: after the Ethernet header of frame), parsed into pk. Creates flows and
 * rewrites the packet in place for lwIP (RELAY_PASS), keeps a copy to hand over later (RELAY_HELD: the SYN of a
 * connection whose host side is still connecting), or refuses it (RELAY_DROP, maybe with an RST sent).
 */
enum relay_verdict relay_guest_ip(struct relay *r, uint8_t *frame, size_t len, const struct nat_pkt *pk);
/* A frame lwIP sends to the guest: the replies of relayed flows get their original addresses back. */
void relay_guest_out(struct relay *r, uint8_t *frame, size_t len);
/* The timer: connect deadlines, idle UDP flows, lingering TCP flows. */
void relay_tick(struct relay *r, uint64_t now_ms);
/* Completes what lwIP callbacks deferred (closing connections); after every call into lwIP. */
void relay_run_pending(struct relay *r);
const struct relay_stats *relay_stats(const struct relay *r);

uint64_t relay_now_ms(void);

#endif
