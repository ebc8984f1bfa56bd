#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>		/* TCP_NODELAY; netinet/tcp.h would clash with lwIP's TCP_MSS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "lib/log.h"
#include "net/metadata.h"
#include "net/relay.h"

#define CONNECT_TIMEOUT_MS	10000
/* lwIP gives up on a half-open connection after TCP_SYN_RCVD_TIMEOUT (20 s); we wait a little longer. */
#define ACCEPT_TIMEOUT_MS	25000
#define UDP_IDLE_MS		60000
#define DNS_IDLE_MS		10000
/*
 * A closed flow keeps its NATPORT while lwIP may still send on it (the rest of a response, TIME_WAIT: 2 * TCP_MSL),
 * so those segments still get their addresses back. The NAT table has room for lingering flows beyond
 * RELAY_TCP_CONNS_MAX live ones, and the oldest lingering flow makes room when it is full.
 */
#define LINGER_MS		(2 * TCP_MSL + 3000)
#define RELAY_TCP_CONNS_MAX	256
#define FORWARD_CONNS_MAX	64
#define METADATA_CONNS_MAX	8
/* Guest data lwIP handed us but the host socket did not take yet: at most a window's worth in pbufs. */
#define TO_HOST_QUEUE		128
#define IO_CHUNK		65536
#define UDP_PAYLOAD_MAX		(1500 - 20 - 8)
#define UDP_BUDGET		64

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

struct udp_conn {
	struct relay *r;
	struct nat_flow *flow;
	int fd;
	struct evloop_watch w;
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

uint64_t relay_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static ip4_addr_t ip4(uint32_t host_order)
{
	ip4_addr_t a;

	ip4_addr_set_u32(&a, htonl(host_order));
	return a;
}

/* ---- DNS: the first IPv4 nameserver of resolv.conf, read again whenever the file changes ---- */

static void resolv_refresh(struct relay *r)
{
	const char *path = r->env.resolv_conf ? r->env.resolv_conf : "/etc/resolv.conf";
	char line[256], addr[64];
	struct in_addr a;
	struct stat st;
	FILE *f;

	if (stat(path, &st) < 0) {
		r->nameserver = 0;
		return;
	}
	if (r->resolv_read && st.st_ino == r->resolv_ino && st.st_mtim.tv_sec == r->resolv_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == r->resolv_mtime.tv_nsec)
		return;
	r->resolv_read = true;
	r->resolv_ino = st.st_ino;
	r->resolv_mtime = st.st_mtim;
	r->nameserver = 0;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %63s", addr) == 1 && inet_pton(AF_INET, addr, &a) == 1) {
			r->nameserver = ntohl(a.s_addr);
			break;
		}
	fclose(f);
}

/*
 * Where a new flow to dst:dport goes on the host, or false when it must not: the network's own addresses, link
 * local (a cloud's metadata service), multicast and broadcast never leave; loopback only when asked for.
 */
static bool host_dest(struct relay *r, uint8_t proto, uint32_t dst, uint16_t dport, uint32_t *ip, uint16_t *port,
		      bool *metadata)
{
	const struct relay_env *e = &r->env;

	*metadata = false;
	*ip = dst;
	*port = dport;
	if (dst == RELAY_METADATA_IP) {
		*metadata = e->md && proto == NAT_PROTO_TCP && dport == 80;
		return *metadata;
	}
	if (dst == e->dns) {
		if (dport != 53)
			return false;
		resolv_refresh(r);
		if (!r->nameserver) {
			if (!r->dns_warned)
				log_error("user network: no IPv4 nameserver in %s, DNS queries go unanswered",
					  e->resolv_conf ? e->resolv_conf : "/etc/resolv.conf");
			r->dns_warned = true;
			return false;
		}
		*ip = r->nameserver;
		return true;
	}
	if (dst == e->gateway) {
		*ip = 0x7f000001;
		return e->host_loopback;
	}
	if ((dst & e->mask) == e->net)
		return false;
	if ((dst >> 24) == 127)
		return e->host_loopback;
	if ((dst >> 24) == 0 || (dst >> 16) == 0xa9fe || dst >= 0xe0000000u)
		return false;
	return true;
}

static int host_socket(int type, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip) };
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* ---- TCP connections ---- */

static void conn_event(struct evloop_watch *w, uint32_t events);

