/* unit-sources: vmm/net/user.c vmm/net/nat.c vmm/net/relay.c vmm/net/relay_tcp.c vmm/net/relay_udp.c vmm/net/relay_forward.c vmm/net/dhcp.c vmm/net/metadata.c vmm/lib/jsonstr.c vmm/lib/utf8.c vmm/lib/evloop.c vmm/lib/log.c */
/* unit-lwip */
/*
 * The user network end to end on the host: frames a test "guest" crafts go into the backend's send(), lwIP and
 * the relays answer through recv(), and the far ends are real sockets on 127.0.0.1 that the test owns (the
 * backend is opened with host_loopback so that the guest may address 127.0.0.1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"
#include "lib/be.h"
#include "lib/evloop.h"
#include "net/checksum.h"
#include "net/metadata.h"
#include "net/nat.h"
#include "net/user.h"

#define NET		0x0a000200u
#define GW		(NET + 2)
#define GUEST		(NET + 15)
#define LO		0x7f000001u

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static struct evloop loop;
static struct net_backend *be;
static struct metadata *md;

static int send_frame(const uint8_t *f, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)f, .iov_len = len };

	return be->ops->send(be, &iov, 1);
}

/* An IPv4 packet with a TCP (flags) or UDP (flags < 0) header from the guest; returns the frame length. */
static size_t build(uint8_t *f, uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		    uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t dlen)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	size_t l4len = (proto == NAT_PROTO_TCP ? 20 : proto == NAT_PROTO_UDP ? 8 : 8) + dlen;
	uint32_t pseudo = inet_pseudo_sum(src, dst, proto, (uint32_t)l4len);

	memcpy(f, gw_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	be_put16(f + 12, 0x0800);
	memset(ip, 0, 20 + l4len);
	ip[0] = 0x45;
	be_put16(ip + 2, (uint16_t)(20 + l4len));
	ip[8] = 64;
	ip[9] = proto;
	be_put32(ip + 12, src);
	be_put32(ip + 16, dst);
	be_put16(ip + 10, inet_checksum(ip, 20, 0));
	if (proto == NAT_PROTO_TCP) {
		be_put16(l4, sport);
		be_put16(l4 + 2, dport);
		be_put32(l4 + 4, seq);
		be_put32(l4 + 8, ack);
		l4[12] = 5 << 4;
		l4[13] = flags;
		be_put16(l4 + 14, 65535);
		if (dlen)
			memcpy(l4 + 20, data, dlen);
		be_put16(l4 + 16, inet_checksum(l4, l4len, pseudo));
	} else if (proto == NAT_PROTO_UDP) {
		be_put16(l4, sport);
		be_put16(l4 + 2, dport);
		be_put16(l4 + 4, (uint16_t)l4len);
		if (dlen)
			memcpy(l4 + 8, data, dlen);
		be_put16(l4 + 6, inet_checksum(l4, l4len, pseudo));
	} else {
		l4[0] = 8;		/* ICMP echo request */
		be_put16(l4 + 4, 0x1234);
		be_put16(l4 + 6, 1);
		if (dlen)
			memcpy(l4 + 8, data, dlen);
		be_put16(l4 + 2, inet_checksum(l4, l4len, 0));
	}
	return 14 + 20 + l4len;
}

/* Runs the loop until a frame for the guest is there (or ms pass); copies it to f. Returns its length or 0. */
static size_t next_frame(uint8_t *f, size_t cap, int ms)
{
	struct iovec iov = { .iov_base = f, .iov_len = cap };
	ssize_t n;
	int i;

	for (i = 0; i <= ms / 10; i++) {
		n = be->ops->recv(be, &iov, 1);
		if (n > 0)
			return (size_t)n;
		evloop_run_once(&loop, 10);
	}
	return 0;
}

