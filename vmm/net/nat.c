#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/be.h"
#include "net/checksum.h"
#include "net/nat.h"

int nat_table_init(struct nat_table *t, unsigned int max)
{
	unsigned int i;

	*t = (struct nat_table){ .max = max, .hash_size = 1 };
	while (t->hash_size < 2 * max)
		t->hash_size <<= 1;
	t->flows = calloc(max, sizeof(*t->flows));
	t->by_port = calloc(NAT_PORT_SPAN, sizeof(*t->by_port));
	t->hash = malloc(t->hash_size * sizeof(*t->hash));
	if (!t->flows || !t->by_port || !t->hash) {
		nat_table_free(t);
		return -ENOMEM;
	}
	for (i = 0; i < t->hash_size; i++)
		t->hash[i] = -1;
	return 0;
}

void nat_table_free(struct nat_table *t)
{
	free(t->flows);
	free(t->by_port);
	free(t->hash);
	t->flows = NULL;
	t->by_port = NULL;
	t->hash = NULL;
}

static unsigned int bucket(const struct nat_table *t, uint32_t gip, uint16_t gport, uint32_t dip, uint16_t dport)
{
	uint32_t h = gip * 0x9e3779b1u ^ dip * 0x85ebca6bu ^ ((uint32_t)gport << 16 | dport) * 0xc2b2ae35u;

	return (h ^ h >> 15) & (t->hash_size - 1);
}

struct nat_flow *nat_lookup(struct nat_table *t, uint32_t guest_ip, uint16_t guest_port, uint32_t dst_ip,
			    uint16_t dst_port)
{
	int i = t->hash[bucket(t, guest_ip, guest_port, dst_ip, dst_port)];
	struct nat_flow *f;

	for (; i >= 0; i = f->hnext) {
		f = &t->flows[i];
		if (f->guest_ip == guest_ip && f->guest_port == guest_port && f->dst_ip == dst_ip &&
		    f->dst_port == dst_port)
			return f;
	}
	return NULL;
}

struct nat_flow *nat_by_port(struct nat_table *t, uint16_t nat_port)
{
	unsigned int i;

	if (nat_port < NAT_PORT_BASE || nat_port - NAT_PORT_BASE >= NAT_PORT_SPAN)
		return NULL;
	i = t->by_port[nat_port - NAT_PORT_BASE];
	return i ? &t->flows[i - 1] : NULL;
}

struct nat_flow *nat_add(struct nat_table *t, uint32_t guest_ip, uint16_t guest_port, uint32_t dst_ip,
			 uint16_t dst_port)
{
	unsigned int i, b, tries;
	struct nat_flow *f = NULL;

	if (t->used == t->max)
		return NULL;
	for (i = 0; i < t->max; i++)
		if (!t->flows[i].used) {
			f = &t->flows[i];
			break;
		}
	/* At most max ports are taken, so a free one turns up within max + 1 steps. */
	for (tries = 0; tries <= t->max && t->by_port[t->next_port]; tries++)
		t->next_port = (t->next_port + 1) % NAT_PORT_SPAN;
	*f = (struct nat_flow){ .used = true, .guest_ip = guest_ip, .guest_port = guest_port, .dst_ip = dst_ip,
				.dst_port = dst_port, .nat_port = (uint16_t)(NAT_PORT_BASE + t->next_port) };
	t->by_port[t->next_port] = (uint16_t)(i + 1);
	t->next_port = (t->next_port + 1) % NAT_PORT_SPAN;
	b = bucket(t, guest_ip, guest_port, dst_ip, dst_port);
	f->hnext = t->hash[b];
	t->hash[b] = (int16_t)i;
	t->used++;
	return f;
}

void nat_remove(struct nat_table *t, struct nat_flow *f)
{
	int16_t idx = (int16_t)(f - t->flows), *pp;

	pp = &t->hash[bucket(t, f->guest_ip, f->guest_port, f->dst_ip, f->dst_port)];
	while (*pp >= 0 && *pp != idx)
		pp = &t->flows[*pp].hnext;
	if (*pp == idx)
		*pp = f->hnext;
	t->by_port[f->nat_port - NAT_PORT_BASE] = 0;
	*f = (struct nat_flow){ 0 };
	t->used--;
}

