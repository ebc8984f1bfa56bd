#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>		/* TCP_NODELAY; netinet/tcp.h would clash with lwIP's TCP_MSS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "net/relay_priv.h"

/*
 * The relay's core: where a guest's new flow may go on the host, the NAT of its packets both ways, the timer and
 * the relay's lifetime. The connections themselves are in relay_tcp.c, relay_udp.c and relay_forward.c.
 */

uint64_t relay_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

ip4_addr_t relay_ip4(uint32_t host_order)
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

int relay_host_socket(int type, uint32_t ip, uint16_t port)
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
				relay_tcp_refuse(r, pk);
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
			relay_tcp_refuse(r, pk);
			return RELAY_DROP;
		}
		/* Rewrite first: a held SYN is kept as lwIP must see it. */
		nat_rewrite(ip, pk, false, e->gateway, relay_port);
		nat_rewrite(ip, pk, true, pk->src, f->nat_port);
		if (pk->proto == NAT_PROTO_TCP)
			return relay_tcp_open(r, f, frame, len, pk, hip, hport, md);
		return relay_udp_open(r, f, hip, hport);
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

/* ---- lifetime ---- */

void relay_tick(struct relay *r, uint64_t now)
{
	unsigned int i;

	relay_tcp_tick(r, now);
	for (i = 0; i < r->tcp.max; i++)
		if (r->tcp.flows[i].used && !r->tcp.flows[i].conn && now >= r->tcp.flows[i].expire_ms)
			nat_remove(&r->tcp, &r->tcp.flows[i]);
	for (i = 0; i < r->udp.max; i++)
		if (r->udp.flows[i].used && now >= r->udp.flows[i].expire_ms)
			relay_udp_free(r, &r->udp.flows[i]);
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
	gw = relay_ip4(env->gateway);
	r->listen = tcp_new();
	if (!r->listen || tcp_bind(r->listen, &gw, NAT_TCP_RELAY_PORT) != ERR_OK) {
		ret = -EADDRINUSE;
		goto fail;
	}
	r->listen = tcp_listen_with_backlog(r->listen, TCP_DEFAULT_LISTEN_BACKLOG);
	if (!r->listen)
		goto fail;
	tcp_arg(r->listen, r);
	tcp_accept(r->listen, relay_tcp_accept);
	r->udp_pcb = udp_new();
	if (!r->udp_pcb || udp_bind(r->udp_pcb, &gw, NAT_UDP_RELAY_PORT) != ERR_OK) {
		ret = -EADDRINUSE;
		goto fail;
	}
	udp_recv(r->udp_pcb, relay_udp_recv, r);
	for (i = 0; i < env->nforwards; i++) {
		ret = relay_forward_listen(r, env->forwards[i].host_port, env->forwards[i].guest_port);
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
		relay_conn_free(r->conns);
	r->check = NULL;
	for (i = 0; r->udp.flows && i < r->udp.max; i++)
		if (r->udp.flows[i].used)
			relay_udp_free(r, &r->udp.flows[i]);
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
