/*
 * The user network's DHCP server (RFC 2131, options RFC 2132). The guest is on a point-to-point link with its own
 * VMM, so there is no pool, no relay and no lease table: every answer offers guest_ip. Frames come straight from a
 * hostile guest, so every length is checked against the one before it and anything unexpected is dropped
 * silently (returning 0 hands the frame to lwIP, which drops it too).
 *
 * What is accepted: Ethernet II (no VLAN tag) from guest_mac to the broadcast address or server_mac; IPv4 with a
 * correct header checksum, options skipped, not a fragment, to 255.255.255.255, the subnet broadcast or server_ip;
 * UDP to port 67 whose length fits the IP payload; BOOTREQUEST with htype 1, hlen 6, chaddr guest_mac, giaddr 0,
 * the magic cookie, options that each fit and end with option 255, exactly one option 53. Options in sname/file
 * (option 52) are not read: no client needs them for a message this small.
 *
 * The UDP checksum of requests is not verified: with virtio-net checksum offload a guest may hand over a frame
 * whose checksum is only partial, and the IP header checksum and the length checks already catch truncation.
 */
#include <string.h>

#include "lib/be.h"
#include "net/checksum.h"
#include "net/dhcp.h"

#define ETH_HLEN 14
#define IP_HLEN 20			/* ours; the guest's may carry options */
#define UDP_HLEN 8
#define BOOTP_FIXED 236			/* op .. file */
#define BOOTP_OPTIONS 240		/* after the magic cookie */
#define BOOTP_MIN 300			/* RFC 1542 2.1: some clients drop shorter BOOTP messages */

#define PORT_SERVER 67
#define PORT_CLIENT 68
#define FLAG_BROADCAST 0x8000

enum {
	DHCPDISCOVER = 1,
	DHCPOFFER,
	DHCPREQUEST,
	DHCPDECLINE,
	DHCPACK,
	DHCPNAK,
	DHCPRELEASE,
	DHCPINFORM,
};

enum {
	OPT_PAD = 0,
	OPT_NETMASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_HOSTNAME = 12,
	OPT_BROADCAST = 28,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE_TIME = 51,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_END = 255,
};

static const uint8_t magic_cookie[4] = { 99, 130, 83, 99 };
static const uint8_t eth_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* What the request's options say; has_* are set only for well-formed options seen exactly once. */
struct dhcp_request {
	int type;
	int has_requested, has_server_id;
	uint32_t requested, server_id;
};

/* Walks the options of a BOOTP message of blen bytes (at least BOOTP_OPTIONS). Returns 0, or -1 if malformed. */
static int parse_options(const uint8_t *b, size_t blen, struct dhcp_request *r)
{
	size_t i = BOOTP_OPTIONS, olen;
	int seen_type = 0, seen_requested = 0, seen_server_id = 0;
	uint8_t code;

	while (i < blen) {
		code = b[i];
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END) {
			if (seen_type != 1)
				return -1;
			r->has_requested = seen_requested == 1;
			r->has_server_id = seen_server_id == 1;
			return 0;
		}
		if (blen - i < 2)
			return -1;
		olen = b[i + 1];
		if (blen - i - 2 < olen)
			return -1;
		/* A repeated option would be concatenated (RFC 3396); for these that only means a confused client. */
		switch (code) {
		case OPT_MSG_TYPE:
			if (olen != 1 || seen_type++)
				return -1;
			r->type = b[i + 2];
			break;
		case OPT_REQUESTED_IP:
			if (olen != 4 || seen_requested++)
				return -1;
			r->requested = be_get32(b + i + 2);
			break;
		case OPT_SERVER_ID:
			if (olen != 4 || seen_server_id++)
				return -1;
			r->server_id = be_get32(b + i + 2);
			break;
		}
		i += 2 + olen;
	}
	return -1;			/* no end option: truncated */
}

/*
 * Finds the BOOTP message in frame and checks everything up to and including its options. Returns its length and
 * sets *bootp, or returns 0.
 */
