#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/ssl.h>

#include "lib/log.h"
#include "mgmt/api.h"
#include "mgmt/http.h"
#include "mgmt/metrics.h"
#include "mgmt/proto.h"
#include "mgmt/server.h"
#include "mgmt/tls.h"

enum {
	ST_HANDSHAKE,	/* TLS handshake */
	ST_READ,	/* reading (or waiting for) a request */
	ST_WAIT,	/* waiting for PID 1's reply; not reading, so requests do not pile up */
	ST_WRITE,	/* sending a response or stream data */
	ST_STREAM,	/* a stream with nothing to send: waiting for PID 1's events */
};

struct conn {
	int fd;
	int state;
	int dead;
	int role;
	char peer[64];			/* "address:port" for logs */
	char cn[64];
	mbedtls_ssl_context ssl;
	struct http_request *req;	/* allocated with the first request byte */
	unsigned char rbuf[4096];	/* decrypted bytes the parser has not taken yet (pipelining) */
	size_t roff, rlen;
	char *out;
	size_t out_len, out_off, out_cap;
	int close_after;		/* close once out is sent */
	int stream;			/* the response is a chunked stream */
	const struct api_route *route;	/* the endpoint of the request waiting or streaming */
	int head_only;
	int keep_alive;
	int in_request;			/* bytes of a request have arrived */
	uint32_t wait_id;		/* the PID 1 request this connection waits for */
	uint32_t sub_id;		/* the PID 1 subscription feeding the stream */
	uint64_t deadline;		/* ms, CLOCK_MONOTONIC; 0 for none */
	uint64_t since;			/* accepted, or last request answered: the eviction order */
	uint32_t events;		/* epoll interest */
};

static struct conn *conns[SERVER_MAX_CONNS];
static struct conn *graveyard[2 * SERVER_MAX_CONNS];	/* closed during one batch of events */
static int nconns, ndead;
static int ep = -1, sup = -1, lfd = -1;
static uint32_t last_id;
static volatile sig_atomic_t stop;
static int listen_marker, sup_marker;
static union {
	struct proto_hdr hdr;
	char bytes[PROTO_MSG_MAX + 1];
} sup_msg;
static char event_buf[PROTO_MSG_MAX + 32];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	if (!epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev))
		c->events = events;
}

