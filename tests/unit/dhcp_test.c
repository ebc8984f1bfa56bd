/* unit-sources: vmm/net/dhcp.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/be.h"
#include "net/checksum.h"
#include "net/dhcp.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const uint8_t server_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct dhcp_server_conf conf(void)
{
	struct dhcp_server_conf c = {
		.server_ip = IP(10, 0, 2, 2),
		.guest_ip = IP(10, 0, 2, 15),
		.netmask = IP(255, 255, 255, 0),
		.router = IP(10, 0, 2, 2),
		.dns = IP(10, 0, 2, 3),
		.lease_seconds = 86400,
		.hostname = "web",
	};

	memcpy(c.server_mac, server_mac, 6);
	memcpy(c.guest_mac, guest_mac, 6);
	return c;
}

/* How a test request differs from a plain DHCPDISCOVER broadcast by the guest. */
struct req {
	const uint8_t *eth_src, *eth_dst, *chaddr;
	uint32_t ip_dst, ciaddr;
	uint16_t flags, frag;
	size_t ip_opts;			/* bytes of IPv4 options (a multiple of 4) */
	const uint8_t *opts;		/* DHCP options after the cookie, up to and including 255 */
	size_t opts_len;
};

static const uint8_t discover_opts[] = { 53, 1, 1, 55, 4, 1, 3, 6, 12, 255 };

/* Builds a request frame the way a client does (checksums correct) into f; returns its length. */
static size_t build(uint8_t *f, const struct req *r)
{
	const uint8_t *opts = r->opts ? r->opts : discover_opts;
	size_t opts_len = r->opts ? r->opts_len : sizeof(discover_opts);
	size_t ihl = 20 + r->ip_opts, blen = 240 + opts_len, total = ihl + 8 + blen;
	uint8_t *ip = f + 14, *udp = ip + ihl, *b = udp + 8;

	memset(f, 0, 14 + total);
	memcpy(f, r->eth_dst ? r->eth_dst : bcast_mac, 6);
	memcpy(f + 6, r->eth_src ? r->eth_src : guest_mac, 6);
	be_put16(f + 12, 0x0800);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	be_put16(ip + 2, (uint16_t)total);
	be_put16(ip + 6, r->frag);
	ip[8] = 64;
	ip[9] = 17;
	be_put32(ip + 16, r->ip_dst ? r->ip_dst : 0xffffffff);
	if (r->ip_opts) {
		ip[20] = 0x94;		/* router alert, as some stacks add */
		ip[21] = 4;
	}
	be_put16(ip + 10, inet_checksum(ip, ihl, 0));
	be_put16(udp, 68);
	be_put16(udp + 2, 67);
	be_put16(udp + 4, (uint16_t)(8 + blen));
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	be_put32(b + 4, 0x12345678);
	be_put16(b + 10, r->flags);
	be_put32(b + 12, r->ciaddr);
	memcpy(b + 28, r->chaddr ? r->chaddr : guest_mac, 6);
	memcpy(b + 236, "\x63\x82\x53\x63", 4);
	memcpy(b + 240, opts, opts_len);
	return 14 + total;
}

/* Runs the server on a heap copy of exactly len bytes, so ASan sees any read past the end. */
static size_t input(const struct dhcp_server_conf *c, const uint8_t *frame, size_t len, uint8_t *out, size_t cap)
{
	uint8_t *copy = malloc(len ? len : 1);
	size_t n;

	memcpy(copy, frame, len);
	n = dhcp_server_input(c, copy, len, out, cap);
	free(copy);
	return n;
}

/*
 * Checks what every reply shares: addressing, checksums, BOOTP header. Returns NULL or a failure; sets *opts to
 * the options.
 */