static size_t parse_frame(const struct dhcp_server_conf *c, const uint8_t *frame, size_t len,
			  const uint8_t **bootp, struct dhcp_request *r)
{
	const uint8_t *ip, *udp, *b;
	size_t ihl, total, udp_len, blen;
	uint32_t dst, subnet_broadcast = (c->guest_ip & c->netmask) | ~c->netmask;

	if (len < ETH_HLEN + IP_HLEN || be_get16(frame + 12) != 0x0800)
		return 0;
	if (memcmp(frame + 6, c->guest_mac, 6))
		return 0;
	if (memcmp(frame, eth_broadcast, 6) && memcmp(frame, c->server_mac, 6))
		return 0;

	ip = frame + ETH_HLEN;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = be_get16(ip + 2);
	/* The frame may be longer than the datagram (Ethernet padding), never shorter. */
	if (ip[0] >> 4 != 4 || ihl < IP_HLEN || total < ihl + UDP_HLEN || total > len - ETH_HLEN)
		return 0;
	if (inet_checksum(ip, ihl, 0) != 0)
		return 0;
	/* More fragments, or an offset: lwIP reassembles if it wants to, DHCP never needs to. */
	if (be_get16(ip + 6) & 0x3fff)
		return 0;
	if (ip[9] != 17)
		return 0;
	dst = be_get32(ip + 16);
	if (dst != 0xffffffff && dst != c->server_ip && dst != subnet_broadcast)
		return 0;

	udp = ip + ihl;
	udp_len = be_get16(udp + 4);
	if (be_get16(udp + 2) != PORT_SERVER || udp_len < UDP_HLEN || udp_len > total - ihl)
		return 0;

	b = udp + UDP_HLEN;
	blen = udp_len - UDP_HLEN;
	if (blen <= BOOTP_OPTIONS)
		return 0;
	if (b[0] != 1 || b[1] != 1 || b[2] != 6 || be_get32(b + 24) != 0)
		return 0;
	if (memcmp(b + 28, c->guest_mac, 6) || memcmp(b + BOOTP_FIXED, magic_cookie, 4))
		return 0;
	if (parse_options(b, blen, r))
		return 0;
	*bootp = b;
	return blen;
}

static size_t put_opt(uint8_t *o, uint8_t code, const void *val, size_t len)
{
	o[0] = code;
	o[1] = (uint8_t)len;
	memcpy(o + 2, val, len);
	return 2 + len;
}

static size_t put_opt32(uint8_t *o, uint8_t code, uint32_t v)
{
	uint8_t be[4];

	be_put32(be, v);
	return put_opt(o, code, be, 4);
}

/* The reply's options, at most 3 + 6 * 7 + 2 + 64 + 1 = 112 bytes. */
static size_t build_options(const struct dhcp_server_conf *c, int type, int lease, uint8_t *o)
{
	uint8_t t = (uint8_t)type;
	size_t n = 0, hlen;

	n += put_opt(o + n, OPT_MSG_TYPE, &t, 1);
	n += put_opt32(o + n, OPT_SERVER_ID, c->server_ip);
	if (type == DHCPNAK)
		goto end;
	/* RFC 2131 table 3: an ACK to DHCPINFORM carries no lease time, it grants no address. */
	if (lease)
		n += put_opt32(o + n, OPT_LEASE_TIME, c->lease_seconds);
	n += put_opt32(o + n, OPT_NETMASK, c->netmask);
	if (c->router)
		n += put_opt32(o + n, OPT_ROUTER, c->router);
	if (c->dns)
		n += put_opt32(o + n, OPT_DNS, c->dns);
	hlen = strnlen(c->hostname, sizeof(c->hostname));
	if (hlen)
		n += put_opt(o + n, OPT_HOSTNAME, c->hostname, hlen);
	n += put_opt32(o + n, OPT_BROADCAST, (c->guest_ip & c->netmask) | ~c->netmask);
end:
	o[n++] = OPT_END;
	return n;
}

