/* unit-sources: vmm/virtio/net.c vmm/net/tap.c vmm/virtio/queue.c vmm/virtio/mmio.c vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/evloop.c vmm/lib/log.c vmm/run/stats.c */
/*
 * virtio-net on a fake guest, with a backend that is one end of a datagram socketpair: the test reads what the
 * guest sent from the other end and writes frames for the guest into it, and runs the event loop by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "kvm/vm.h"
#include "lib/evloop.h"
#include "lib/le.h"
#include "virtio/mmio.h"
#include "virtio/net.h"

#define RAM_SIZE	0x20000
#define QNUM		8
#define RX_DESC		0x1000
#define RX_AVAIL	0x2000
#define RX_USED		0x3000
#define TX_DESC		0x4000
#define TX_AVAIL	0x5000
#define TX_USED		0x6000
#define BUF_GPA		0x8000		/* eight 2 KiB buffers */
#define BUF_SIZE	0x800
#define HDR		12

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct vm vm;
static struct evloop loop;
static struct virtio_dev *dev;
static int peer = -1;
static struct net_backend *backend;
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct pair_backend {
	struct net_backend be;
	int fd;
};

static int pair_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	return writev(((struct pair_backend *)be)->fd, iov, iovcnt) < 0 ? -errno : 0;
}

static ssize_t pair_recv(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
	ssize_t n = readv(((struct pair_backend *)be)->fd, iov, iovcnt);

	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : -errno) : n;
}

static void pair_destroy(struct net_backend *be)
{
	close(((struct pair_backend *)be)->fd);
	free(be);
}

static const struct net_backend_ops pair_ops = { "pair", pair_send, pair_recv, pair_destroy };

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, true);
}

static void queue_setup(unsigned int q, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(0x030, q);
	wr(0x038, QNUM);
	wr(0x080, (uint32_t)desc);
	wr(0x090, (uint32_t)avail);
	wr(0x0a0, (uint32_t)used);
	wr(0x044, 1);
}