static const char *check_reply(const uint8_t *o, size_t n, uint32_t ip_dst, uint32_t ciaddr, uint32_t yiaddr,
			       uint16_t flags, const uint8_t **opts)
{
	const uint8_t *ip = o + 14, *udp = ip + 20, *b = udp + 8;
	uint32_t pseudo;

	CHECK_INT(n, 14 + 20 + 8 + 300);
	CHECK(!memcmp(o, guest_mac, 6));
	CHECK(!memcmp(o + 6, server_mac, 6));
	CHECK_INT(be_get16(o + 12), 0x0800);
	CHECK_INT(ip[0], 0x45);
	CHECK_INT(be_get16(ip + 2), n - 14);
	CHECK_INT(be_get16(ip + 6) & 0x3fff, 0);
	CHECK_INT(ip[9], 17);
	CHECK_INT(inet_checksum(ip, 20, 0), 0);
	CHECK_INT(be_get32(ip + 12), IP(10, 0, 2, 2));
	CHECK_INT(be_get32(ip + 16), ip_dst);
	CHECK_INT(be_get16(udp), 67);
	CHECK_INT(be_get16(udp + 2), 68);
	CHECK_INT(be_get16(udp + 4), n - 14 - 20);
	CHECK(be_get16(udp + 6) != 0);
	pseudo = inet_pseudo_sum(be_get32(ip + 12), be_get32(ip + 16), 17, be_get16(udp + 4));
	CHECK_INT(inet_checksum(udp, be_get16(udp + 4), pseudo), 0);
	CHECK_INT(b[0], 2);
	CHECK_INT(b[1], 1);
	CHECK_INT(b[2], 6);
	CHECK_INT(be_get32(b + 4), 0x12345678);
	CHECK_INT(be_get16(b + 10), flags);
	CHECK_INT(be_get32(b + 12), ciaddr);
	CHECK_INT(be_get32(b + 16), yiaddr);
	CHECK_INT(be_get32(b + 24), 0);
	CHECK(!memcmp(b + 28, guest_mac, 6));
	CHECK(!memcmp(b + 236, "\x63\x82\x53\x63", 4));
	*opts = b + 240;
	return NULL;
}

/* Checks the options are exactly want, then zero padding to the end of the 300-byte BOOTP message. */
static const char *check_options(const uint8_t *opts, const uint8_t *want, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (opts[i] != want[i])
			return check_fail(__FILE__, __LINE__, "option byte %zu is %u, expected %u", i, opts[i],
					  want[i]);
	for (; i < 60; i++)
		CHECK_INT(opts[i], 0);
	return NULL;
}

#define CHECK_OK(call)						\
	do {							\
		const char *f_ = (call);			\
		if (f_)						\
			return f_;				\
	} while (0)

static const uint8_t offer_opts[] = {
	53, 1, 2, 54, 4, 10, 0, 2, 2, 51, 4, 0, 1, 0x51, 0x80, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2,
	6, 4, 10, 0, 2, 3, 12, 3, 'w', 'e', 'b', 28, 4, 10, 0, 2, 255, 255,
};

static const char *test_discover_offer(void)
{
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	const uint8_t *opts;
	size_t len = build(f, &(struct req){ 0 }), n;

	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, IP(10, 0, 2, 15), 0, &opts));
	CHECK_OK(check_options(opts, offer_opts, sizeof(offer_opts)));
	return NULL;
}

static const char *test_request_ack(void)
{
	static const uint8_t req_opts[] = { 53, 1, 3, 50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2, 255 };
	static const uint8_t ack_opts[] = {
		53, 1, 5, 54, 4, 10, 0, 2, 2, 51, 4, 0, 1, 0x51, 0x80, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2,
		6, 4, 10, 0, 2, 3, 12, 3, 'w', 'e', 'b', 28, 4, 10, 0, 2, 255, 255,
	};
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	const uint8_t *opts;
	size_t len, n;

	/* SELECTING: server id and requested address, broadcast flag set. */
	len = build(f, &(struct req){ .opts = req_opts, .opts_len = sizeof(req_opts), .flags = 0x8000 });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, IP(10, 0, 2, 15), 0x8000, &opts));
	CHECK_OK(check_options(opts, ack_opts, sizeof(ack_opts)));

	/* INIT-REBOOT: the requested address alone. */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x03\x32\x04\x0a\x00\x02\x0f\xff",
				      .opts_len = 10 });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, IP(10, 0, 2, 15), 0, &opts));
	CHECK_INT(opts[2], 5);

	/* RENEWING: unicast to the server from the leased address, answered by unicast with ciaddr echoed. */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x03\xff", .opts_len = 4,
				      .eth_dst = server_mac, .ip_dst = IP(10, 0, 2, 2), .ciaddr = IP(10, 0, 2, 15) });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, IP(10, 0, 2, 15), IP(10, 0, 2, 15), IP(10, 0, 2, 15), 0, &opts));
	CHECK_OK(check_options(opts, ack_opts, sizeof(ack_opts)));

	/* REBINDING with the broadcast flag: broadcast at layer 3 although ciaddr is known. */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x03\xff", .opts_len = 4,
				      .ciaddr = IP(10, 0, 2, 15), .flags = 0x8000 });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, IP(10, 0, 2, 15), IP(10, 0, 2, 15), 0x8000, &opts));
	return NULL;
}

