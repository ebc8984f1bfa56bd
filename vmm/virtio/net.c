#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "lib/le.h"
#include "lib/log.h"
#include "net/tap.h"
#include "net/user.h"
#include "run/devices.h"
#include "virtio/net.h"

#define NET_DEVICE_ID		1
#define NET_QUEUE_NUM		256
#define NET_RXQ			0
#define NET_TXQ			1

#define NET_F_MAC		(1ULL << 5)
#define NET_F_STATUS		(1ULL << 16)
#define NET_S_LINK_UP		1

/* With VIRTIO_F_VERSION_1 the header always has num_buffers: 12 bytes, all zero but num_buffers = 1. */
#define NET_HDR_SIZE		12
#define NET_HDR_NUM_BUFFERS	10
/* Config space: mac[6], le16 status. */
#define NET_CONFIG_SIZE		8
/* Frames moved per wakeup of the event loop before it looks at its other descriptors. */
#define NET_RX_BUDGET		64

struct net {
	struct virtio_dev dev;
	struct net_backend *be;
	struct evloop *loop;
	struct evloop_watch rx_watch;
	bool rx_watched;		/* the backend's descriptor is in the loop; off while the guest has no buffers */
	uint8_t config[NET_CONFIG_SIZE];
};

/*
 * The iovec of the chain's readable (tx) or writable (rx) buffers, less their first skip bytes: the virtio-net
 * header. Returns the number of entries; *room gets the bytes they hold.
 */
static int chain_iov(const struct virtq_chain *c, bool writable, uint32_t skip, struct iovec *iov, size_t *room)
{
	unsigned int i = writable ? c->nr_readable : 0, end = writable ? c->nr : c->nr_readable;
	int n = 0;

	*room = 0;
	for (; i < end; i++) {
		if (skip >= c->bufs[i].len) {
			skip -= c->bufs[i].len;
			continue;
		}
		iov[n].iov_base = c->bufs[i].host + skip;
		iov[n].iov_len = c->bufs[i].len - skip;
		*room += iov[n].iov_len;
		skip = 0;
		n++;
	}
	return n;
}

/* The receive header, written across the chain's first writable buffers (the driver may split it). */
static void put_rx_header(const struct virtq_chain *c)
{
	uint8_t hdr[NET_HDR_SIZE] = { 0 };
	uint32_t done = 0, n;
	unsigned int i;

	le_put16(hdr + NET_HDR_NUM_BUFFERS, 1);
	for (i = c->nr_readable; i < c->nr && done < NET_HDR_SIZE; i++) {
		n = c->bufs[i].len < NET_HDR_SIZE - done ? c->bufs[i].len : NET_HDR_SIZE - done;
		memcpy(c->bufs[i].host, hdr + done, n);
		done += n;
	}
}

static uint32_t writable_bytes(const struct virtq_chain *c)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = c->nr_readable; i < c->nr; i++)
		sum += c->bufs[i].len;
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static void rx_watch(struct net *n, bool on)
{
	if (n->rx_watched == on)
		return;
	if (evloop_mod(n->loop, &n->rx_watch, on ? EPOLLIN : 0) == 0)
		n->rx_watched = on;
}

/* Event loop: frames are waiting in the backend. Under dev->lock, like every queue access. */
static void net_rx_ready(struct evloop_watch *w, uint32_t events)
{
	struct iovec iov[VIRTQ_NUM_MAX];
	struct virtq_chain chain, *c = &chain;
	struct net *n = w->opaque;
	struct virtio_dev *dev = &n->dev;
	struct virtq *q = &dev->vqs[NET_RXQ];
	unsigned int budget = NET_RX_BUDGET;
	bool used = false;
	char why[160];
	size_t room;
	ssize_t len;
	int ret, cnt;

	(void)events;
	pthread_mutex_lock(&dev->lock);
	if (!virtio_mmio_queue_live(dev, NET_RXQ)) {
		rx_watch(n, false);		/* back on when the driver kicks the receive queue */
		goto out;
	}
	while (budget--) {
		ret = virtq_pop(q, dev->vm, c, why, sizeof(why));
		if (ret < 0) {
			virtio_mmio_violation(dev, why);
			break;
		}
		if (ret == 0) {
			rx_watch(n, false);
			break;
		}
		if (writable_bytes(c) <= NET_HDR_SIZE) {
			virtio_mmio_violation(dev, "a receive buffer without room for a header and a frame");
			break;
		}
		cnt = chain_iov(c, true, NET_HDR_SIZE, iov, &room);
		len = n->be->ops->recv(n->be, iov, cnt);
		if (len < 0) {
			virtq_unpop(q);
			if (len != -EAGAIN) {
				stats_add(&dev->stats->net.rx_dropped, 1);
				log_error("virtio-net: %s backend: receive: %s", n->be->ops->name,
					  strerror((int)-len));
			}
			break;
		}
		stats_add(&dev->stats->net.rx_bytes, (uint64_t)len);
		stats_add(&dev->stats->net.rx_packets, 1);
		put_rx_header(c);
		virtq_push(q, c->head, NET_HDR_SIZE + (uint32_t)len);
		used = true;
	}
	if (used)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
out:
	pthread_mutex_unlock(&dev->lock);
}

