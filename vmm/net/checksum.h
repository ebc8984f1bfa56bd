/* The Internet checksum (RFC 1071) of IPv4, TCP and UDP headers, for the frames the user network builds and
 * checks (dhcp.c, nat.c). */
#ifndef SHRIKE_NET_CHECKSUM_H
#define SHRIKE_NET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/be.h"

/*
 * The checksum of len bytes at data plus sum, an unfolded ones' complement sum carried in (a pseudo header's,
 * or 0). Written into a header whose checksum field is 0 it makes the header check; over a header that carries
 * a correct checksum it is 0.
 */
static inline uint16_t inet_checksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += be_get16(p);
	if (len)
		sum += (uint32_t)*p << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The unfolded sum of the IPv4 pseudo header that TCP and UDP checksums cover (addresses in host order). */
static inline uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

#endif
