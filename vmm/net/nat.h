#ifndef SHRIKE_NET_NAT_H
#define SHRIKE_NET_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The flow table of the user network and the header rewriting that lets lwIP, which only accepts packets for its
 * own address, terminate every guest connection (iptables REDIRECT): a guest packet to DST:DPORT from
 * GUEST:GPORT becomes one to GATEWAY:RELAY from GUEST:NATPORT, and lwIP's answers to GUEST:NATPORT are turned
 * back into DST:DPORT -> GUEST:GPORT. NATPORT is unique per flow, so the relay finds the real destination from the
 * remote port of the lwIP pcb alone. No sockets, no lwIP: pure table and byte work, tested on its own.
 *
 * IPv4 addresses and ports are in host byte order everywhere in these structs.
 */

#define NAT_TCP_MAX		1024	/* flows per guest, the lingering ones of closed connections included */
#define NAT_UDP_MAX		128
/* NATPORTs rotate through this range, so a port comes back only after this many new flows. */
#define NAT_PORT_BASE		16384
#define NAT_PORT_SPAN		32768
#define NAT_TCP_RELAY_PORT	1	/* lwIP's listen pcb and udp pcb on the gateway */
#define NAT_UDP_RELAY_PORT	1

#define NAT_PROTO_TCP		6
#define NAT_PROTO_UDP		17
#define NAT_PROTO_ICMP		1

#define NAT_TCP_FIN		0x01
#define NAT_TCP_SYN		0x02
#define NAT_TCP_RST		0x04
#define NAT_TCP_ACK		0x10

/* One IPv4 packet as the NAT sees it; offsets are from the IP header. */
struct nat_pkt {
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;		/* 0 unless TCP or UDP */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	size_t ip_len;			/* the IP total length, <= what the frame holds */
	size_t l4_off;			/* the TCP or UDP header */
	bool fragment;			/* MF set or a non-zero offset */
	bool options;			/* IHL > 5 */
};

struct nat_flow {
	bool used;
	uint32_t guest_ip, dst_ip;	/* as the guest addressed it */
	uint16_t guest_port, dst_port;
	uint16_t nat_port;
	int16_t hnext;			/* hash chain: index of the next flow, or -1 */
	void *conn;			/* the relay's state, NULL once it is gone (lingering) */
	uint64_t expire_ms;		/* lingering or idle deadline, 0 = none */
};

struct nat_table {
	struct nat_flow *flows;
	unsigned int max, used;
	uint16_t *by_port;		/* NATPORT - NAT_PORT_BASE -> flow index + 1 */
	int16_t *hash;			/* bucket -> flow index, or -1 */
	unsigned int hash_size;		/* a power of two */
	unsigned int next_port;		/* the rotating cursor, 0 .. NAT_PORT_SPAN - 1 */
};

int nat_table_init(struct nat_table *t, unsigned int max);
void nat_table_free(struct nat_table *t);

struct nat_flow *nat_lookup(struct nat_table *t, uint32_t guest_ip, uint16_t guest_port, uint32_t dst_ip,
			    uint16_t dst_port);
struct nat_flow *nat_by_port(struct nat_table *t, uint16_t nat_port);
/* A new flow with a fresh NATPORT, or NULL when the table is full. */
struct nat_flow *nat_add(struct nat_table *t, uint32_t guest_ip, uint16_t guest_port, uint32_t dst_ip,
			 uint16_t dst_port);
void nat_remove(struct nat_table *t, struct nat_flow *f);

/*
 * Parses the IPv4 packet at ip (len bytes: what follows the Ethernet header). Returns 0, or -EINVAL for anything
 * that is not a well-formed IPv4 packet whose TCP or UDP header (if that is the protocol) lies within it. A
 * fragment is reported, not refused: its ports are 0 and the caller decides.
 */
int nat_parse(const uint8_t *ip, size_t len, struct nat_pkt *pk);

/*
 * Rewrites the source (src true) or destination address and port of a parsed TCP or UDP packet in place, with
 * the IP and TCP/UDP checksums adjusted incrementally (RFC 1624).
 */
void nat_rewrite(uint8_t *ip, const struct nat_pkt *pk, bool src, uint32_t addr, uint16_t port);

/*
 * Writes into out (>= 54 bytes) an Ethernet frame with a TCP RST|ACK from src:sport to dst:dport acknowledging
 * ack, as a refused connection looks to the sender of a SYN. Returns its length.
 */
size_t nat_build_rst(uint8_t *out, const uint8_t src_mac[6], const uint8_t dst_mac[6], uint32_t src,
		     uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack);

#endif
