#ifndef SHRIKE_NET_BACKEND_H
#define SHRIKE_NET_BACKEND_H

#include <sys/types.h>
#include <sys/uio.h>

#include "run/stats.h"

/*
 * Where a guest NIC's Ethernet frames go: a tap device on the host (net/tap.c) or the lwIP user network (net/user.c).
 * virtio-net talks only to this interface. Frames carry no virtio-net header here; the device adds and strips it.
 */
struct net_backend;

struct net_backend_ops {
	const char *name;
	/* Sends one frame gathered from iov. Returns 0, or -errno when it was dropped (the guest is not told). */
	int (*send)(struct net_backend *be, const struct iovec *iov, int iovcnt);
	/* Receives one frame into iov: its length (cut to the room in iov), -EAGAIN when none waits, or -errno. */
	ssize_t (*recv)(struct net_backend *be, const struct iovec *iov, int iovcnt);
	void (*destroy)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	int rx_fd;		/* readable (epoll) while recv() has a frame waiting */
	/*
	 * The NIC's counters, set by virtio-net once it takes the backend (NULL before). The device counts what
	 * passes and what send() refuses; the backend counts the frames for the guest that it has to drop.
	 */
	struct stats_net *stats;
};

#endif
