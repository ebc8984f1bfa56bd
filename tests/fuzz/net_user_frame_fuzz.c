/* fuzz-sources: vmm/net/user.c vmm/net/nat.c vmm/net/relay.c vmm/net/relay_tcp.c vmm/net/relay_udp.c vmm/net/relay_forward.c vmm/net/dhcp.c vmm/net/metadata.c vmm/lib/jsonstr.c vmm/lib/utf8.c vmm/lib/evloop.c vmm/lib/log.c */
/* fuzz-lwip */
/*
 * The user network's frame input path: the input is a sequence of frames, each a 2-byte big-endian length and
 * that many bytes, sent from the "guest" into the backend; everything lwIP and the relays produce is drained.
 * connect() is replaced so a fuzzed SYN never reaches a real host: every host connection is refused.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lib/evloop.h"
#include "net/metadata.h"
#include "net/user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	(void)fd;
	(void)addr;
	(void)len;
	errno = ECONNREFUSED;
	return -1;
}

static struct evloop loop;
static struct net_backend *be;

static void drain(void)
{
	uint8_t buf[2048];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };

	while (be->ops->recv(be, &iov, 1) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct net_user_conf c = { .net = 0x0a000200, .prefix = 24, .resolv_conf = "/nonexistent" };
	struct iovec iov;
	size_t len;

	if (!be) {
		memcpy(c.guest_mac, mac, 6);
		c.md = metadata_create();
		if (!c.md || evloop_init(&loop) < 0 || net_user_open(&c, &loop, &be) < 0)
			return 0;
	}
	while (size >= 2) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		iov = (struct iovec){ .iov_base = (void *)(uintptr_t)data, .iov_len = len };
		be->ops->send(be, &iov, 1);
		drain();
		data += len;
		size -= len;
	}
	evloop_run_once(&loop, 0);
	drain();
	return 0;
}