int nat_parse(const uint8_t *ip, size_t len, struct nat_pkt *pk)
{
	size_t hlen, tot;
	uint16_t frag;

	*pk = (struct nat_pkt){ 0 };
	if (len < 20 || ip[0] >> 4 != 4)
		return -EINVAL;
	hlen = (size_t)(ip[0] & 0xf) * 4;
	tot = be_get16(ip + 2);
	if (hlen < 20 || tot < hlen || tot > len)
		return -EINVAL;
	frag = be_get16(ip + 6);
	pk->fragment = (frag & 0x2000) || (frag & 0x1fff);
	pk->options = hlen > 20;
	pk->proto = ip[9];
	pk->src = be_get32(ip + 12);
	pk->dst = be_get32(ip + 16);
	pk->ip_len = tot;
	pk->l4_off = hlen;
	if (pk->fragment)
		return 0;
	if (pk->proto == NAT_PROTO_TCP) {
		if (tot - hlen < 20 || (size_t)(ip[hlen + 12] >> 4) * 4 < 20 ||
		    (size_t)(ip[hlen + 12] >> 4) * 4 > tot - hlen)
			return -EINVAL;
		pk->tcp_seq = be_get32(ip + hlen + 4);
		pk->tcp_ack = be_get32(ip + hlen + 8);
		pk->tcp_flags = ip[hlen + 13];
	} else if (pk->proto == NAT_PROTO_UDP) {
		if (tot - hlen < 8 || be_get16(ip + hlen + 4) < 8 || be_get16(ip + hlen + 4) > tot - hlen)
			return -EINVAL;
	} else {
		return 0;
	}
	pk->sport = be_get16(ip + hlen);
	pk->dport = be_get16(ip + hlen + 2);
	return 0;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), on 16-bit words as they are in the packet. */
static uint16_t csum_fix(uint16_t sum, uint16_t old, uint16_t new)
{
	uint32_t s = (uint32_t)(uint16_t)~sum + (uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void fix16(uint8_t *field, uint8_t *sum, uint16_t v)
{
	be_put16(sum, csum_fix(be_get16(sum), be_get16(field), v));
	be_put16(field, v);
}

void nat_rewrite(uint8_t *ip, const struct nat_pkt *pk, bool src, uint32_t addr, uint16_t port)
{
	uint8_t *a = ip + (src ? 12 : 16), *l4 = ip + pk->l4_off, *sum, scratch[2];
	bool udp_nosum;

	sum = pk->proto == NAT_PROTO_TCP ? l4 + 16 : l4 + 6;
	/* A UDP checksum of 0 means "none" and must stay so; 0xffff stands for a computed 0. */
	udp_nosum = pk->proto == NAT_PROTO_UDP && be_get16(sum) == 0;
	if (udp_nosum)
		sum = scratch;
	/* The pseudo-header holds the addresses, so the transport checksum changes with them too. */
	be_put16(sum, csum_fix(be_get16(sum), be_get16(a), (uint16_t)(addr >> 16)));
	be_put16(sum, csum_fix(be_get16(sum), be_get16(a + 2), (uint16_t)addr));
	fix16(a, ip + 10, (uint16_t)(addr >> 16));
	fix16(a + 2, ip + 10, (uint16_t)addr);
	fix16(l4 + (src ? 0 : 2), sum, port);
	if (pk->proto == NAT_PROTO_UDP && !udp_nosum && be_get16(sum) == 0)
		be_put16(sum, 0xffff);
}

size_t nat_build_rst(uint8_t *out, const uint8_t src_mac[6], const uint8_t dst_mac[6], uint32_t src,
		     uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack)
{
	uint8_t *ip = out + 14, *tcp = ip + 20;
	uint32_t pseudo;

	memcpy(out, dst_mac, 6);
	memcpy(out + 6, src_mac, 6);
	be_put16(out + 12, 0x0800);
	memset(ip, 0, 40);
	ip[0] = 0x45;
	be_put16(ip + 2, 40);
	ip[6] = 0x40;			/* DF */
	ip[8] = 64;
	ip[9] = NAT_PROTO_TCP;
	be_put32(ip + 12, src);
	be_put32(ip + 16, dst);
	be_put16(ip + 10, inet_checksum(ip, 20, 0));
	be_put16(tcp, sport);
	be_put16(tcp + 2, dport);
	be_put32(tcp + 4, seq);
	be_put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = NAT_TCP_RST | NAT_TCP_ACK;
	pseudo = inet_pseudo_sum(src, dst, NAT_PROTO_TCP, 20);
	be_put16(tcp + 16, inet_checksum(tcp, 20, pseudo));
	return 54;
}