static void sup_send_simple(uint16_t type, uint32_t id)
{
	struct proto_hdr h = { .type = type, .len = sizeof(h), .id = id };

	send(sup, &h, sizeof(h), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void conn_close(struct conn *c)
{
	int i;

	if (c->dead)
		return;
	if (c->sub_id)
		sup_send_simple(PROTO_UNSUBSCRIBE, c->sub_id);
	if (c->state != ST_HANDSHAKE)
		mbedtls_ssl_close_notify(&c->ssl);	/* best effort: a non-blocking socket may not take it */
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	mbedtls_ssl_free(&c->ssl);
	free(c->req);
	free(c->out);
	c->dead = 1;
	for (i = 0; i < SERVER_MAX_CONNS; i++)
		if (conns[i] == c) {
			conns[i] = NULL;
			break;
		}
	nconns--;
	metrics_connections(nconns);
	/* freed after the current batch of epoll events, which may still name it */
	graveyard[ndead++] = c;
}

static int out_append(struct conn *c, const void *data, size_t len)
{
	size_t need = c->out_len + len;
	char *p;

	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;

		while (cap < need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

static void respond(struct conn *c, const struct api_result *res)
{
	const struct http_request *r = c->req;
	char head[512], chunk[24];
	int n;

	if (!c->keep_alive)
		c->close_after = 1;
	c->stream = res->stream && res->status == 200;
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n",
		     res->status, http_status_text(res->status), res->content_type ? res->content_type : "text/plain");
	if (c->stream)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Transfer-Encoding: chunked\r\n");
	else
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n", res->body_len);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", c->close_after ? "Connection: close\r\n" : "");
	metrics_request(res->status);
	/* an audit line for every change and every refusal; plain reads are too many to log */
	if (res->status >= 400 || (r && r->target && r->method != HTTP_GET && r->method != HTTP_HEAD))
		log_info("%s%s%s %s %s -> %d", c->peer, c->cn[0] ? " CN=" : "", c->cn,
			 r && r->target ? http_method_name(r->method) : "-", r && r->target ? r->target : "-", res->status);
	if (out_append(c, head, (size_t)n))
		goto oom;
	if (!c->head_only && res->body_len) {
		if (c->stream) {
			n = snprintf(chunk, sizeof(chunk), "%zx\r\n", res->body_len);
			if (out_append(c, chunk, (size_t)n) || out_append(c, res->body, res->body_len) ||
			    out_append(c, "\r\n", 2))
				goto oom;
		} else if (out_append(c, res->body, res->body_len)) {
			goto oom;
		}
	}
	if (c->head_only && c->stream) {
		c->stream = 0;
		c->close_after = 1;
	}
	c->state = ST_WRITE;
	c->deadline = now_ms() + SERVER_REQUEST_MS;
	return;
oom:
	log_error("%s: out of memory for a response", c->peer);
	c->close_after = 1;
	c->state = ST_WRITE;
}

static void respond_error(struct conn *c, int status, const char *message)
{
	struct api_result res;

	api_error(status, message, &res);
	respond(c, &res);
}

static void dispatch(struct conn *c)
{
	struct api_result res;
	ssize_t n;

	c->keep_alive = c->req->keep_alive;
	c->head_only = c->req->method == HTTP_HEAD;
	api_handle(c->req, c->role, &res);
	if (res.status) {
		respond(c, &res);
		return;
	}
	if (++last_id == 0)
		last_id = 1;
	res.msg->id = last_id;
	n = send(sup, res.msg, res.msg->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n != (ssize_t)res.msg->len) {
		respond_error(c, 503, errno == EAGAIN ? "PID 1 is busy; try again" : "PID 1 is not reachable");
		return;
	}
	c->wait_id = last_id;
	c->route = res.route;
	c->state = ST_WAIT;
	c->deadline = now_ms() + SERVER_SUPERVISOR_MS;
	set_events(c, 0);
}

static void handshake_done(struct conn *c)
{
	c->role = tls_peer_role(&c->ssl, c->cn, sizeof(c->cn));
	metrics_handshake_ok();
	c->state = ST_READ;
	c->since = now_ms();
	c->deadline = c->since + SERVER_IDLE_MS;
}

static void handshake_failed(struct conn *c, int rc)
{
	int reason = tls_fail_reason(&c->ssl, rc);
	char msg[100];

	mbedtls_strerror(rc, msg, sizeof(msg));
	metrics_handshake_failure(reason);
	/* a client that connects and leaves (a port scan, a health check) is counted but not worth a log line */
	if (reason != TLS_FAIL_CLOSED)
		log_info("%s: TLS handshake refused (%s): %s", c->peer, tls_fail_name(reason), msg);
	conn_close(c);
}

/* Feeds buffered bytes to the parser; returns 1 when a request was dispatched or answered. */
static int parse_buffered(struct conn *c)
{
	size_t used;
	int rc;

	if (c->roff == c->rlen)
		return 0;
	if (!c->req) {
		c->req = malloc(sizeof(*c->req));
		if (!c->req) {
			conn_close(c);
			return 1;
		}
		http_reset(c->req);
	}
	if (!c->in_request) {
		c->in_request = 1;
		c->deadline = now_ms() + SERVER_REQUEST_MS;
	}
	rc = http_parse(c->req, (const char *)c->rbuf + c->roff, c->rlen - c->roff, &used);
	c->roff += used;
	if (rc < 0) {
		/* the stream is out of sync: answer and close */
		c->keep_alive = 0;
		c->head_only = 0;
		respond_error(c, http_error_status(rc), rc == -EBADMSG ? "malformed request" :
			      rc == -EMSGSIZE ? "body too large" : rc == -ENAMETOOLONG ? "request line too long" :
			      rc == -E2BIG ? "headers too large" : rc == -ENOSYS ? "not implemented" :
			      "HTTP version not supported");
		return 1;
	}
	if (rc == 1) {
		dispatch(c);
		return 1;
	}
	return 0;
}

static void conn_run(struct conn *c)
{
	int rc;

	while (!c->dead) {
		switch (c->state) {
		case ST_HANDSHAKE:
			rc = mbedtls_ssl_handshake(&c->ssl);
			if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
				set_events(c, rc == MBEDTLS_ERR_SSL_WANT_READ ? EPOLLIN : EPOLLOUT);
				return;
			}
			if (rc) {
				handshake_failed(c, rc);
				return;
			}
			handshake_done(c);
			break;
		case ST_READ:
			if (parse_buffered(c))
				break;
			c->roff = c->rlen = 0;
			rc = mbedtls_ssl_read(&c->ssl, c->rbuf, sizeof(c->rbuf));
			if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
				set_events(c, rc == MBEDTLS_ERR_SSL_WANT_READ ? EPOLLIN : EPOLLOUT);
				return;
			}
			if (rc <= 0) {
				conn_close(c);
				return;
			}
			c->rlen = (size_t)rc;
			break;
		case ST_WAIT:
			return;
		case ST_WRITE:
			if (c->out_off == c->out_len) {
				c->out_off = c->out_len = 0;
				if (c->out_cap > 65536) {
					free(c->out);
					c->out = NULL;
					c->out_cap = 0;
				}
				/* A stream asked for with Connection: close ends when the stream does (PROTO_EVT_END). */
				if (c->close_after && !(c->stream && c->sub_id)) {
					conn_close(c);
					return;
				}
				if (c->stream) {
					c->state = ST_STREAM;
					c->deadline = 0;
					break;
				}
				c->state = ST_READ;
				c->in_request = 0;
				if (c->req)
					http_reset(c->req);
				c->since = now_ms();
				c->deadline = c->since + SERVER_IDLE_MS;
				break;
			}
			rc = mbedtls_ssl_write(&c->ssl, (const unsigned char *)c->out + c->out_off,
					       c->out_len - c->out_off);
			if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
				set_events(c, rc == MBEDTLS_ERR_SSL_WANT_READ ? EPOLLIN : EPOLLOUT);
				return;
			}
			if (rc < 0) {
				conn_close(c);
				return;
			}
			c->out_off += (size_t)rc;
			c->deadline = now_ms() + SERVER_REQUEST_MS;
			break;
		case ST_STREAM:
			/* nothing to send: read only to notice the client leaving; what it sends is ignored */
			rc = mbedtls_ssl_read(&c->ssl, c->rbuf, sizeof(c->rbuf));
			if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
				set_events(c, rc == MBEDTLS_ERR_SSL_WANT_READ ? EPOLLIN : EPOLLOUT);
				return;
			}
			if (rc <= 0) {
				conn_close(c);
				return;
			}
			break;
		}
	}
}