static const char *test_request_nak(void)
{
	static const uint8_t nak_opts[] = { 53, 1, 6, 54, 4, 10, 0, 2, 2, 255 };
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	const uint8_t *opts;
	size_t len, n;

	/* Another address in option 50 (a guest moved from another network keeps asking for its old lease). */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x03\x32\x04\xc0\xa8\x01\x07\xff",
				      .opts_len = 10 });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, 0, 0, &opts));
	CHECK_OK(check_options(opts, nak_opts, sizeof(nak_opts)));

	/* Another address in ciaddr: NAK, broadcast even though ciaddr is set. */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x03\xff", .opts_len = 4,
				      .eth_dst = server_mac, .ip_dst = IP(10, 0, 2, 2), .ciaddr = IP(10, 0, 2, 99) });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, 0, 0, &opts));
	CHECK_OK(check_options(opts, nak_opts, sizeof(nak_opts)));

	/* Neither: nothing the client could hold, so NAK too. */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x03\xff", .opts_len = 4 });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, 0, 0, &opts));
	CHECK_INT(opts[2], 6);

	/* A REQUEST selecting another server's offer is not ours to answer, even for our address. */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x03\x32\x04\x0a\x00\x02\x0f"
								 "\x36\x04\x0a\x00\x02\x09\xff", .opts_len = 16 });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	return NULL;
}

static const char *test_inform_release_decline(void)
{
	static const uint8_t inform_ack[] = {
		53, 1, 5, 54, 4, 10, 0, 2, 2, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2,
		6, 4, 10, 0, 2, 3, 12, 3, 'w', 'e', 'b', 28, 4, 10, 0, 2, 255, 255,
	};
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	const uint8_t *opts;
	size_t len, n;

	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x08\xff", .opts_len = 4,
				      .eth_dst = server_mac, .ip_dst = IP(10, 0, 2, 2), .ciaddr = IP(10, 0, 2, 15) });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, IP(10, 0, 2, 15), IP(10, 0, 2, 15), 0, 0, &opts));
	CHECK_OK(check_options(opts, inform_ack, sizeof(inform_ack)));

	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x07\xff", .opts_len = 4,
				      .ciaddr = IP(10, 0, 2, 15) });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x04\x32\x04\x0a\x00\x02\x0f\xff",
				      .opts_len = 10 });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	/* An OFFER or ACK from the guest (a rogue server in it) is not a request. */
	len = build(f, &(struct req){ .opts = (const uint8_t *)"\x35\x01\x02\xff", .opts_len = 4 });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	return NULL;
}

static const char *test_minimal_conf(void)
{
	static const uint8_t want[] = {
		53, 1, 2, 54, 4, 10, 0, 2, 2, 51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 255, 0,
		28, 4, 10, 0, 2, 255, 255,
	};
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	const uint8_t *opts;
	size_t len = build(f, &(struct req){ 0 }), n;

	c.router = 0;
	c.dns = 0;
	c.hostname[0] = '\0';
	c.lease_seconds = 3600;
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, IP(10, 0, 2, 15), 0, &opts));
	CHECK_OK(check_options(opts, want, sizeof(want)));
	return NULL;
}