/* The next TCP frame for the guest, its checksums verified; 0 if none came. */
static size_t next_tcp(uint8_t *f, size_t cap, int ms)
{
	size_t n;

	while ((n = next_frame(f, cap, ms))) {
		uint8_t *ip = f + 14;
		uint32_t src = be_get32(ip + 12), dst = be_get32(ip + 16);
		size_t l4len = be_get16(ip + 2) - 20u;
		uint32_t pseudo = inet_pseudo_sum(src, dst, 6, (uint32_t)l4len);

		if (be_get16(f + 12) != 0x0800 || ip[9] != NAT_PROTO_TCP)
			continue;
		if (inet_checksum(ip, 20, 0) != 0 || inet_checksum(ip + 20, l4len, pseudo) != 0)
			return 0;
		return n;
	}
	return 0;
}

static int listener(uint16_t *port, int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(LO) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 512) < 0) || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int i;

	for (i = 0; i <= ms / 10; i++) {
		if (poll(&p, 1, 0) == 1)
			return 1;
		evloop_run_once(&loop, 10);
	}
	return 0;
}

static void teardown(void);

static const char *setup_with(const struct net_user_conf *extra)
{
	struct net_user_conf c = { .net = NET, .prefix = 24, .host_loopback = true, .resolv_conf = "/nonexistent" };

	/* A case that failed half-way left its backend open. */
	if (be)
		teardown();
	if (extra)
		c = *extra;
	memcpy(c.guest_mac, guest_mac, 6);
	md = metadata_create();
	c.md = md;
	CHECK(md);
	CHECK_INT(metadata_set(md, "name", "web", 3), 0);
	CHECK_INT(evloop_init(&loop), 0);
	CHECK_INT(net_user_open(&c, &loop, &be), 0);
	return NULL;
}

static const char *setup(void)
{
	return setup_with(NULL);
}

static void teardown(void)
{
	if (!be)
		return;
	be->ops->destroy(be);
	be = NULL;
	evloop_destroy(&loop);
	metadata_destroy(md);
}

static const char *test_arp_and_ping(void)
{
	uint8_t f[1600], r[1600];
	const char *err = setup();
	size_t n;

	if (err)
		return err;
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	be_put16(f + 12, 0x0806);
	be_put16(f + 14, 1);
	be_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	be_put16(f + 20, 1);
	memcpy(f + 22, guest_mac, 6);
	be_put32(f + 28, GUEST);
	memset(f + 32, 0, 6);
	be_put32(f + 38, GW);
	CHECK_INT(send_frame(f, 42), 0);
	/* lwIP announces itself (a gratuitous ARP) when its interface comes up. */
	do
		n = next_frame(r, sizeof(r), 100);
	while (n && be_get16(r + 20) != 2);
	CHECK(n >= 42);
	CHECK_INT(be_get16(r + 12), 0x0806);
	CHECK_INT(be_get16(r + 20), 2);
	CHECK(!memcmp(r + 22, gw_mac, 6));
	/* The DNS address, which lwIP does not own, is answered too. */
	be_put32(f + 38, NET + 3);
	CHECK_INT(send_frame(f, 42), 0);
	n = next_frame(r, sizeof(r), 100);
	CHECK(n >= 42);
	CHECK_INT(be_get32(r + 28), NET + 3);

	n = build(f, NAT_PROTO_ICMP, GUEST, 0, GW, 0, 0, 0, 0, "pingdata", 8);
	CHECK_INT(send_frame(f, n), 0);
	do
		n = next_frame(r, sizeof(r), 100);
	while (n && r[23] != NAT_PROTO_ICMP);
	CHECK(n >= 42);
	CHECK_INT(r[14 + 9], NAT_PROTO_ICMP);
	CHECK_INT(r[34], 0);		/* echo reply */
	CHECK_INT(be_get32(r + 14 + 12), GW);
	CHECK(!memcmp(r + 42, "pingdata", 8));
	teardown();
	return NULL;
}

