#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>		/* TCP_NODELAY; netinet/tcp.h would clash with lwIP's TCP_MSS */
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "net/relay_priv.h"

/* Port forwards: a listening host socket per forward; lwIP opens each accepted connection towards the guest. */

#define FORWARD_CONNS_MAX	64

static err_t forward_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c = arg;

	if (err != ERR_OK) {
		c->dead = true;
		relay_conn_mark(c);
		return ERR_OK;
	}
	relay_conn_attach(c, pcb);
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
		c = relay_conn_new(r, fd, CONN_GUEST_CONNECTING);
		if (!c) {
			close(fd);
			continue;
		}
		r->nforward_conns++;
		pcb = tcp_new();
		gw = relay_ip4(r->env.gateway);
		guest = relay_ip4(r->env.guest_ip);
		if (!pcb) {
			c->dead = true;
			relay_conn_mark(c);
			continue;
		}
		c->pcb = pcb;
		tcp_arg(pcb, c);
		tcp_err(pcb, relay_conn_err);
		c->deadline = relay_now_ms() + CONNECT_TIMEOUT_MS;
		if (tcp_bind(pcb, &gw, 0) != ERR_OK || tcp_connect(pcb, &guest, fw->guest_port, forward_connected) !=
		    ERR_OK) {
			c->dead = true;
			relay_conn_mark(c);
		}
	}
	relay_run_pending(r);
	pthread_mutex_unlock(r->env.lock);
}

int relay_forward_listen(struct relay *r, uint16_t host_port, uint16_t guest_port)
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