static void conn_mark(struct conn *c)
{
	if (c->pending_check)
		return;
	c->pending_check = true;
	c->next_check = c->r->check;
	c->r->check = c;
}

static void conn_watch(struct conn *c, uint32_t events)
{
	if (c->fd < 0 || c->events == events)
		return;
	if (evloop_mod(c->r->env.loop, &c->w, events) == 0)
		c->events = events;
}

static void rst_to_guest(struct relay *r, const struct nat_flow *f, uint32_t seq, uint32_t ack)
{
	uint8_t frame[64];
	size_t n = nat_build_rst(frame, r->env.gateway_mac, r->env.guest_mac, f->dst_ip, f->dst_port, f->guest_ip,
				 f->guest_port, seq, ack);

	r->env.to_guest(r->env.opaque, frame, n);
}

static void pcb_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
}

static void conn_free(struct conn *c)
{
	struct relay *r = c->r;

	if (c->pcb) {
		pcb_detach(c->pcb);
		tcp_abort(c->pcb);
	}
	if (c->fd >= 0) {
		evloop_del(r->env.loop, &c->w);
		close(c->fd);
	}
	while (c->qn) {
		pbuf_free(c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % TO_HOST_QUEUE;
		c->qn--;
	}
	if (c->flow) {
		c->flow->conn = NULL;
		c->flow->expire_ms = relay_now_ms() + LINGER_MS;
		r->ntcp_conns--;
	} else {
		r->nforward_conns--;
	}
	if (c->metadata)
		r->nmetadata_conns--;
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->syn);
	free(c->pend);
	free(c->req);
	free(c);
}

static void tcp_recved_all(struct tcp_pcb *pcb, size_t n)
{
	while (n) {
		u16_t k = n > 0xffff ? 0xffff : (u16_t)n;

		tcp_recved(pcb, k);
		n -= k;
	}
}

/* Guest -> host: writes what lwIP queued, and opens the window by what the host took. */
static void flush_to_host(struct conn *c)
{
	struct iovec iov[TO_HOST_QUEUE];
	unsigned int i, n;
	ssize_t w;
	size_t left;

	while (c->qn && !c->dead) {
		for (i = 0, n = 0; i < c->qn; i++) {
			struct pbuf *p = c->q[(c->qhead + i) % TO_HOST_QUEUE];

			for (; p && n < TO_HOST_QUEUE; p = p->next) {
				if (!p->len)
					continue;
				iov[n].iov_base = p->payload;
				iov[n++].iov_len = p->len;
			}
		}
		do
			w = writev(c->fd, iov, (int)n);
		while (w < 0 && errno == EINTR);
		if (w < 0) {
			if (errno != EAGAIN)
				c->dead = true;
			break;
		}
		if (c->pcb)
			tcp_recved_all(c->pcb, (size_t)w);
		for (left = (size_t)w; left && c->qn;) {
			struct pbuf **hp = &c->q[c->qhead];
			u16_t k = left < (*hp)->tot_len ? (u16_t)left : (*hp)->tot_len;

			*hp = pbuf_free_header(*hp, k);
			left -= k;
			if (!*hp) {
				c->qhead = (c->qhead + 1) % TO_HOST_QUEUE;
				c->qn--;
			}
		}
	}
	if (!c->qn && c->guest_eof && !c->host_shut && !c->dead && c->fd >= 0) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut = true;
	}
}