static const char *test_longest_reply(void)
{
	struct dhcp_server_conf c = conf();
	uint8_t f[600], *o;
	size_t len = build(f, &(struct req){ 0 }), n, need;

	/* All 64 bytes of the name used, no NUL: the option carries 64 bytes, the reply still fits the bound. */
	memset(c.hostname, 'h', sizeof(c.hostname));
	o = malloc(DHCP_REPLY_MAX);
	n = input(&c, f, len, o, DHCP_REPLY_MAX);
	CHECK(n > 14 + 20 + 8 + 300);
	CHECK(n <= DHCP_REPLY_MAX);
	CHECK_INT(be_get16(o + 14 + 2), n - 14);
	CHECK_INT(o[42 + 240 + 33], 12);
	CHECK_INT(o[42 + 240 + 34], 64);
	CHECK_INT(o[42 + 240 + 35 + 63], 'h');
	CHECK_INT(o[42 + 240 + 35 + 64], 28);
	free(o);
	need = n;
	/* One byte short of the reply: nothing written past cap (ASan), and 0. */
	o = malloc(need - 1);
	CHECK_INT(input(&c, f, len, o, need - 1), 0);
	free(o);
	o = malloc(need);
	CHECK_INT(input(&c, f, len, o, need), need);
	free(o);
	return NULL;
}

static const char *test_other_mac(void)
{
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	size_t len;

	len = build(f, &(struct req){ .eth_src = other_mac, .chaddr = other_mac });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ .eth_src = other_mac });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ .chaddr = other_mac });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	/* To another station's MAC or IP: not for us. */
	len = build(f, &(struct req){ .eth_dst = other_mac });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ .ip_dst = IP(192, 168, 1, 1) });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	/* The subnet broadcast is ours. */
	len = build(f, &(struct req){ .ip_dst = IP(10, 0, 2, 255) });
	CHECK(input(&c, f, len, o, sizeof(o)) > 0);
	return NULL;
}

static const char *test_truncations(void)
{
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	size_t len = build(f, &(struct req){ 0 }), n;

	for (n = 0; n < len; n++)
		if (input(&c, f, n, o, sizeof(o)))
			return check_fail(__FILE__, __LINE__, "a DISCOVER cut to %zu of %zu bytes was answered", n,
					  len);
	CHECK(input(&c, f, len, o, sizeof(o)) > 0);
	/* Ethernet padding after the datagram is fine. */
	memset(f + len, 0, 20);
	CHECK(input(&c, f, len + 20, o, sizeof(o)) > 0);
	return NULL;
}

/* Recomputes the IP header checksum after a test changed a field, so only that field is wrong. */
static void refix_ip(uint8_t *f)
{
	uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 15) * 4;

	if (ihl < 20)
		ihl = 20;
	be_put16(ip + 10, 0);
	be_put16(ip + 10, inet_checksum(ip, ihl, 0));
}

static const char *test_ip_layer(void)
{
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	const uint8_t *opts;
	size_t len, n;

	/* IPv4 options are skipped. */
	len = build(f, &(struct req){ .ip_opts = 4 });
	n = input(&c, f, len, o, sizeof(o));
	CHECK_OK(check_reply(o, n, 0xffffffff, 0, IP(10, 0, 2, 15), 0, &opts));
	CHECK_OK(check_options(opts, offer_opts, sizeof(offer_opts)));
	len = build(f, &(struct req){ .ip_opts = 40 });
	CHECK(input(&c, f, len, o, sizeof(o)) > 0);

	/* Fragments: more-fragments set, or an offset; DF alone is fine. */
	len = build(f, &(struct req){ .frag = 0x2000 });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ .frag = 0x0001 });
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ .frag = 0x4000 });
	CHECK(input(&c, f, len, o, sizeof(o)) > 0);

	/* A bad header checksum. */
	len = build(f, &(struct req){ 0 });
	f[14 + 10] ^= 1;
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);

	/* Version, IHL, protocol, total length; each with a correct checksum. */
	len = build(f, &(struct req){ 0 });
	f[14] = 0x65;
	refix_ip(f);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	f[14] = 0x44;
	refix_ip(f);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	f[14] = 0x4f;		/* 60-byte header: the UDP header is not where it says */
	refix_ip(f);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	f[14 + 9] = 6;
	refix_ip(f);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	be_put16(f + 14 + 2, (uint16_t)(len - 14 + 1));
	refix_ip(f);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	be_put16(f + 14 + 2, 27);
	refix_ip(f);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);

	/* Not IPv4 at all. */
	len = build(f, &(struct req){ 0 });
	be_put16(f + 12, 0x86dd);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	be_put16(f + 12, 0x8100);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	return NULL;
}

