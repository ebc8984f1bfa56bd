#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/relay_priv.h"

/* UDP: one connected host socket per guest flow; DNS to the network's address went to the nameserver (relay.c). */

#define UDP_PAYLOAD_MAX		(1500 - 20 - 8)
#define UDP_BUDGET		64

struct udp_conn {
	struct relay *r;
	struct nat_flow *flow;
	int fd;
	struct evloop_watch w;
};

void relay_udp_free(struct relay *r, struct nat_flow *f)
{
	struct udp_conn *u = f->conn;

	if (u) {
		evloop_del(r->env.loop, &u->w);
		close(u->fd);
		free(u);
	}
	nat_remove(&r->udp, f);
}

static void udp_host_event(struct evloop_watch *w, uint32_t events)
{
	static uint8_t buf[IO_CHUNK];
	struct udp_conn *u = w->opaque;
	struct relay *r = u->r;
	unsigned int budget = UDP_BUDGET;
	ip4_addr_t to;
	struct pbuf *p;
	ssize_t n;

	(void)events;
	pthread_mutex_lock(r->env.lock);
	to = relay_ip4(u->flow->guest_ip);
	while (budget--) {
		n = recv(u->fd, buf, sizeof(buf), 0);
		if (n < 0)
			break;		/* EAGAIN, or an ICMP error reported on the connected socket */
		if (n > UDP_PAYLOAD_MAX) {
			r->stats.udp_too_big++;
			continue;
		}
		p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)n, PBUF_RAM);
		if (!p)
			break;
		memcpy(p->payload, buf, (size_t)n);
		udp_sendto(r->udp_pcb, p, &to, u->flow->nat_port);
		pbuf_free(p);
		u->flow->expire_ms = relay_now_ms() + (u->flow->dst_port == 53 ? DNS_IDLE_MS : UDP_IDLE_MS);
	}
	pthread_mutex_unlock(r->env.lock);
}

void relay_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	static uint8_t buf[IO_CHUNK];
	struct relay *r = arg;
	struct nat_flow *f = nat_by_port(&r->udp, port);
	struct udp_conn *u = f ? f->conn : NULL;

	(void)pcb;
	if (u && ip4_addr_get_u32(ip_2_ip4(addr)) == htonl(f->guest_ip)) {
		pbuf_copy_partial(p, buf, p->tot_len, 0);
		if (send(u->fd, buf, p->tot_len, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ECONNREFUSED)
			r->stats.dropped_policy++;
	}
	pbuf_free(p);
}

enum relay_verdict relay_udp_open(struct relay *r, struct nat_flow *f, uint32_t hip, uint16_t hport)
{
	struct udp_conn *u = calloc(1, sizeof(*u));
	int fd = relay_host_socket(SOCK_DGRAM, hip, hport);

	if (!u || fd < 0)
		goto fail;
	*u = (struct udp_conn){ .r = r, .flow = f, .fd = fd };
	u->w = (struct evloop_watch){ .fd = fd, .fn = udp_host_event, .opaque = u };
	if (evloop_add(r->env.loop, &u->w, EPOLLIN) < 0)
		goto fail;
	f->conn = u;
	return RELAY_PASS;
fail:
	if (fd >= 0)
		close(fd);
	free(u);
	nat_remove(&r->udp, f);
	return RELAY_DROP;
}