/* Host -> guest: only as much as lwIP's send buffer takes, so the host socket is the buffer otherwise. */
static void pump_to_guest(struct conn *c)
{
	static uint8_t buf[IO_CHUNK];
	struct tcp_pcb *pcb = c->pcb;
	size_t room;
	ssize_t n;
	err_t err;

	if (!pcb || c->state != CONN_OPEN || c->dead)
		return;
	while (c->pend_len > c->pend_off) {
		room = tcp_sndbuf(pcb);
		if (room > c->pend_len - c->pend_off)
			room = c->pend_len - c->pend_off;
		if (!room || tcp_write(pcb, c->pend + c->pend_off, (u16_t)room, TCP_WRITE_FLAG_COPY) != ERR_OK)
			goto out;
		c->pend_off += room;
	}
	free(c->pend);
	c->pend = NULL;
	c->pend_len = c->pend_off = 0;
	while (!c->host_eof && c->fd >= 0) {
		room = tcp_sndbuf(pcb);
		if (!room || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
			break;
		do
			n = read(c->fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			c->host_eof = true;
			break;
		}
		if (n < 0) {
			if (errno != EAGAIN)
				c->dead = true;
			break;
		}
		err = tcp_write(pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
		if (err != ERR_OK) {
			/* Out of segments despite the room: keep the bytes until lwIP has sent some. */
			c->pend = malloc((size_t)n);
			if (!c->pend) {
				c->dead = true;
				break;
			}
			memcpy(c->pend, buf, (size_t)n);
			c->pend_len = (size_t)n;
			break;
		}
	}
out:
	tcp_output(pcb);
	if (c->host_eof && !c->pend && !c->guest_shut) {
		c->guest_shut = true;
		if (!c->guest_eof && !c->metadata) {
			tcp_shutdown(pcb, 0, 1);	/* half-close: the guest may still send */
			return;
		}
	}
	/*
	 * Both directions are closed (the guest's FIN may come before or after ours): the pcb is lwIP's from here.
	 * It must be let go now, whichever FIN came last: a pcb that reaches TIME_WAIT is freed by lwIP's timer
	 * without any callback, so a pointer kept to it would dangle.
	 */
	if (c->guest_shut && (c->guest_eof || c->metadata)) {
		pcb_detach(pcb);
		if (tcp_close(pcb) != ERR_OK)
			tcp_abort(pcb);
		c->pcb = NULL;
	}
}

/* Metadata: the request so far goes to metadata_handle(); its one response is the "host" data. */
static void metadata_input(struct conn *c)
{
	size_t cap = metadata_response_max(c->r->env.md), n;
	char *out;

	if (c->host_eof || !c->req_len)
		return;
	out = malloc(cap);
	if (!out) {
		c->dead = true;
		return;
	}
	n = metadata_handle(c->r->env.md, c->req, c->req_len, relay_now_ms(), out, cap);
	if (!n && !c->guest_eof && c->req_len < METADATA_MAX_REQUEST) {
		free(out);
		return;
	}
	c->pend = (uint8_t *)out;
	c->pend_len = n;
	c->host_eof = true;	/* one response, then FIN */
}

/*
 * Decides what is left to do after any event: the state machine of a relayed connection lives here, outside lwIP
 * callbacks, so a pcb is never freed under lwIP's feet.
 */
static void conn_check(struct conn *c)
{
	uint32_t ev = 0;

	if (c->state == CONN_OPEN && !c->dead) {
		if (c->metadata)
			metadata_input(c);
		flush_to_host(c);
		pump_to_guest(c);
		/* A hang-up: what could be read was, and what is still queued cannot be written any more. */
		if (c->hup && (c->qn || !c->host_eof))
			c->dead = true;
		if (c->fd >= 0 && c->host_eof && (c->host_shut || c->hup)) {
			evloop_del(c->r->env.loop, &c->w);
			close(c->fd);
			c->fd = -1;
		}
	}
	if (c->dead || (c->state == CONN_OPEN && !c->pcb && (c->qn == 0 || c->fd < 0))) {
		conn_free(c);
		return;
	}
	if (c->state == CONN_CONNECTING)
		ev = EPOLLOUT;
	else if (c->state == CONN_OPEN) {
		if (c->qn)
			ev |= EPOLLOUT;
		if (c->pcb && !c->host_eof && !c->pend && tcp_sndbuf(c->pcb))
			ev |= EPOLLIN;
	}
	conn_watch(c, ev);
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	(void)pcb;
	(void)err;
	if (!c) {
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	if (!p) {
		c->guest_eof = true;
	} else if (c->metadata) {
		size_t room = METADATA_MAX_REQUEST - c->req_len, n = p->tot_len < room ? p->tot_len : room;

		if (n) {
			pbuf_copy_partial(p, c->req + c->req_len, (u16_t)n, 0);
			c->req_len += n;
		}
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
	} else {
		if (c->qn == TO_HOST_QUEUE)
			return ERR_MEM;		/* lwIP keeps it and offers it again */
		c->q[(c->qhead + c->qn++) % TO_HOST_QUEUE] = p;
	}
	conn_mark(c);
	return ERR_OK;
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	if (arg)
		conn_mark(arg);
	return ERR_OK;
}

static void conn_err(void *arg, err_t err)
{
	struct conn *c = arg;

	if (!c)
		return;
	c->pcb = NULL;		/* lwIP has freed it */
	if (err != ERR_CLSD)
		c->dead = true;
	conn_mark(c);
}

static void conn_attach(struct conn *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	c->state = CONN_OPEN;
	tcp_arg(pcb, c);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, conn_err);
	tcp_nagle_disable(pcb);
	conn_mark(c);
}

static err_t relay_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct relay *r = arg;
	struct nat_flow *f;
	struct conn *c;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	f = nat_by_port(&r->tcp, pcb->remote_port);
	c = f ? f->conn : NULL;
	if (!c || c->state != CONN_ACCEPTING || ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)) != htonl(f->guest_ip)) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	conn_attach(c, pcb);
	return ERR_OK;
}