/* Writes the reply frame of the given type for the request message req. Returns its length, or 0 if cap is short. */
static size_t build_reply(const struct dhcp_server_conf *c, const uint8_t *req, int type, int inform,
			  uint8_t *out, size_t cap)
{
	uint8_t opts[128], *ip, *udp, *b;
	size_t olen = build_options(c, type, !inform, opts), blen, total;
	uint32_t ciaddr = be_get32(req + 12), dst, sum;
	uint16_t flags = be_get16(req + 10), udp_csum;

	blen = BOOTP_OPTIONS + olen;
	if (blen < BOOTP_MIN)
		blen = BOOTP_MIN;
	total = ETH_HLEN + IP_HLEN + UDP_HLEN + blen;
	if (cap < total)
		return 0;
	memset(out, 0, total);

	/* RFC 2131 4.1: a NAK is always broadcast; the rest go to ciaddr once the client can receive there. */
	if (type == DHCPNAK || (flags & FLAG_BROADCAST) || !ciaddr)
		dst = 0xffffffff;
	else
		dst = ciaddr;

	/* Unicast at layer 2 to chaddr, as slirp does: the client has no IP yet but its NIC has its MAC. */
	memcpy(out, req + 28, 6);
	memcpy(out + 6, c->server_mac, 6);
	be_put16(out + 12, 0x0800);

	ip = out + ETH_HLEN;
	ip[0] = 0x45;
	be_put16(ip + 2, (uint16_t)(IP_HLEN + UDP_HLEN + blen));
	ip[8] = 64;
	ip[9] = 17;
	be_put32(ip + 12, c->server_ip);
	be_put32(ip + 16, dst);
	be_put16(ip + 10, inet_checksum(ip, IP_HLEN, 0));

	b = ip + IP_HLEN + UDP_HLEN;
	b[0] = 2;			/* BOOTREPLY */
	b[1] = 1;
	b[2] = 6;
	memcpy(b + 4, req + 4, 4);	/* xid */
	be_put16(b + 10, flags);
	if (type == DHCPACK)
		be_put32(b + 12, ciaddr);
	if (type != DHCPNAK && !inform)
		be_put32(b + 16, c->guest_ip);
	memcpy(b + 28, req + 28, 16);	/* chaddr */
	memcpy(b + BOOTP_FIXED, magic_cookie, 4);
	memcpy(b + BOOTP_OPTIONS, opts, olen);

	udp = ip + IP_HLEN;
	be_put16(udp, PORT_SERVER);
	be_put16(udp + 2, PORT_CLIENT);
	be_put16(udp + 4, (uint16_t)(UDP_HLEN + blen));
	sum = inet_pseudo_sum(be_get32(ip + 12), be_get32(ip + 16), 17, (uint32_t)(UDP_HLEN + blen));
	udp_csum = inet_checksum(udp, UDP_HLEN + blen, sum);
	be_put16(udp + 6, udp_csum ? udp_csum : 0xffff);	/* 0 would mean "no checksum" (RFC 768) */
	return total;
}

size_t dhcp_server_input(const struct dhcp_server_conf *c, const uint8_t *frame, size_t len, uint8_t *out,
			 size_t cap)
{
	struct dhcp_request r = { 0 };
	const uint8_t *b;
	uint32_t addr;

	if (!parse_frame(c, frame, len, &b, &r))
		return 0;
	switch (r.type) {
	case DHCPDISCOVER:
		return build_reply(c, b, DHCPOFFER, 0, out, cap);
	case DHCPREQUEST:
		/* SELECTING names the server it chose; another server's offer is none of our business. */
		if (r.has_server_id && r.server_id != c->server_ip)
			return 0;
		/* SELECTING and INIT-REBOOT ask with option 50, RENEWING and REBINDING with ciaddr. */
		addr = r.has_requested ? r.requested : be_get32(b + 12);
		return build_reply(c, b, addr == c->guest_ip ? DHCPACK : DHCPNAK, 0, out, cap);
	case DHCPINFORM:
		return build_reply(c, b, DHCPACK, 1, out, cap);
	default:
		/* DECLINE and RELEASE change nothing: the one address stays the guest's. */
		return 0;
	}
}
