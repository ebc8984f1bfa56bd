#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/metadata.h"
#include "net/relay_priv.h"

/* TCP: a guest connection (or a port forward's) joined to a host socket, or answered by the metadata service. */

/* lwIP gives up on a half-open connection after TCP_SYN_RCVD_TIMEOUT (20 s); we wait a little longer. */
#define ACCEPT_TIMEOUT_MS	25000
/*
 * A closed flow keeps its NATPORT while lwIP may still send on it (the rest of a response, TIME_WAIT: 2 * TCP_MSL),
 * so those segments still get their addresses back. The NAT table has room for lingering flows beyond
 * RELAY_TCP_CONNS_MAX live ones, and the oldest lingering flow makes room when it is full.
 */
#define LINGER_MS		(2 * TCP_MSL + 3000)
#define RELAY_TCP_CONNS_MAX	256
#define METADATA_CONNS_MAX	8

static void conn_event(struct evloop_watch *w, uint32_t events);

void relay_conn_mark(struct conn *c)
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

void relay_conn_free(struct conn *c)
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
		relay_conn_free(c);
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
	relay_conn_mark(c);
	return ERR_OK;
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	if (arg)
		relay_conn_mark(arg);
	return ERR_OK;
}

void relay_conn_err(void *arg, err_t err)
{
	struct conn *c = arg;

	if (!c)
		return;
	c->pcb = NULL;		/* lwIP has freed it */
	if (err != ERR_CLSD)
		c->dead = true;
	relay_conn_mark(c);
}

void relay_conn_attach(struct conn *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	c->state = CONN_OPEN;
	tcp_arg(pcb, c);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, relay_conn_err);
	tcp_nagle_disable(pcb);
	relay_conn_mark(c);
}

err_t relay_tcp_accept(void *arg, struct tcp_pcb *pcb, err_t err)
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
	relay_conn_attach(c, pcb);
	return ERR_OK;
}

struct conn *relay_conn_new(struct relay *r, int fd, enum conn_state state)
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
		relay_conn_mark(c);
	} else {
		if (events & EPOLLERR)
			c->dead = true;
		if (events & EPOLLHUP)
			c->hup = true;
		relay_conn_mark(c);
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
void relay_tcp_refuse(struct relay *r, const struct nat_pkt *pk)
{
	uint8_t out[64];
	size_t n = nat_build_rst(out, r->env.gateway_mac, r->env.guest_mac, pk->dst, pk->dport, pk->src, pk->sport, 0,
				 pk->tcp_seq + 1);

	r->env.to_guest(r->env.opaque, out, n);
}

/* A guest SYN for a new flow: connect on the host first, so a refused port is refused to the guest too. */
enum relay_verdict relay_tcp_open(struct relay *r, struct nat_flow *f, uint8_t *frame, size_t len,
				  const struct nat_pkt *pk, uint32_t hip, uint16_t hport, bool metadata)
{
	struct conn *c = NULL;
	int fd;

	if (r->ntcp_conns >= RELAY_TCP_CONNS_MAX || (metadata && r->nmetadata_conns >= METADATA_CONNS_MAX)) {
		r->stats.tcp_refused_limit++;
		goto refuse;
	}
	fd = metadata ? -1 : relay_host_socket(SOCK_STREAM, hip, hport);
	if (!metadata && fd < 0)
		goto refuse;
	c = relay_conn_new(r, fd, metadata ? CONN_ACCEPTING : CONN_CONNECTING);
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
		relay_conn_free(c);
	nat_remove(&r->tcp, f);
	relay_tcp_refuse(r, pk);
	return RELAY_DROP;
}

/* Connect and handshake deadlines; a guest still waiting for its SYN's answer gets an RST. */
void relay_tcp_tick(struct relay *r, uint64_t now)
{
	struct conn *c, *next;

	for (c = r->conns; c; c = next) {
		next = c->next;
		if (c->state != CONN_OPEN && c->deadline && now >= c->deadline) {
			if (c->state == CONN_CONNECTING)
				rst_to_guest(r, c->flow, 0, c->syn_seq + 1);
			c->dead = true;
			relay_conn_mark(c);
		}
	}
	relay_run_pending(r);
}
