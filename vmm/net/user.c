#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "lib/be.h"
#include "lib/log.h"
#include "net/dhcp.h"
#include "net/nat.h"
#include "net/relay.h"
#include "net/user.h"

/* Frames lwIP produced that the guest has not taken yet; beyond this they are dropped, as a full NIC would. */
#define USER_QUEUE		512
/* We offer no offloads, so a guest frame is at most an MTU of 1500 plus the Ethernet header. */
#define USER_FRAME_MAX		1514
#define USER_FRAME_MIN		60
#define USER_TICK_MS		250
#define USER_LEASE_SECONDS	86400

struct user {
	struct net_backend be;
	struct user *next;		/* all open user networks, to refuse overlapping ones */
	struct netif netif;
	struct evloop *loop;
	struct relay *relay;
	struct dhcp_server_conf dhcp;
	uint32_t net, mask, gateway, dns, guest;
	uint8_t gateway_mac[6], guest_mac[6];
	int timer_fd;
	struct evloop_watch timer_w;
	struct { uint8_t *buf; size_t len; } q[USER_QUEUE];
	unsigned int qhead, qn;
};

/*
 * lwIP keeps global state (pcb lists, timers), so one lock covers every user network of the process. All entry
 * points take it: virtio-net's send and receive (on the event thread, or a vCPU thread when KVM lacks ioeventfd)
 * and the event handlers of our sockets and timer.
 */
static pthread_mutex_t user_lock = PTHREAD_MUTEX_INITIALIZER;
static struct user *users;
static bool lwip_ready;

u32_t sys_now(void);
u32_t sys_now(void)
{
	return (u32_t)relay_now_ms();
}

static ip4_addr_t ip4(uint32_t host_order)
{
	ip4_addr_t a;

	ip4_addr_set_u32(&a, htonl(host_order));
	return a;
}

/* A frame for the guest that it will never see: its queue is full, memory ran out, or lwIP made it too long. */
static void drop_rx(struct user *u)
{
	if (u->be.stats)
		stats_add(&u->be.stats->rx_dropped, 1);
}

static void queue_frame(struct user *u, uint8_t *buf, size_t len)
{
	uint64_t one = 1;

	if (u->qn == USER_QUEUE) {
		drop_rx(u);
		free(buf);
		return;
	}
	u->q[(u->qhead + u->qn++) % USER_QUEUE].buf = buf;
	u->q[(u->qhead + u->qn - 1) % USER_QUEUE].len = len;
	/* The eventfd is readable exactly while the queue is not empty. */
	if (u->qn == 1 && write(u->be.rx_fd, &one, sizeof(one)) < 0)
		log_error("user network: eventfd: %s", strerror(errno));
}

static void to_guest(void *opaque, const uint8_t *frame, size_t len)
{
	struct user *u = opaque;
	uint8_t *buf = malloc(len);

	if (!buf) {
		drop_rx(u);
		return;
	}
	memcpy(buf, frame, len);
	queue_frame(u, buf, len);
}

static void to_lwip(void *opaque, const uint8_t *frame, size_t len)
{
	struct user *u = opaque;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

	if (!p)
		return;
	memcpy(p->payload, frame, len);
	if (u->netif.input(p, &u->netif) != ERR_OK)
		pbuf_free(p);
}

static err_t user_linkoutput(struct netif *n, struct pbuf *p)
{
	struct user *u = n->state;
	uint8_t *buf;

	if (p->tot_len > USER_FRAME_MAX) {
		drop_rx(u);
		return ERR_OK;
	}
	buf = malloc(p->tot_len);
	if (!buf) {
		drop_rx(u);
		return ERR_OK;
	}
	pbuf_copy_partial(p, buf, p->tot_len, 0);
	relay_guest_out(u->relay, buf, p->tot_len);
	queue_frame(u, buf, p->tot_len);
	return ERR_OK;
}

static err_t user_netif_init(struct netif *n)
{
	struct user *u = n->state;

	n->name[0] = 'u';
	n->name[1] = 's';
	n->hwaddr_len = 6;
	memcpy(n->hwaddr, u->gateway_mac, 6);
	n->mtu = 1500;
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	n->output = etharp_output;
	n->linkoutput = user_linkoutput;
	return ERR_OK;
}