static int setup(void)
{
	struct pair_backend *pb = calloc(1, sizeof(*pb));
	int sv[2];

	if (!pb || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	pb->be = (struct net_backend){ .ops = &pair_ops, .rx_fd = sv[0] };
	pb->fd = sv[0];
	peer = sv[1];
	backend = &pb->be;
	memset(ram, 0, sizeof(ram));
	vm = (struct vm){ .ram = ram, .ram_size = RAM_SIZE, .low_size = RAM_SIZE, .vm_fd = -1, .kvm_fd = -1 };
	iotrap_init(&vm.io);
	if (evloop_init(&loop) < 0 || virtio_net_create(&vm, &loop, &pb->be, mac, &dev) < 0)
		return -1;
	wr(0x070, 3);
	wr(0x024, 1);
	wr(0x020, 1);		/* VIRTIO_F_VERSION_1 */
	wr(0x070, 0xb);
	queue_setup(0, RX_DESC, RX_AVAIL, RX_USED);
	queue_setup(1, TX_DESC, TX_AVAIL, TX_USED);
	wr(0x070, 0xf);
	return rd(0x070) == 0xf ? 0 : -1;
}

static void teardown(void)
{
	dev->ops->destroy(dev);
	evloop_destroy(&loop);
	close(peer);
}

static void set_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc *d = (struct virtq_desc *)(ram + table) + i;

	*d = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void make_avail(uint64_t avail, uint16_t head)
{
	uint16_t *a = (uint16_t *)(ram + avail);

	a[2 + a[1] % QNUM] = head;
	a[1]++;
}

static uint16_t used_idx(uint64_t used)
{
	return ((uint16_t *)(ram + used))[1];
}

static uint32_t used_len(uint64_t used, uint16_t idx)
{
	return le_get32(ram + used + 4 + (idx % QNUM) * 8 + 4);
}

/* Posts receive buffer i (BUF_SIZE bytes, device-writable) and kicks the receive queue. */
static void post_rx(unsigned int i, uint16_t flags)
{
	set_desc(RX_DESC, i, BUF_GPA + i * BUF_SIZE, BUF_SIZE, flags, 0);
	make_avail(RX_AVAIL, (uint16_t)i);
	wr(0x050, 0);
}

/* Runs what the event loop thread would: the handlers of every descriptor that is ready now. */
static void pump(void)
{
	evloop_run_once(&loop, 0);
}

static const char *test_config(void)
{
	CHECK_INT(setup(), 0);
	CHECK_INT(rd(0x008), 1);
	wr(0x014, 0);
	CHECK(rd(0x010) & (1U << 5));			/* MAC */
	CHECK(rd(0x010) & (1U << 16));			/* STATUS */
	CHECK_INT(rd(0x100) & 0xff, 0x52);
	CHECK_INT(rd(0x104) >> 8 & 0xff, 0x56);	/* mac[5] */
	CHECK_INT(rd(0x104) >> 16 & 0xffff, 1);		/* link up */
	teardown();
	return NULL;
}

static const char *test_transmit(void)
{
	uint8_t got[256];
	unsigned int i;

	CHECK_INT(setup(), 0);
	memset(ram + BUF_GPA, 0, HDR);
	for (i = 0; i < 60; i++)
		ram[BUF_GPA + 0x100 + i] = (uint8_t)i;
	/* header and frame in two descriptors, as Linux sends them */
	set_desc(TX_DESC, 0, BUF_GPA, HDR, VIRTQ_DESC_F_NEXT, 1);
	set_desc(TX_DESC, 1, BUF_GPA + 0x100, 60, 0, 0);
	make_avail(TX_AVAIL, 0);
	wr(0x050, 1);
	CHECK_INT(used_idx(TX_USED), 1);
	CHECK_INT(read(peer, got, sizeof(got)), 60);
	CHECK(!memcmp(got, ram + BUF_GPA + 0x100, 60));
	/* header and frame in one descriptor */
	memcpy(ram + BUF_GPA + 0x200 + HDR, got, 60);
	set_desc(TX_DESC, 2, BUF_GPA + 0x200, HDR + 60, 0, 0);
	make_avail(TX_AVAIL, 2);
	wr(0x050, 1);
	CHECK_INT(read(peer, got, sizeof(got)), 60);
	CHECK_INT(got[59], 59);
	CHECK_INT(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET, 0);
	teardown();
	return NULL;
}

static const char *test_transmit_header_only_is_violation(void)
{
	uint8_t got[64];

	CHECK_INT(setup(), 0);
	set_desc(TX_DESC, 0, BUF_GPA, HDR, 0, 0);
	make_avail(TX_AVAIL, 0);
	wr(0x050, 1);
	CHECK(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_INT(read(peer, got, sizeof(got)), -1);	/* nothing sent */
	teardown();
	return NULL;
}

static const char *test_receive(void)
{
	uint8_t frame[100];
	unsigned int i;

	CHECK_INT(setup(), 0);
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(0xa0 + i);
	memset(ram + BUF_GPA, 0xee, BUF_SIZE);
	post_rx(0, VIRTQ_DESC_F_WRITE);
	CHECK_INT(write(peer, frame, sizeof(frame)), sizeof(frame));
	pump();
	CHECK_INT(used_idx(RX_USED), 1);
	CHECK_INT(used_len(RX_USED, 0), HDR + sizeof(frame));
	CHECK_INT(ram[BUF_GPA], 0);				/* flags */
	CHECK_INT(le_get16(ram + BUF_GPA + 10), 1);		/* num_buffers */
	CHECK(!memcmp(ram + BUF_GPA + HDR, frame, sizeof(frame)));
	teardown();
	return NULL;
}

/* A frame that arrives while the guest has no buffer waits for one; it is neither lost nor busy-polled. */
static const char *test_receive_waits_for_buffers(void)
{
	uint8_t frame[64] = { 1, 2, 3 };

	CHECK_INT(setup(), 0);
	post_rx(0, VIRTQ_DESC_F_WRITE);
	CHECK_INT(write(peer, frame, sizeof(frame)), sizeof(frame));
	frame[0] = 9;
	CHECK_INT(write(peer, frame, sizeof(frame)), sizeof(frame));
	pump();
	CHECK_INT(used_idx(RX_USED), 1);
	/* no buffer left: the watch is off, so the loop has nothing to do */
	CHECK_INT(evloop_run_once(&loop, 0), 0);
	CHECK_INT(used_idx(RX_USED), 1);
	post_rx(1, VIRTQ_DESC_F_WRITE);
	pump();
	CHECK_INT(used_idx(RX_USED), 2);
	CHECK_INT(ram[BUF_GPA + BUF_SIZE + HDR], 9);
	teardown();
	return NULL;
}

static const char *test_receive_into_readable_is_violation(void)
{
	uint8_t frame[64] = { 0 };

	CHECK_INT(setup(), 0);
	post_rx(0, 0);					/* device-readable: the guest broke the rules */
	CHECK_INT(write(peer, frame, sizeof(frame)), sizeof(frame));
	pump();
	CHECK(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_INT(used_idx(RX_USED), 0);
	teardown();
	return NULL;
}

/* Frames and bytes each way; a frame the backend refused is a drop. The backend counts into the same place. */
static const char *test_counters(void)
{
	struct stats_net *st;
	uint64_t tx_bytes, tx_packets, tx_dropped, rx_bytes, rx_packets;
	uint8_t frame[100] = { 0 };

	CHECK_INT(setup(), 0);
	st = &dev->stats->net;
	CHECK(backend->stats == st);
	tx_bytes = st->tx_bytes, tx_packets = st->tx_packets, tx_dropped = st->tx_dropped;
	rx_bytes = st->rx_bytes, rx_packets = st->rx_packets;
	set_desc(TX_DESC, 0, BUF_GPA, HDR + 60, 0, 0);
	make_avail(TX_AVAIL, 0);
	wr(0x050, 1);
	CHECK_INT(read(peer, frame, sizeof(frame)), 60);
	post_rx(0, VIRTQ_DESC_F_WRITE);
	CHECK_INT(write(peer, frame, sizeof(frame)), sizeof(frame));
	pump();
	CHECK_INT(used_idx(RX_USED), 1);
	/* the other end is gone: the next frame is lost on the wire */
	close(peer);
	peer = -1;
	set_desc(TX_DESC, 1, BUF_GPA, HDR + 60, 0, 0);
	make_avail(TX_AVAIL, 1);
	wr(0x050, 1);
	CHECK_INT(used_idx(TX_USED), 2);
	CHECK_INT(st->tx_bytes - tx_bytes, 60);
	CHECK_INT(st->tx_packets - tx_packets, 1);
	CHECK_INT(st->tx_dropped - tx_dropped, 1);
	CHECK_INT(st->rx_bytes - rx_bytes, sizeof(frame));
	CHECK_INT(st->rx_packets - rx_packets, 1);
	teardown();
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "virtio-net-config", test_config },
		{ "virtio-net-transmit", test_transmit },
		{ "virtio-net-transmit-header-only", test_transmit_header_only_is_violation },
		{ "virtio-net-receive", test_receive },
		{ "virtio-net-receive-waits-for-buffers", test_receive_waits_for_buffers },
		{ "virtio-net-receive-into-readable", test_receive_into_readable_is_violation },
		{ "virtio-net-counters", test_counters },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
