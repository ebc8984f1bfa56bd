#ifndef SHRIKE_LIB_ADDR_H
#define SHRIKE_LIB_ADDR_H

#include <stdint.h>

/*
 * Addresses as shrike.conf and `shrike run --net` write them, one parser for both (the stricter rules of the two):
 * numbers are decimal without sign, blanks or leading zeros (which some parsers read as octal). IPv4 addresses
 * are in host byte order. Each parser stops at the first byte that is not its own and sets *end there; the
 * caller says what may follow. Each returns 0 or -EINVAL.
 */
#define ADDR_MAC_LEN	6

/* A dotted quad, each part 0 to 255. */
int addr_parse_ipv4(const char *s, uint32_t *addr, const char **end);

/* A dotted quad, '/', a prefix length 0 to 32. */
int addr_parse_cidr(const char *s, uint32_t *addr, unsigned int *prefix, const char **end);

/* A TCP or UDP port, 1 to 65535. */
int addr_parse_port(const char *s, uint16_t *port, const char **end);

/*
 * Six bytes of two hex digits each (either case) joined by ':', e.g. 52:54:00:12:34:56, and nothing after them;
 * a guest's NIC address, so neither a group (multicast) address, which would make the NIC receive for everyone,
 * nor all zeros. On -EINVAL, *why says which rule s broke ("is a multicast address").
 */
int addr_parse_mac(const char *s, uint8_t mac[ADDR_MAC_LEN], const char **why);

#endif