/*
 * ARP for the DNS and metadata addresses, which lwIP does not own: answered with the gateway's MAC, so a guest
 * that thinks them on its link reaches them. Returns true when the frame was such a request.
 */
static bool arp_special(struct user *u, const uint8_t *f, size_t len)
{
	static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };	/* Ethernet, IPv4, request */
	uint8_t *r;
	uint32_t target;

	if (len < 42 || memcmp(f + 14, head, sizeof(head)))
		return false;
	target = be_get32(f + 38);
	if (target != u->dns && target != RELAY_METADATA_IP)
		return false;
	r = malloc(42);
	if (!r)
		return true;
	memcpy(r, f + 6, 6);
	memcpy(r + 6, u->gateway_mac, 6);
	memcpy(r + 12, f + 12, 2 + 8);
	r[21] = 2;					/* reply */
	memcpy(r + 22, u->gateway_mac, 6);
	memcpy(r + 28, f + 38, 4);
	memcpy(r + 32, f + 22, 10);			/* the asker's MAC and IPv4 */
	queue_frame(u, r, 42);
	return true;
}

/* Takes p; returns 0, or -EPROTONOSUPPORT for a frame nobody here serves (the guest's send dropped it). */
static int frame_input(struct user *u, struct pbuf *p)
{
	uint8_t *f = p->payload, reply[DHCP_REPLY_MAX];
	size_t len = p->tot_len, n;
	struct nat_pkt pk;

	if (f[12] == 0x08 && f[13] == 0x06) {
		if (arp_special(u, f, len))
			goto drop;
		goto lwip;
	}
	/* IPv6 and anything else: not served (docs/network.md). */
	if (f[12] != 0x08 || f[13] != 0x00 || nat_parse(f + 14, len - 14, &pk) < 0)
		goto bad;
	if (pk.proto == NAT_PROTO_UDP && pk.dport == 67 && !pk.fragment) {
		n = dhcp_server_input(&u->dhcp, f, len, reply, sizeof(reply));
		if (n)
			to_guest(u, reply, n);
		goto drop;
	}
	switch (relay_guest_ip(u->relay, f, len, &pk)) {
	case RELAY_PASS:
		goto lwip;
	case RELAY_HELD:
	case RELAY_DROP:
		goto drop;
	}
lwip:
	if (u->netif.input(p, &u->netif) != ERR_OK)
		pbuf_free(p);
	return 0;
bad:
	pbuf_free(p);
	return -EPROTONOSUPPORT;
drop:
	pbuf_free(p);
	return 0;
}