static const char *test_udp_and_bootp(void)
{
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX], *udp = f + 14 + 20, *b = udp + 8;
	size_t len;

	len = build(f, &(struct req){ 0 });
	be_put16(udp + 2, 68);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	be_put16(udp + 4, (uint16_t)(len - 14 - 20 + 1));		/* longer than the IP payload */
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	be_put16(udp + 4, 7);
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	be_put16(udp + 4, 8 + 240);				/* cuts the options off */
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	/* A UDP checksum is not checked (offload may leave it partial). */
	len = build(f, &(struct req){ 0 });
	be_put16(udp + 6, 0xdead);
	CHECK(input(&c, f, len, o, sizeof(o)) > 0);

	len = build(f, &(struct req){ 0 });
	b[0] = 2;
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	b[1] = 6;
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	b[2] = 16;
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	b[236] = 0x64;
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	len = build(f, &(struct req){ 0 });
	be_put32(b + 24, IP(10, 0, 2, 1));				/* giaddr: no relay on this link */
	CHECK_INT(input(&c, f, len, o, sizeof(o)), 0);
	return NULL;
}

static const char *test_options(void)
{
	static const struct {
		const char *opts;
		size_t len;
		int answered;
	} cases[] = {
		{ "\x35\x01\x01\xff", 4, 1 },
		{ "\x00\x00\x35\x01\x01\x00\xff", 7, 1 },			/* pads */
		{ "\x35\x01\x01\xff\x37\xff", 6, 1 },				/* junk after the end */
		{ "\x35\x01\x01", 3, 0 },					/* no end */
		{ "\x35\x01\x01\x0c", 4, 0 },					/* no length byte */
		{ "\x35\x01\x01\x0c\x05" "abc", 8, 0 },				/* value past the end */
		{ "\x35\x01\x01\x0c\xff" "abc\xff", 9, 0 },			/* value far past the end */
		{ "\x35\x01\x01\x0c\x03" "abc", 8, 0 },				/* fits, but then no end */
		{ "\x35\x01\x01\x0c\x03" "abc\xff", 9, 1 },
		{ "\x0c\x03" "abc\xff", 6, 0 },					/* no type */
		{ "\x35\x02\x01\x01\xff", 5, 0 },				/* type of length 2 */
		{ "\x35\x00\xff", 3, 0 },
		{ "\x35\x01\x01\x35\x01\x03\xff", 7, 0 },			/* two types */
		{ "\x35\x01\x09\xff", 4, 0 },					/* unknown type */
		{ "\x35\x01\x03\x32\x03\x0a\x00\x02\xff", 9, 0 },		/* requested IP of length 3 */
		{ "\x35\x01\x03\x36\x05\x0a\x00\x02\x02\x00\xff", 11, 0 },	/* server id of length 5 */
		{ "\xff", 1, 0 },
	};
	struct dhcp_server_conf c = conf();
	uint8_t f[600], o[DHCP_REPLY_MAX];
	size_t len, n, i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = build(f, &(struct req){ .opts = (const uint8_t *)cases[i].opts, .opts_len = cases[i].len });
		n = input(&c, f, len, o, sizeof(o));
		if ((n > 0) != cases[i].answered)
			return check_fail(__FILE__, __LINE__, "options case %zu: returned %zu", i, n);
	}
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "dhcp-discover-offer", test_discover_offer },
		{ "dhcp-request-ack", test_request_ack },
		{ "dhcp-request-nak", test_request_nak },
		{ "dhcp-inform-release-decline", test_inform_release_decline },
		{ "dhcp-minimal-conf", test_minimal_conf },
		{ "dhcp-longest-reply", test_longest_reply },
		{ "dhcp-other-mac", test_other_mac },
		{ "dhcp-truncations", test_truncations },
		{ "dhcp-ip-layer", test_ip_layer },
		{ "dhcp-udp-and-bootp", test_udp_and_bootp },
		{ "dhcp-options", test_options },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
