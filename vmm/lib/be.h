/* Big-endian (network byte order) loads and stores at any alignment: Ethernet, IPv4, TCP, UDP and BOOTP headers
 * are byte layouts in guest frames, not C structs we may overlay. */
#ifndef SHRIKE_LIB_BE_H
#define SHRIKE_LIB_BE_H

#include <stdint.h>

static inline uint16_t be_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be_get32(const uint8_t *p)
{
	return (uint32_t)be_get16(p) << 16 | be_get16(p + 2);
}

static inline void be_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void be_put32(uint8_t *p, uint32_t v)
{
	be_put16(p, (uint16_t)(v >> 16));
	be_put16(p + 2, (uint16_t)v);
}

#endif