static int user_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct user *u = (struct user *)be;
	size_t len = 0, off = 0;
	struct pbuf *p;
	int i, ret;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > USER_FRAME_MAX || len + iov[i].iov_len > USER_FRAME_MAX) {
			len = USER_FRAME_MAX + 1;
			break;
		}
		len += iov[i].iov_len;
	}
	pthread_mutex_lock(&user_lock);
	if (len < 14 || len > USER_FRAME_MAX) {
		pthread_mutex_unlock(&user_lock);
		return -EINVAL;
	}
	/*
	 * The one copy on the way in: straight into the pbuf that lwIP will own, rewritten in place. A runt is padded
	 * to Ethernet's minimum as a NIC would: lwIP reads a whole ARP header from any ARP frame (found by fuzzing).
	 */
	p = pbuf_alloc(PBUF_RAW, (u16_t)(len < USER_FRAME_MIN ? USER_FRAME_MIN : len), PBUF_RAM);
	if (!p) {
		pthread_mutex_unlock(&user_lock);
		return -ENOMEM;
	}
	memset((uint8_t *)p->payload + len, 0, p->tot_len - len);
	for (i = 0; i < iovcnt; i++) {
		memcpy((uint8_t *)p->payload + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	ret = frame_input(u, p);
	relay_run_pending(u->relay);
	pthread_mutex_unlock(&user_lock);
	return ret;
}

static ssize_t user_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct user *u = (struct user *)be;
	size_t off = 0, n, len;
	uint64_t v;
	uint8_t *buf;
	int i;

	pthread_mutex_lock(&user_lock);
	if (!u->qn) {
		pthread_mutex_unlock(&user_lock);
		return -EAGAIN;
	}
	buf = u->q[u->qhead].buf;
	len = u->q[u->qhead].len;
	u->qhead = (u->qhead + 1) % USER_QUEUE;
	if (!--u->qn && read(u->be.rx_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_error("user network: eventfd: %s", strerror(errno));
	pthread_mutex_unlock(&user_lock);
	for (i = 0; i < iovcnt && off < len; i++) {
		n = len - off < iov[i].iov_len ? len - off : iov[i].iov_len;
		memcpy(iov[i].iov_base, buf + off, n);
		off += n;
	}
	free(buf);
	return (ssize_t)off;
}

static void user_tick(struct evloop_watch *w, uint32_t events)
{
	struct user *u = w->opaque;
	uint64_t n;

	(void)events;
	if (read(u->timer_fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&user_lock);
	sys_check_timeouts();
	relay_tick(u->relay, relay_now_ms());
	pthread_mutex_unlock(&user_lock);
}

static void user_free(struct user *u)
{
	struct user **pp;
	ip4_addr_t guest = ip4(u->guest);

	pthread_mutex_lock(&user_lock);
	if (u->timer_fd >= 0) {
		evloop_del(u->loop, &u->timer_w);
		close(u->timer_fd);
	}
	if (u->relay)
		relay_destroy(u->relay);
	if (u->netif.state) {
		etharp_remove_static_entry(&guest);
		netif_remove(&u->netif);
	}
	for (pp = &users; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	while (u->qn) {
		free(u->q[u->qhead].buf);
		u->qhead = (u->qhead + 1) % USER_QUEUE;
		u->qn--;
	}
	pthread_mutex_unlock(&user_lock);
	if (u->be.rx_fd >= 0)
		close(u->be.rx_fd);
	free(u);
}

static void user_destroy(struct net_backend *be)
{
	user_free((struct user *)be);
}

static const struct net_backend_ops user_ops = {
	.name = "user",
	.send = user_send,
	.recv = user_recv,
	.destroy = user_destroy,
};

static int check_conf(const struct net_user_conf *c, uint32_t mask, uint32_t guest)
{
	struct in_addr a = { .s_addr = htonl(c->net) };
	char net[INET_ADDRSTRLEN];
	struct user *o;

	inet_ntop(AF_INET, &a, net, sizeof(net));
	if (c->prefix < GUEST_USER_NET_MIN_PREFIX || c->prefix > GUEST_USER_NET_MAX_PREFIX || (c->net & ~mask)) {
		log_error("user network %s/%u: expected a network address with a prefix of %d to %d", net,
			  c->prefix, GUEST_USER_NET_MIN_PREFIX, GUEST_USER_NET_MAX_PREFIX);
		return -EINVAL;
	}
	if ((guest & mask) != c->net || guest == c->net + 2 || guest == c->net + 3 || guest == c->net ||
	    guest == (c->net | ~mask)) {
		log_error("user network %s/%u: the guest address must be inside it and not .0, .2, .3 or the "
			  "broadcast address", net, c->prefix);
		return -EINVAL;
	}
	if (c->nforwards > GUEST_MAX_FORWARDS)
		return -EINVAL;
	for (o = users; o; o = o->next)
		if ((o->net & mask) == c->net || (c->net & o->mask) == o->net) {
			log_error("user network %s/%u overlaps another user NIC's network", net, c->prefix);
			return -EINVAL;
		}
	return 0;
}

int net_user_open(const struct net_user_conf *c, struct evloop *loop, struct net_backend **out)
{
	struct itimerspec its = { .it_interval.tv_nsec = USER_TICK_MS * 1000000L,
				  .it_value.tv_nsec = USER_TICK_MS * 1000000L };
	uint32_t mask = c->prefix >= 8 && c->prefix <= 32 ? (uint32_t)(0xffffffffull << (32 - c->prefix)) : 0;
	struct relay_env env = { 0 };
	ip4_addr_t ip, nm, gw;
	struct user *u;
	unsigned int i;
	int ret;

	pthread_mutex_lock(&user_lock);
	ret = check_conf(c, mask, c->guest_addr ? c->guest_addr : c->net + 15);
	pthread_mutex_unlock(&user_lock);
	if (ret < 0)
		return ret;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->be.ops = &user_ops;
	u->loop = loop;
	u->net = c->net;
	u->mask = mask;
	u->gateway = c->net + 2;
	u->dns = c->net + 3;
	u->guest = c->guest_addr ? c->guest_addr : c->net + 15;
	/* QEMU's convention: 52:55 and the gateway's address, e.g. 52:55:0a:00:02:02. */
	u->gateway_mac[0] = 0x52;
	u->gateway_mac[1] = 0x55;
	for (i = 0; i < 4; i++)
		u->gateway_mac[2 + i] = (uint8_t)(u->gateway >> (24 - 8 * i));
	memcpy(u->guest_mac, c->guest_mac, 6);
	u->dhcp = (struct dhcp_server_conf){ .server_ip = u->gateway, .guest_ip = u->guest, .netmask = mask,
					     .router = u->gateway, .dns = u->dns,
					     .lease_seconds = USER_LEASE_SECONDS };
	memcpy(u->dhcp.server_mac, u->gateway_mac, 6);
	memcpy(u->dhcp.guest_mac, c->guest_mac, 6);
	if (c->hostname)
		strncpy(u->dhcp.hostname, c->hostname, sizeof(u->dhcp.hostname));
	u->timer_fd = -1;
	u->be.rx_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->be.rx_fd < 0) {
		ret = -errno;
		log_error("user network: eventfd: %s", strerror(errno));
		goto fail;
	}
	u->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (u->timer_fd < 0 || timerfd_settime(u->timer_fd, 0, &its, NULL) < 0) {
		ret = -errno;
		log_error("user network: timerfd: %s", strerror(errno));
		goto fail;
	}
	u->timer_w = (struct evloop_watch){ .fd = u->timer_fd, .fn = user_tick, .opaque = u };
	ret = evloop_add(loop, &u->timer_w, EPOLLIN);
	if (ret < 0) {
		close(u->timer_fd);
		u->timer_fd = -1;
		goto fail;
	}

	pthread_mutex_lock(&user_lock);
	if (!lwip_ready) {
		lwip_init();
		lwip_ready = true;
	}
	ip = ip4(u->gateway);
	nm = ip4(mask);
	gw = ip4(u->gateway);
	if (!netif_add(&u->netif, &ip, &nm, &gw, u, user_netif_init, ethernet_input)) {
		pthread_mutex_unlock(&user_lock);
		log_error("user network: lwIP refused the interface");
		ret = -ENOMEM;
		goto fail;
	}
	netif_set_up(&u->netif);
	netif_set_link_up(&u->netif);
	ip = ip4(u->guest);
	etharp_add_static_entry(&ip, (struct eth_addr *)u->guest_mac);
	u->next = users;
	users = u;

	env = (struct relay_env){ .loop = loop, .lock = &user_lock, .net = c->net, .mask = mask,
				  .gateway = u->gateway, .dns = u->dns, .guest_ip = u->guest, .md = c->md,
				  .host_loopback = c->host_loopback, .resolv_conf = c->resolv_conf,
				  .nforwards = c->nforwards, .to_guest = to_guest, .to_lwip = to_lwip, .opaque = u };
	memcpy(env.gateway_mac, u->gateway_mac, 6);
	memcpy(env.guest_mac, u->guest_mac, 6);
	for (i = 0; i < c->nforwards && i < RELAY_MAX_FORWARDS; i++) {
		env.forwards[i].host_port = c->forwards[i].host_port;
		env.forwards[i].guest_port = c->forwards[i].guest_port;
	}
	ret = relay_create(&env, &u->relay);
	pthread_mutex_unlock(&user_lock);
	if (ret < 0)
		goto fail;
	*out = &u->be;
	return 0;
fail:
	user_free(u);
	return ret;
}