static struct conn *conn_new(struct relay *r, int fd, enum conn_state state)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->r = r;
	c->fd = fd;
	c->state = state;
	c->w = (struct evloop_watch){ .fd = fd, .fn = conn_event, .opaque = c };
	if (fd >= 0 && evloop_add(r->env.loop, &c->w, 0) < 0) {
		free(c);
		return NULL;
	}
	c->next = r->conns;
	if (c->next)
		c->next->prev = c;
	r->conns = c;
	return c;
}

static void conn_event(struct evloop_watch *w, uint32_t events)
{
	struct conn *c = w->opaque;
	struct relay *r = c->r;
	socklen_t len = sizeof(int);
	int soerr = 0;

	pthread_mutex_lock(r->env.lock);
	if (c->state == CONN_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr || (events & (EPOLLERR | EPOLLHUP))) {
			rst_to_guest(r, c->flow, 0, c->syn_seq + 1);
			c->dead = true;
		} else if (events & EPOLLOUT) {
			c->state = CONN_ACCEPTING;
			c->deadline = relay_now_ms() + ACCEPT_TIMEOUT_MS;
			r->env.to_lwip(r->env.opaque, c->syn, c->syn_len);
			free(c->syn);
			c->syn = NULL;
		}
		conn_mark(c);
	} else {
		if (events & EPOLLERR)
			c->dead = true;
		if (events & EPOLLHUP)
			c->hup = true;
		conn_mark(c);
	}
	relay_run_pending(r);
	pthread_mutex_unlock(r->env.lock);
}

void relay_run_pending(struct relay *r)
{
	struct conn *c;

	while ((c = r->check)) {
		r->check = c->next_check;
		c->pending_check = false;
		conn_check(c);
	}
}

/* Refuses a guest SYN as a closed port would, so the guest's connect() fails at once. */
static void refuse_syn(struct relay *r, const struct nat_pkt *pk)
{
	uint8_t out[64];
	size_t n = nat_build_rst(out, r->env.gateway_mac, r->env.guest_mac, pk->dst, pk->dport, pk->src, pk->sport, 0,
				 pk->tcp_seq + 1);

	r->env.to_guest(r->env.opaque, out, n);
}

/* A guest SYN for a new flow: connect on the host first, so a refused port is refused to the guest too. */
static enum relay_verdict tcp_open(struct relay *r, struct nat_flow *f, uint8_t *frame, size_t len,
				   const struct nat_pkt *pk, uint32_t hip, uint16_t hport, bool metadata)
{
	struct conn *c = NULL;
	int fd;

	if (r->ntcp_conns >= RELAY_TCP_CONNS_MAX || (metadata && r->nmetadata_conns >= METADATA_CONNS_MAX)) {
		r->stats.tcp_refused_limit++;
		goto refuse;
	}
	fd = metadata ? -1 : host_socket(SOCK_STREAM, hip, hport);
	if (!metadata && fd < 0)
		goto refuse;
	c = conn_new(r, fd, metadata ? CONN_ACCEPTING : CONN_CONNECTING);
	if (!c) {
		if (fd >= 0)
			close(fd);
		goto refuse;
	}
	c->flow = f;
	f->conn = c;
	r->ntcp_conns++;
	c->syn_seq = pk->tcp_seq;
	if (metadata) {
		c->metadata = true;
		r->nmetadata_conns++;
		c->req = malloc(METADATA_MAX_REQUEST);
		if (!c->req)
			goto refuse;
		c->deadline = relay_now_ms() + ACCEPT_TIMEOUT_MS;
		return RELAY_PASS;
	}
	c->syn = malloc(len);
	if (!c->syn)
		goto refuse;
	memcpy(c->syn, frame, len);
	c->syn_len = len;
	c->deadline = relay_now_ms() + CONNECT_TIMEOUT_MS;
	conn_watch(c, EPOLLOUT);
	return RELAY_HELD;
refuse:
	if (c)
		conn_free(c);
	nat_remove(&r->tcp, f);
	refuse_syn(r, pk);
	return RELAY_DROP;
}

