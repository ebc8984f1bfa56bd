#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "net/tap.h"

struct tap {
	struct net_backend be;
	int fd;
};

/* Non-blocking: a full tap queue drops the frame, as a switch would, instead of stalling a vCPU. */
static int tap_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct tap *t = (struct tap *)be;
	ssize_t n;

	do
		n = writev(t->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static ssize_t tap_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	struct tap *t = (struct tap *)be;
	ssize_t n;

	do
		n = readv(t->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static void tap_destroy(struct net_backend *be)
{
	struct tap *t = (struct tap *)be;

	close(t->fd);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.name = "tap",
	.send = tap_send,
	.recv = tap_recv,
	.destroy = tap_destroy,
};

int net_tap_open(const char *name, struct net_backend **out)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	struct tap *t;
	int ret;

	if (!*name || strlen(name) >= IFNAMSIZ) {
		log_error("tap '%s': a name of 1 to %d characters", name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		ret = -errno;
		log_error("tap %s: /dev/net/tun: %s", name, strerror(errno));
		goto fail;
	}
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		log_error("tap %s: %s", name, strerror(errno));
		goto fail;
	}
	t->be.ops = &tap_ops;
	t->be.rx_fd = t->fd;
	*out = &t->be;
	return 0;
fail:
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return ret;
}