static struct conn *find_victim(void)
{
	struct conn *v = NULL;
	int i, pass;

	/* first a connection still in its handshake, then an idle keep-alive one; oldest first */
	for (pass = 0; pass < 2 && !v; pass++)
		for (i = 0; i < SERVER_MAX_CONNS; i++) {
			struct conn *c = conns[i];

			if (!c || (pass == 0 && c->state != ST_HANDSHAKE) ||
			    (pass == 1 && (c->state != ST_READ || c->in_request)))
				continue;
			if (!v || c->since < v->since)
				v = c;
		}
	return v;
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		port = ntohs(in->sin_port);
		snprintf(out, size, "%s:%u", addr, port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		port = ntohs(in6->sin6_port);
		snprintf(out, size, "[%s]:%u", addr, port);
	}
}

static void accept_all(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct conn *c, *victim;
	struct epoll_event ev;
	int fd, one = 1, i, budget;

	/* a bounded batch, so a connection flood cannot starve the connections already open */
	for (budget = 0; budget < 64; budget++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_error("accept: %s", strerror(errno));
			return;
		}
		if (nconns == SERVER_MAX_CONNS) {
			victim = find_victim();
			if (!victim) {
				close(fd);
				metrics_evicted();
				continue;
			}
			conn_close(victim);
			metrics_evicted();
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		peer_name(&ss, c->peer, sizeof(c->peer));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		mbedtls_ssl_init(&c->ssl);
		if (tls_session_setup(&c->ssl, &c->fd)) {
			mbedtls_ssl_free(&c->ssl);
			close(fd);
			free(c);
			continue;
		}
		c->state = ST_HANDSHAKE;
		c->since = now_ms();
		c->deadline = c->since + SERVER_HANDSHAKE_MS;
		c->events = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			mbedtls_ssl_free(&c->ssl);
			close(fd);
			free(c);
			continue;
		}
		for (i = 0; conns[i]; i++)
			;
		conns[i] = c;
		nconns++;
		metrics_connections(nconns);
	}
}

static struct conn *find_conn(uint32_t id, int sub)
{
	int i;

	for (i = 0; i < SERVER_MAX_CONNS; i++) {
		struct conn *c = conns[i];

		if (c && (sub ? c->sub_id == id : (c->state == ST_WAIT && c->wait_id == id)))
			return c;
	}
	return NULL;
}

static void sup_reply(const struct proto_hdr *h)
{
	struct conn *c = find_conn(h->id, 0);
	uint16_t type = (uint16_t)(h->type & ~PROTO_REPLY);
	struct api_result res;

	if (!c) {
		/* the client left (or timed out) meanwhile; a subscription made for it must not stay */
		if (!h->status && (type == PROTO_CONSOLE_FOLLOW || type == PROTO_EVENTS))
			sup_send_simple(PROTO_UNSUBSCRIBE, h->id);
		return;
	}
	c->wait_id = 0;
	api_reply(c->route, h, &res);
	if (res.stream && res.status == 200)
		c->sub_id = h->id;
	respond(c, &res);
	if (c->head_only && c->sub_id) {
		/* a HEAD on a stream: PID 1 need not keep feeding it */
		sup_send_simple(PROTO_UNSUBSCRIBE, c->sub_id);
		c->sub_id = 0;
	}
	conn_run(c);
}