/* ---- UDP ---- */

static void udp_conn_free(struct relay *r, struct nat_flow *f)
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
	to = ip4(u->flow->guest_ip);
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

static void relay_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
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

static enum relay_verdict udp_open(struct relay *r, struct nat_flow *f, uint32_t hip, uint16_t hport)
{
	struct udp_conn *u = calloc(1, sizeof(*u));
	int fd = host_socket(SOCK_DGRAM, hip, hport);

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

/* ---- the guest's packets ---- */

/* Frees the slot of the closed TCP flow nearest its end (UDP flows always hold a socket: none to evict). */
static bool evict_lingering(struct nat_table *t)
{
	struct nat_flow *victim = NULL;
	unsigned int i;

	for (i = 0; i < t->max; i++)
		if (t->flows[i].used && !t->flows[i].conn &&
		    (!victim || t->flows[i].expire_ms < victim->expire_ms))
			victim = &t->flows[i];
	if (victim)
		nat_remove(t, victim);
	return victim;
}

enum relay_verdict relay_guest_ip(struct relay *r, uint8_t *frame, size_t len, const struct nat_pkt *pk)
{
	const struct relay_env *e = &r->env;
	uint8_t *ip = frame + 14;
	bool syn = (pk->tcp_flags & (NAT_TCP_SYN | NAT_TCP_ACK | NAT_TCP_RST)) == NAT_TCP_SYN, md;
	struct nat_table *t = pk->proto == NAT_PROTO_TCP ? &r->tcp : &r->udp;
	struct nat_flow *f;
	uint32_t hip;
	uint16_t hport, relay_port;