static void net_tx(struct net *n)
{
	struct iovec iov[VIRTQ_NUM_MAX];
	struct virtq_chain c;
	struct virtio_dev *dev = &n->dev;
	struct virtq *q = &dev->vqs[NET_TXQ];
	bool used = false;
	char why[160];
	size_t len;
	int ret, cnt;

	while ((ret = virtq_pop(q, dev->vm, &c, why, sizeof(why))) > 0) {
		cnt = chain_iov(&c, false, NET_HDR_SIZE, iov, &len);
		if (cnt == 0) {
			virtq_push(q, c.head, 0);
			virtio_mmio_violation(dev, "a transmit buffer without a frame after the header");
			return;
		}
		/* A dropped frame is the network's loss, as on a wire: counted, the guest is not told. */
		if (n->be->ops->send(n->be, iov, cnt) < 0) {
			stats_add(&dev->stats->net.tx_dropped, 1);
		} else {
			stats_add(&dev->stats->net.tx_bytes, len);
			stats_add(&dev->stats->net.tx_packets, 1);
		}
		virtq_push(q, c.head, 0);
		used = true;
	}
	if (used)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	if (ret < 0)
		virtio_mmio_violation(dev, why);
}

static void net_notify(struct virtio_dev *dev, unsigned int q)
{
	struct net *n = (struct net *)dev;

	if (q == NET_TXQ)
		net_tx(n);
	else
		rx_watch(n, true);	/* new receive buffers: frames may flow again */
}

static void net_destroy(struct virtio_dev *dev)
{
	struct net *n = (struct net *)dev;

	evloop_del(n->loop, &n->rx_watch);
	n->be->ops->destroy(n->be);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = NET_DEVICE_ID,
	.features = NET_F_MAC | NET_F_STATUS,
	.nr_queues = 2,
	.queue_num_max = NET_QUEUE_NUM,
	.config_size = NET_CONFIG_SIZE,
	.notify = net_notify,
	.destroy = net_destroy,
};

int virtio_net_create(struct vm *vm, struct evloop *loop, struct net_backend *be,
		      const uint8_t mac[VIRTIO_NET_MAC_LEN], struct virtio_dev **out)
{
	struct net *n = calloc(1, sizeof(*n));
	int ret;

	if (!n) {
		log_error("virtio-net: out of memory");
		be->ops->destroy(be);
		return -ENOMEM;
	}
	n->be = be;
	n->loop = loop;
	memcpy(n->config, mac, VIRTIO_NET_MAC_LEN);
	le_put16(n->config + VIRTIO_NET_MAC_LEN, NET_S_LINK_UP);
	n->rx_watch = (struct evloop_watch){ .fd = be->rx_fd, .fn = net_rx_ready, .opaque = n };
	/* In the loop from the start, but with no events until the driver posts receive buffers. */
	ret = evloop_add(loop, &n->rx_watch, 0);
	if (ret == 0) {
		ret = virtio_mmio_init(&n->dev, vm, &net_ops, n->config);
		if (ret < 0)
			evloop_del(loop, &n->rx_watch);
		else
			be->stats = &n->dev.stats->net;
	}
	if (ret < 0) {
		be->ops->destroy(be);
		free(n);
		return ret;
	}
	*out = &n->dev;
	return 0;
}

/* One per --net, in the order given: the first is the guest's eth0. */
static int net_run_create(struct run_device_env *env)
{
	const struct run_opts *o = env->opts;
	struct net_backend *be;
	struct virtio_dev *dev;
	unsigned int i;
	int ret;

	for (i = 0; i < o->nr_nics; i++) {
		if (o->nics[i].tap)
			ret = net_tap_open(o->nics[i].tap, &be);
		else
			ret = net_user_open(&o->nics[i].user, env->loop, &be);
		if (ret < 0)
			return ret;
		ret = virtio_net_create(env->vm, env->loop, be, o->nics[i].mac, &dev);
		if (ret < 0)
			return ret;
		run_devices_add(env, dev);
	}
	return 0;
}

RUN_DEVICE(virtio_net, "virtio-net", 30, net_run_create);
