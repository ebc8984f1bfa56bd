#ifndef SHRIKE_NET_RELAY_PRIV_H
#define SHRIKE_NET_RELAY_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "lib/evloop.h"
#include "net/nat.h"
#include "net/relay.h"

/*
 * What the files of the relay share, for them alone: relay.c (flows, host destinations, the timer, lifetime),
 * relay_tcp.c (TCP connections, metadata included), relay_udp.c (UDP flows), relay_forward.c (port forwards).
 */

#define CONNECT_TIMEOUT_MS	10000
#define UDP_IDLE_MS		60000
#define DNS_IDLE_MS		10000
/* Guest data lwIP handed us but the host socket did not take yet: at most a window's worth in pbufs. */
#define TO_HOST_QUEUE		128
#define IO_CHUNK		65536

enum conn_state {
	CONN_CONNECTING,	/* host connect() in progress; the guest's SYN is held */
	CONN_ACCEPTING,		/* the SYN went to lwIP; waiting for the handshake to complete */
	CONN_GUEST_CONNECTING,	/* a port forward: lwIP connects to the guest */
	CONN_OPEN,
};

struct conn {
	struct relay *r;
	struct conn *next, *prev;
	struct nat_flow *flow;		/* NULL for a port forward */
	struct tcp_pcb *pcb;
	int fd;				/* -1 for metadata */
	struct evloop_watch w;
	uint32_t events;		/* what the loop watches on fd now */
	enum conn_state state;
	bool metadata, pending_check;
	bool guest_eof;			/* lwIP delivered the guest's FIN */
	bool host_eof;			/* the host side will send nothing more */
	bool host_shut;			/* we sent the host our FIN */
	bool guest_shut;		/* lwIP sent the guest our FIN */
	bool dead;			/* reset: drop everything and go */
	bool hup;			/* the host socket hung up */
	uint8_t *syn;			/* held SYN (rewritten, for lwIP) */
	size_t syn_len;
	uint32_t syn_seq;
	uint64_t deadline;
	struct pbuf *q[TO_HOST_QUEUE];	/* guest -> host */
	unsigned int qhead, qn;
	uint8_t *pend;			/* host -> guest bytes lwIP did not take yet */
	size_t pend_len, pend_off;
	char *req;			/* metadata: the request so far */
	size_t req_len;
	struct conn *next_check;
};

struct forward {
	struct relay *r;
	int fd;
	uint16_t guest_port;
	struct evloop_watch w;
};

struct relay {
	struct relay_env env;
	struct nat_table tcp, udp;
	struct tcp_pcb *listen;
	struct udp_pcb *udp_pcb;
	struct conn *conns;
	struct conn *check;		/* conns an lwIP callback marked for relay_run_pending() */
	unsigned int ntcp_conns, nforward_conns, nmetadata_conns;
	struct forward fwd[RELAY_MAX_FORWARDS];
	unsigned int nfwd;
	struct relay_stats stats;
	uint32_t nameserver;
	struct timespec resolv_mtime;
	ino_t resolv_ino;
	bool resolv_read, dns_warned;
};

/* relay.c */
ip4_addr_t relay_ip4(uint32_t host_order);
/* A non-blocking socket connecting to ip:port (TCP_NODELAY for a stream), or -errno. */
int relay_host_socket(int type, uint32_t ip, uint16_t port);

/* relay_tcp.c */
struct conn *relay_conn_new(struct relay *r, int fd, enum conn_state state);
void relay_conn_free(struct conn *c);
/* Queues c for relay_run_pending(), which decides what is left to do outside lwIP's callbacks. */
void relay_conn_mark(struct conn *c);
void relay_conn_attach(struct conn *c, struct tcp_pcb *pcb);
void relay_conn_err(void *arg, err_t err);
err_t relay_tcp_accept(void *arg, struct tcp_pcb *pcb, err_t err);
void relay_tcp_refuse(struct relay *r, const struct nat_pkt *pk);
enum relay_verdict relay_tcp_open(struct relay *r, struct nat_flow *f, uint8_t *frame, size_t len,
				  const struct nat_pkt *pk, uint32_t hip, uint16_t hport, bool metadata);
void relay_tcp_tick(struct relay *r, uint64_t now);

/* relay_udp.c */
enum relay_verdict relay_udp_open(struct relay *r, struct nat_flow *f, uint32_t hip, uint16_t hport);
void relay_udp_free(struct relay *r, struct nat_flow *f);
void relay_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port);

/* relay_forward.c */
int relay_forward_listen(struct relay *r, uint16_t host_port, uint16_t guest_port);

#endif