	if (pk->fragment) {
		r->stats.dropped_malformed++;
		return RELAY_DROP;
	}
	if (pk->proto != NAT_PROTO_TCP && pk->proto != NAT_PROTO_UDP) {
		if (pk->dst == e->gateway)
			return RELAY_PASS;	/* ICMP echo: lwIP answers */
		r->stats.dropped_policy++;
		return RELAY_DROP;
	}
	relay_port = pk->proto == NAT_PROTO_TCP ? NAT_TCP_RELAY_PORT : NAT_UDP_RELAY_PORT;
	if (pk->dst == e->gateway && (!e->host_loopback || pk->dport == relay_port)) {
		/* lwIP's own ports: a guest talking to the relay port directly would pose as a flow. */
		if (pk->dport == relay_port)
			return RELAY_DROP;
		return RELAY_PASS;
	}
	if (pk->options || (pk->src & e->mask) != e->net || pk->src == e->gateway || pk->src == e->dns) {
		r->stats.dropped_malformed++;
		return RELAY_DROP;
	}
	f = nat_lookup(t, pk->src, pk->sport, pk->dst, pk->dport);
	if (f && !f->conn && syn) {
		/* The guest reuses the ports of a closed flow: a new flow, with a new NATPORT. */
		nat_remove(t, f);
		f = NULL;
	}
	if (!f) {
		if (pk->proto == NAT_PROTO_TCP && !syn) {
			if (!(pk->tcp_flags & NAT_TCP_RST)) {
				uint8_t out[64];
				size_t n = nat_build_rst(out, e->gateway_mac, e->guest_mac, pk->dst, pk->dport, pk->src,
							 pk->sport, pk->tcp_ack, pk->tcp_seq + 1);

				e->to_guest(e->opaque, out, n);
			}
			return RELAY_DROP;
		}
		if (!host_dest(r, pk->proto, pk->dst, pk->dport, &hip, &hport, &md)) {
			r->stats.dropped_policy++;
			if (pk->proto == NAT_PROTO_TCP)
				refuse_syn(r, pk);
			return RELAY_DROP;
		}
		f = nat_add(t, pk->src, pk->sport, pk->dst, pk->dport);
		if (!f && evict_lingering(t))
			f = nat_add(t, pk->src, pk->sport, pk->dst, pk->dport);
		if (!f) {
			if (pk->proto == NAT_PROTO_UDP) {
				r->stats.udp_dropped_limit++;
				return RELAY_DROP;
			}
			r->stats.tcp_refused_limit++;
			refuse_syn(r, pk);
			return RELAY_DROP;
		}
		/* Rewrite first: a held SYN is kept as lwIP must see it. */
		nat_rewrite(ip, pk, false, e->gateway, relay_port);
		nat_rewrite(ip, pk, true, pk->src, f->nat_port);
		if (pk->proto == NAT_PROTO_TCP)
			return tcp_open(r, f, frame, len, pk, hip, hport, md);
		return udp_open(r, f, hip, hport);
	}
	if (pk->proto == NAT_PROTO_TCP && f->conn && ((struct conn *)f->conn)->state == CONN_CONNECTING)
		return RELAY_DROP;	/* a retransmitted SYN while the host connects */
	if (pk->proto == NAT_PROTO_UDP)
		f->expire_ms = relay_now_ms() + (pk->dport == 53 ? DNS_IDLE_MS : UDP_IDLE_MS);
	nat_rewrite(ip, pk, false, e->gateway, relay_port);
	nat_rewrite(ip, pk, true, pk->src, f->nat_port);
	return RELAY_PASS;
}

void relay_guest_out(struct relay *r, uint8_t *frame, size_t len)
{
	struct nat_pkt pk;
	struct nat_flow *f;
	uint8_t *ip = frame + 14;

	if (len < 34 || frame[12] != 0x08 || frame[13] != 0x00 || nat_parse(ip, len - 14, &pk) < 0 ||
	    pk.src != r->env.gateway || pk.fragment)
		return;
	if (pk.proto == NAT_PROTO_TCP && pk.sport == NAT_TCP_RELAY_PORT)
		f = nat_by_port(&r->tcp, pk.dport);
	else if (pk.proto == NAT_PROTO_UDP && pk.sport == NAT_UDP_RELAY_PORT)
		f = nat_by_port(&r->udp, pk.dport);
	else
		return;
	if (!f || f->guest_ip != pk.dst)
		return;
	nat_rewrite(ip, &pk, true, f->dst_ip, f->dst_port);
	nat_rewrite(ip, &pk, false, pk.dst, f->guest_port);
}

/* ---- port forwards ---- */

static err_t forward_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c = arg;

	if (err != ERR_OK) {
		c->dead = true;
		conn_mark(c);
		return ERR_OK;
	}
	conn_attach(c, pcb);
	return ERR_OK;
}

static void forward_event(struct evloop_watch *w, uint32_t events)
{
	struct forward *fw = w->opaque;
	struct relay *r = fw->r;
	struct tcp_pcb *pcb;
	struct conn *c;
	ip4_addr_t gw, guest;
	int fd, one = 1;

	(void)events;
	pthread_mutex_lock(r->env.lock);
	while ((fd = accept4(fw->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (r->nforward_conns >= FORWARD_CONNS_MAX) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new(r, fd, CONN_GUEST_CONNECTING);
		if (!c) {
			close(fd);
			continue;
		}
		r->nforward_conns++;
		pcb = tcp_new();
		gw = ip4(r->env.gateway);
		guest = ip4(r->env.guest_ip);
		if (!pcb) {
			c->dead = true;
			conn_mark(c);
			continue;
		}
		c->pcb = pcb;
		tcp_arg(pcb, c);
		tcp_err(pcb, conn_err);
		c->deadline = relay_now_ms() + CONNECT_TIMEOUT_MS;
		if (tcp_bind(pcb, &gw, 0) != ERR_OK || tcp_connect(pcb, &guest, fw->guest_port, forward_connected) !=
		    ERR_OK) {
			c->dead = true;
			conn_mark(c);
		}
	}
	relay_run_pending(r);
	pthread_mutex_unlock(r->env.lock);
}

static int forward_listen(struct relay *r, uint16_t host_port, uint16_t guest_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(host_port) };
	struct forward *fw = &r->fwd[r->nfwd];
	int one = 1, ret;

	fw->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fw->fd < 0)
		return -errno;
	setsockopt(fw->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fw->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fw->fd, 64) < 0) {
		ret = -errno;
		log_error("user network: forward tcp:%u:%u: cannot listen on port %u: %s", host_port, guest_port,
			  host_port, strerror(errno));
		close(fw->fd);
		return ret;
	}
	fw->r = r;
	fw->guest_port = guest_port;
	fw->w = (struct evloop_watch){ .fd = fw->fd, .fn = forward_event, .opaque = fw };
	ret = evloop_add(r->env.loop, &fw->w, EPOLLIN);
	if (ret < 0) {
		close(fw->fd);
		return ret;
	}
	r->nfwd++;
	return 0;
}