static const char *test_tcp_nat(void)
{
	uint8_t f[1600], r[1600];
	char buf[64];
	uint16_t port;
	uint32_t seq = 1000, peer_seq;
	int lfd, cfd;
	const char *err = setup();
	size_t n;

	if (err)
		return err;
	lfd = listener(&port, SOCK_STREAM);
	CHECK(lfd >= 0);
	n = build(f, NAT_PROTO_TCP, GUEST, 40000, LO, port, seq, 0, NAT_TCP_SYN, NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	n = next_tcp(r, sizeof(r), 1000);
	CHECK(n);
	/* The SYN-ACK comes from the address the guest asked for, to the guest's own port. */
	CHECK_INT(r[47], NAT_TCP_SYN | NAT_TCP_ACK);
	CHECK_INT(be_get32(r + 26), LO);
	CHECK_INT(be_get16(r + 34), port);
	CHECK_INT(be_get32(r + 30), GUEST);
	CHECK_INT(be_get16(r + 36), 40000);
	CHECK_INT(be_get32(r + 42), seq + 1);
	peer_seq = be_get32(r + 38) + 1;
	seq++;
	n = build(f, NAT_PROTO_TCP, GUEST, 40000, LO, port, seq, peer_seq, NAT_TCP_ACK, NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	CHECK(wait_readable(lfd, 1000));
	cfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);

	n = build(f, NAT_PROTO_TCP, GUEST, 40000, LO, port, seq, peer_seq, NAT_TCP_ACK | 0x08, "hello host", 10);
	CHECK_INT(send_frame(f, n), 0);
	seq += 10;
	CHECK(wait_readable(cfd, 1000));
	CHECK_INT(read(cfd, buf, sizeof(buf)), 10);
	CHECK(!memcmp(buf, "hello host", 10));

	CHECK_INT(write(cfd, "hello guest", 11), 11);
	for (;;) {
		n = next_tcp(r, sizeof(r), 1000);
		CHECK(n);
		if (be_get16(r + 16) - 40 > 0)
			break;
	}
	CHECK_INT(be_get16(r + 16) - 40, 11);
	CHECK(!memcmp(r + 54, "hello guest", 11));
	CHECK_INT(be_get32(r + 26), LO);
	CHECK_INT(be_get32(r + 38), peer_seq);

	/* The host closes: a FIN reaches the guest. */
	close(cfd);
	for (;;) {
		n = next_tcp(r, sizeof(r), 1000);
		CHECK(n);
		if (r[47] & NAT_TCP_FIN)
			break;
	}
	/*
	 * The guest closes too: lwIP's pcb goes to TIME_WAIT and is freed by its timer without telling anyone, so
	 * the relay must have let go of it by then. Teardown after that would free it a second time (ASan).
	 */
	n = build(f, NAT_PROTO_TCP, GUEST, 40000, LO, port, seq, be_get32(r + 38) + 1, NAT_TCP_FIN | NAT_TCP_ACK,
		  NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	for (int i = 0; i < 14; i++)
		evloop_run_once(&loop, 250);
	while (next_frame(r, sizeof(r), 0))
		;
	close(lfd);
	teardown();
	return NULL;
}

static const char *test_tcp_refused(void)
{
	uint8_t f[1600], r[1600];
	uint16_t port;
	int lfd;
	const char *err = setup();
	size_t n;

	if (err)
		return err;
	lfd = listener(&port, SOCK_STREAM);
	CHECK(lfd >= 0);
	close(lfd);		/* nobody listens on port now */
	n = build(f, NAT_PROTO_TCP, GUEST, 40001, LO, port, 5, 0, NAT_TCP_SYN, NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	n = next_tcp(r, sizeof(r), 1000);
	CHECK(n);
	CHECK(r[47] & NAT_TCP_RST);
	CHECK_INT(be_get32(r + 26), LO);
	CHECK_INT(be_get32(r + 42), 6);
	/* Link-local addresses never leave the VMM. */
	n = build(f, NAT_PROTO_TCP, GUEST, 40002, 0xa9fe0001, 80, 5, 0, NAT_TCP_SYN, NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	n = next_tcp(r, sizeof(r), 200);
	CHECK(n);
	CHECK(r[47] & NAT_TCP_RST);
	teardown();
	return NULL;
}

static const char *test_udp_nat(void)
{
	uint8_t f[1600], r[1600];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	char buf[64];
	uint16_t port;
	int fd;
	const char *err = setup();
	ssize_t k;
	size_t n;

	if (err)
		return err;
	fd = listener(&port, SOCK_DGRAM);
	CHECK(fd >= 0);
	n = build(f, NAT_PROTO_UDP, GUEST, 5353, LO, port, 0, 0, 0, "ping", 4);
	CHECK_INT(send_frame(f, n), 0);
	CHECK(wait_readable(fd, 1000));
	k = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	CHECK_INT(k, 4);
	CHECK(!memcmp(buf, "ping", 4));
	CHECK_INT(sendto(fd, "pong!", 5, 0, (struct sockaddr *)&from, flen), 5);
	for (;;) {
		n = next_frame(r, sizeof(r), 1000);
		CHECK(n);
		if (be_get16(r + 12) == 0x0800 && r[23] == NAT_PROTO_UDP)
			break;
	}
	CHECK_INT(be_get32(r + 26), LO);
	CHECK_INT(be_get16(r + 34), port);
	CHECK_INT(be_get32(r + 30), GUEST);
	CHECK_INT(be_get16(r + 36), 5353);
	CHECK_INT(be_get16(r + 38), 13);
	CHECK(!memcmp(r + 42, "pong!", 5));
	{
		uint32_t pseudo = inet_pseudo_sum(LO, GUEST, 17, 13);

		CHECK_INT(inet_checksum(r + 34, 13, pseudo), 0);
	}
	close(fd);
	teardown();
	return NULL;
}

static const char *test_forward(void)
{
	struct net_user_conf c = { .net = NET, .prefix = 24, .nforwards = 1, .resolv_conf = "/nonexistent" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(LO) };
	uint8_t r[1600];
	uint16_t port;
	const char *err;
	int fd, cfd;
	size_t n;

	/* A free port: bind one, note it, let it go. */
	fd = listener(&port, SOCK_STREAM);
	CHECK(fd >= 0);
	close(fd);
	c.forwards[0].host_port = port;
	c.forwards[0].guest_port = 80;
	err = setup_with(&c);
	if (err)
		return err;
	sa.sin_port = htons(port);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(cfd >= 0);
	CHECK_INT(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = next_tcp(r, sizeof(r), 1000);
	CHECK(n);
	CHECK_INT(r[47], NAT_TCP_SYN);
	CHECK_INT(be_get32(r + 26), GW);
	CHECK_INT(be_get32(r + 30), GUEST);
	CHECK_INT(be_get16(r + 36), 80);
	close(cfd);
	teardown();
	return NULL;
}

static void open_busy_port(void)
{
	struct net_user_conf c = { .net = NET, .prefix = 24, .nforwards = 1, .resolv_conf = "/nonexistent" };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct evloop l;
	struct net_backend *b = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	listen(fd, 1);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	c.forwards[0].host_port = ntohs(sa.sin_port);
	c.forwards[0].guest_port = 22;
	evloop_init(&l);
	if (net_user_open(&c, &l, &b) == 0)
		b->ops->destroy(b);
	evloop_destroy(&l);
	close(fd);
}

static const char *test_forward_busy(void)
{
	char text[256];

	CHECK_INT(check_stderr(open_busy_port, text, sizeof(text)), 1);
	CHECK(strstr(text, "cannot listen on port"));
	return NULL;
}

static const char *test_flow_limit(void)
{
	uint8_t f[1600], r[1600];
	unsigned int i, synack = 0, rst = 0;
	uint16_t port;
	int lfd;
	const char *err = setup();
	size_t n;

	if (err)
		return err;
	lfd = listener(&port, SOCK_STREAM);
	CHECK(lfd >= 0);
	for (i = 0; i < 300; i++) {
		n = build(f, NAT_PROTO_TCP, GUEST, (uint16_t)(20000 + i), LO, port, 7, 0, NAT_TCP_SYN, NULL, 0);
		CHECK_INT(send_frame(f, n), 0);
		/* Drain as we go: the queue to the guest is bounded. */
		while ((n = next_tcp(r, sizeof(r), 0))) {
			if (r[47] & NAT_TCP_RST)
				rst++;
			else if (r[47] == (NAT_TCP_SYN | NAT_TCP_ACK))
				synack++;
		}
	}
	while ((n = next_tcp(r, sizeof(r), 500))) {
		if (r[47] & NAT_TCP_RST)
			rst++;
		else if (r[47] == (NAT_TCP_SYN | NAT_TCP_ACK))
			synack++;
	}
	CHECK(synack <= 256);
	CHECK(synack >= 200);
	CHECK(rst >= 300 - 256);
	close(lfd);
	teardown();
	return NULL;
}

static const char *test_malformed(void)
{
	uint8_t f[1600], r[1600];
	unsigned int i, j;
	const char *err = setup();
	size_t n;

	if (err)
		return err;
	CHECK(send_frame(f, 5) < 0);
	memset(f, 0xee, sizeof(f));
	CHECK(send_frame(f, sizeof(f)) < 0);
	srand(1);
	for (i = 0; i < 2000; i++) {
		uint8_t proto = i % 3 == 0 ? NAT_PROTO_TCP : i % 3 == 1 ? NAT_PROTO_UDP : NAT_PROTO_ICMP;

		n = build(f, proto, GUEST, 1000, i % 2 ? GW : LO, 80, 1, 0, NAT_TCP_SYN, "xxxxxxxx", 8);
		for (j = 0; j < 3; j++)
			f[14 + (size_t)rand() % (n - 14)] = (uint8_t)rand();
		if (i % 7 == 0)
			f[14 + 6] |= 0x20;		/* a fragment */
		send_frame(f, i % 5 == 0 ? 14 + (size_t)rand() % (n - 14) : n);
		while (next_frame(r, sizeof(r), 0))
			;
	}
	/* Still alive: a ping is answered. */
	n = build(f, NAT_PROTO_ICMP, GUEST, 0, GW, 0, 0, 0, 0, "ok", 2);
	CHECK_INT(send_frame(f, n), 0);
	for (;;) {
		n = next_frame(r, sizeof(r), 200);
		CHECK(n);
		if (r[23] == NAT_PROTO_ICMP)
			break;
	}
	teardown();
	return NULL;
}

/*
 * What the image test's hostile guest does (initramfs/netstress.c): 512 connections at once to a server that
 * holds them, each reset by the guest once established, with the host side accepted and closed meanwhile; then
 * malformed frames to the gateway. The backend must stay sound throughout (ASan watches) and still relay.
 */
static const char *test_storm(void)
{
	uint8_t f[1600], r[1600];
	static uint32_t peer[512];
	unsigned int i, established = 0;
	uint16_t port;
	int lfd, cfd;
	const char *err = setup();
	size_t n;

	if (err)
		return err;
	lfd = listener(&port, SOCK_STREAM);
	CHECK(lfd >= 0);
	CHECK_INT(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	for (i = 0; i < 512; i++) {
		n = build(f, NAT_PROTO_TCP, GUEST, (uint16_t)(30000 + i), LO, port, 7, 0, NAT_TCP_SYN, NULL, 0);
		send_frame(f, n);
		evloop_run_once(&loop, 0);
	}
	/* Complete every handshake that is offered, and let the host accept and drop some meanwhile. */
	while ((n = next_tcp(r, sizeof(r), 300))) {
		uint16_t gport = be_get16(r + 36);

		if (r[47] == (NAT_TCP_SYN | NAT_TCP_ACK) && gport >= 30000 && gport < 30512) {
			peer[gport - 30000] = be_get32(r + 38) + 1;
			n = build(f, NAT_PROTO_TCP, GUEST, gport, LO, port, 8, peer[gport - 30000], NAT_TCP_ACK, NULL, 0);
			send_frame(f, n);
			established++;
		}
		if (established % 7 == 0 && (cfd = accept(lfd, NULL, NULL)) >= 0)
			close(cfd);
	}
	CHECK(established > 0);
	for (i = 0; i < 512; i++) {
		if (!peer[i])
			continue;
		n = build(f, NAT_PROTO_TCP, GUEST, (uint16_t)(30000 + i), LO, port, 8, peer[i], NAT_TCP_RST | NAT_TCP_ACK,
			  NULL, 0);
		send_frame(f, n);
		if (i % 16 == 0)
			while (next_frame(r, sizeof(r), 0))
				;
	}
	while ((cfd = accept(lfd, NULL, NULL)) >= 0)
		close(cfd);
	for (i = 0; i < 20000; i++) {
		n = build(f, i % 2 ? NAT_PROTO_TCP : NAT_PROTO_UDP, GUEST, (uint16_t)(1000 + i), GW, (uint16_t)i, 1, 0,
			  NAT_TCP_SYN, "xxxxxxxx", 8);
		memset(f, 0xff, 6);
		switch (i % 5) {
		case 0: f[14 + 2] = 0x05; break;			/* total length beyond the frame */
		case 1: f[14] = 0x4f; break;				/* header length 60 */
		case 2: f[14 + 6] = 0x20; break;			/* a fragment */
		case 3: f[14 + 20 + 12] = 0xf0; break;		/* TCP header past the end */
		default: f[14 + 20 + 4] = 0xff; break;		/* UDP length lies */
		}
		send_frame(f, n);
		while (next_frame(r, sizeof(r), 0))
			;
	}
	/* Time passes: lingering flows expire, lwIP's timers run. */
	for (i = 0; i < 40; i++)
		evloop_run_once(&loop, 250);
	/* Still relaying: a new connection gets its SYN-ACK. */
	n = build(f, NAT_PROTO_TCP, GUEST, 45000, LO, port, 7, 0, NAT_TCP_SYN, NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	for (;;) {
		n = next_tcp(r, sizeof(r), 1000);
		CHECK(n);
		if (be_get16(r + 36) == 45000 && r[47] == (NAT_TCP_SYN | NAT_TCP_ACK))
			break;
	}
	close(lfd);
	teardown();
	return NULL;
}

static const char *test_dhcp(void)
{
	uint8_t f[600] = { 0 }, r[1600];
	static const uint8_t zero[300];
	uint8_t *bootp = f + 42;
	const char *err = setup();
	size_t n;
	if (err)
		return err;
	n = build(f, NAT_PROTO_UDP, 0, 68, 0xffffffffu, 67, 0, 0, 0, zero, sizeof(zero));
	memset(f, 0xff, 6);
	bootp[0] = 1;
	bootp[1] = 1;
	bootp[2] = 6;
	be_put32(bootp + 4, 0x11223344);
	memcpy(bootp + 28, guest_mac, 6);
	be_put32(bootp + 236, 0x63825363);
	bootp[240] = 53;
	bootp[241] = 1;
	bootp[242] = 1;		/* DISCOVER */
	bootp[243] = 255;
	be_put16(f + 14 + 10, 0);
	be_put16(f + 14 + 10, inet_checksum(f + 14, 20, 0));
	be_put16(f + 40, 0);	/* no UDP checksum */
	CHECK_INT(send_frame(f, n), 0);
	do
		n = next_frame(r, sizeof(r), 100);
	while (n && (be_get16(r + 12) != 0x0800 || r[23] != NAT_PROTO_UDP));
	CHECK(n > 42 + 240);
	CHECK_INT(be_get16(r + 36), 68);
	CHECK_INT(be_get32(r + 42 + 16), GUEST);		/* yiaddr */
	teardown();
	return NULL;
}

static const char *test_metadata(void)
{
	static const char req[] = "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
				  "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n";
	uint8_t f[1600], r[1600];
	uint32_t seq = 1, peer_seq;
	const char *err = setup();
	size_t n;

	if (err)
		return err;
	n = build(f, NAT_PROTO_TCP, GUEST, 41000, 0xa9fea9fe, 80, seq, 0, NAT_TCP_SYN, NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	n = next_tcp(r, sizeof(r), 200);
	CHECK(n);
	CHECK_INT(r[47], NAT_TCP_SYN | NAT_TCP_ACK);
	CHECK_INT(be_get32(r + 26), 0xa9fea9fe);
	peer_seq = be_get32(r + 38) + 1;
	seq++;
	n = build(f, NAT_PROTO_TCP, GUEST, 41000, 0xa9fea9fe, 80, seq, peer_seq, NAT_TCP_ACK, NULL, 0);
	CHECK_INT(send_frame(f, n), 0);
	n = build(f, NAT_PROTO_TCP, GUEST, 41000, 0xa9fea9fe, 80, seq, peer_seq, NAT_TCP_ACK | 0x08, req,
		  sizeof(req) - 1);
	CHECK_INT(send_frame(f, n), 0);
	for (;;) {
		n = next_tcp(r, sizeof(r), 500);
		CHECK(n);
		if (be_get16(r + 16) > 40)
			break;
	}
	CHECK(!memcmp(r + 54, "HTTP/1.1 200", 12));
	teardown();
	return NULL;
}

/*
 * What the user network drops is counted or refused: a frame it does not serve (IPv6) fails the send, so virtio-net
 * counts it; frames for a guest that takes none overflow its queue and count as receive drops.
 */
static const char *test_drops(void)
{
	static struct stats_net st;
	uint8_t f[1600], r[1600];
	const char *err = setup();
	unsigned int i, got = 0;

	if (err)
		return err;
	be->stats = &st;
	memset(f, 0, sizeof(f));
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	be_put16(f + 12, 0x86dd);
	f[14] = 0x60;
	CHECK_INT(send_frame(f, 54), -EPROTONOSUPPORT);
	/* ARP requests for the DNS address: each answered into the guest's queue, which nobody empties. */
	memset(f, 0xff, 6);
	be_put16(f + 12, 0x0806);
	be_put16(f + 14, 1);
	be_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	be_put16(f + 20, 1);
	memcpy(f + 22, guest_mac, 6);
	be_put32(f + 28, GUEST);
	be_put32(f + 38, NET + 3);
	for (i = 0; i < 600; i++)
		CHECK_INT(send_frame(f, 42), 0);
	CHECK(st.rx_dropped >= 600 - 512);
	while (next_frame(r, sizeof(r), 0))
		got++;
	CHECK_INT(got, 512);
	teardown();
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "net-user-arp-and-ping", test_arp_and_ping },
		{ "net-user-tcp-nat", test_tcp_nat },
		{ "net-user-tcp-refused", test_tcp_refused },
		{ "net-user-udp-nat", test_udp_nat },
		{ "net-user-forward", test_forward },
		{ "net-user-forward-busy-port", test_forward_busy },
		{ "net-user-flow-limit", test_flow_limit },
		{ "net-user-malformed", test_malformed },
		{ "net-user-drops", test_drops },
		{ "net-user-storm", test_storm },
		{ "net-user-dhcp", test_dhcp },
		{ "net-user-metadata", test_metadata },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