static void sup_event(const struct proto_hdr *h)
{
	struct conn *c = find_conn(h->id, 1);
	char head[24];
	size_t n;
	int len;

	if (!c) {
		if (h->type != PROTO_EVT_END)
			sup_send_simple(PROTO_UNSUBSCRIBE, h->id);
		return;
	}
	if (h->type == PROTO_EVT_END) {
		c->sub_id = 0;
		c->close_after = 1;
		if (out_append(c, "0\r\n\r\n", 5))
			conn_close(c);
	} else {
		n = api_event(h, event_buf, sizeof(event_buf));
		if (!n)
			return;
		/* a reader that does not keep up loses output rather than growing our memory */
		if (c->out_len - c->out_off + n > SERVER_STREAM_BACKLOG)
			return;
		len = snprintf(head, sizeof(head), "%zx\r\n", n);
		if (out_append(c, head, (size_t)len) || out_append(c, event_buf, n) || out_append(c, "\r\n", 2)) {
			conn_close(c);
			return;
		}
	}
	if (c->state == ST_STREAM) {
		c->state = ST_WRITE;
		c->deadline = now_ms() + SERVER_REQUEST_MS;
	}
	conn_run(c);
}

/* Returns -EPIPE when PID 1 has closed the channel. */
static int sup_read_all(void)
{
	ssize_t n;

	for (;;) {
		n = recv(sup, sup_msg.bytes, sizeof(sup_msg.bytes), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (n == 0)
			return -EPIPE;
		if (proto_check(sup_msg.bytes, (size_t)n, 1)) {
			log_error("dropped a malformed message from PID 1 (type %u, %zd bytes)",
				  n >= 2 ? sup_msg.hdr.type : 0, n);
			continue;
		}
		if (sup_msg.hdr.type & PROTO_REPLY)
			sup_reply(&sup_msg.hdr);
		else
			sup_event(&sup_msg.hdr);
	}
}

static void sweep(uint64_t now)
{
	int i;

	for (i = 0; i < SERVER_MAX_CONNS; i++) {
		struct conn *c = conns[i];

		if (!c || !c->deadline || now < c->deadline)
			continue;
		switch (c->state) {
		case ST_HANDSHAKE:
			metrics_handshake_failure(TLS_FAIL_TIMEOUT);
			log_info("%s: TLS handshake refused (timeout)", c->peer);
			conn_close(c);
			break;
		case ST_READ:
			if (c->in_request) {
				c->keep_alive = 0;
				respond_error(c, 408, "request not completed in time");
				conn_run(c);
			} else {
				conn_close(c);
			}
			break;
		case ST_WAIT:
			c->wait_id = 0;
			respond_error(c, 504, "PID 1 did not answer in time");
			conn_run(c);
			break;
		default:
			conn_close(c);	/* a client that stopped reading */
		}
	}
}

int server_run(int listen_fd, int sup_fd)
{
	struct epoll_event evs[64], ev;
	struct sigaction sa;
	uint64_t now, next_sweep = 0;
	int n, i, rc = 0;

	lfd = listen_fd;
	sup = sup_fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_marker;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		return -errno;
	ev.data.ptr = &sup_marker;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sup, &ev))
		return -errno;

	while (!stop) {
		n = epoll_wait(ep, evs, 64, 250);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &listen_marker) {
				accept_all();
			} else if (p == &sup_marker) {
				rc = sup_read_all();
				if (rc)
					goto out;
			} else {
				struct conn *c = p;

				if (c->dead)
					continue;
				if (c->state == ST_WAIT && evs[i].events & (EPOLLHUP | EPOLLERR))
					conn_close(c);	/* gone while PID 1 works; the reply will find no one */
				else
					conn_run(c);
			}
		}
		now = now_ms();
		if (now >= next_sweep) {
			sweep(now);
			next_sweep = now + 250;
		}
		while (ndead)
			free(graveyard[--ndead]);
	}
out:
	for (i = 0; i < SERVER_MAX_CONNS; i++)
		if (conns[i])
			conn_close(conns[i]);
	while (ndead)
		free(graveyard[--ndead]);
	close(ep);
	if (rc == -EPIPE) {
		log_info("PID 1 closed the channel; exiting");
		return 0;
	}
	return rc;
}