/* ---- lifetime ---- */

void relay_tick(struct relay *r, uint64_t now)
{
	struct conn *c, *next;
	unsigned int i;

	for (c = r->conns; c; c = next) {
		next = c->next;
		if (c->state != CONN_OPEN && c->deadline && now >= c->deadline) {
			if (c->state == CONN_CONNECTING)
				rst_to_guest(r, c->flow, 0, c->syn_seq + 1);
			c->dead = true;
			conn_mark(c);
		}
	}
	relay_run_pending(r);
	for (i = 0; i < r->tcp.max; i++)
		if (r->tcp.flows[i].used && !r->tcp.flows[i].conn && now >= r->tcp.flows[i].expire_ms)
			nat_remove(&r->tcp, &r->tcp.flows[i]);
	for (i = 0; i < r->udp.max; i++)
		if (r->udp.flows[i].used && now >= r->udp.flows[i].expire_ms)
			udp_conn_free(r, &r->udp.flows[i]);
}

const struct relay_stats *relay_stats(const struct relay *r)
{
	return &r->stats;
}

int relay_create(const struct relay_env *env, struct relay **out)
{
	struct relay *r = calloc(1, sizeof(*r));
	ip4_addr_t gw;
	unsigned int i = 0;
	int ret = -ENOMEM;

	if (!r)
		return -ENOMEM;
	r->env = *env;
	if (nat_table_init(&r->tcp, NAT_TCP_MAX) < 0 || nat_table_init(&r->udp, NAT_UDP_MAX) < 0)
		goto fail;
	gw = ip4(env->gateway);
	r->listen = tcp_new();
	if (!r->listen || tcp_bind(r->listen, &gw, NAT_TCP_RELAY_PORT) != ERR_OK) {
		ret = -EADDRINUSE;
		goto fail;
	}
	r->listen = tcp_listen_with_backlog(r->listen, TCP_DEFAULT_LISTEN_BACKLOG);
	if (!r->listen)
		goto fail;
	tcp_arg(r->listen, r);
	tcp_accept(r->listen, relay_accept);
	r->udp_pcb = udp_new();
	if (!r->udp_pcb || udp_bind(r->udp_pcb, &gw, NAT_UDP_RELAY_PORT) != ERR_OK) {
		ret = -EADDRINUSE;
		goto fail;
	}
	udp_recv(r->udp_pcb, relay_udp_recv, r);
	for (i = 0; i < env->nforwards; i++) {
		ret = forward_listen(r, env->forwards[i].host_port, env->forwards[i].guest_port);
		if (ret < 0)
			goto fail;
	}
	*out = r;
	return 0;
fail:
	if (ret != -EADDRINUSE || i == env->nforwards)	/* a forward said which port itself */
		log_error("user network: relays: %s", strerror(-ret));
	relay_destroy(r);
	return ret;
}

void relay_destroy(struct relay *r)
{
	unsigned int i;

	while (r->conns)
		conn_free(r->conns);
	r->check = NULL;
	for (i = 0; r->udp.flows && i < r->udp.max; i++)
		if (r->udp.flows[i].used)
			udp_conn_free(r, &r->udp.flows[i]);
	for (i = 0; i < r->nfwd; i++) {
		evloop_del(r->env.loop, &r->fwd[i].w);
		close(r->fwd[i].fd);
	}
	if (r->listen)
		tcp_close(r->listen);
	if (r->udp_pcb)
		udp_remove(r->udp_pcb);
	nat_table_free(&r->tcp);
	nat_table_free(&r->udp);
	free(r);
}
