#include <errno.h>

#include "lib/addr.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal number from 0 to max: no sign, no leading zero but for 0 itself. */
static int parse_decimal(const char *s, unsigned long max, unsigned long *out, const char **end)
{
	unsigned long v = 0;

	if (!is_digit(*s) || (s[0] == '0' && is_digit(s[1])))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	*end = s;
	return 0;
}

int addr_parse_ipv4(const char *s, uint32_t *addr, const char **end)
{
	unsigned long part;
	uint32_t a = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (i && *s++ != '.')
			return -EINVAL;
		if (parse_decimal(s, 255, &part, &s))
			return -EINVAL;
		a = a << 8 | (uint32_t)part;
	}
	*addr = a;
	*end = s;
	return 0;
}

int addr_parse_cidr(const char *s, uint32_t *addr, unsigned int *prefix, const char **end)
{
	unsigned long n;
	uint32_t a;

	if (addr_parse_ipv4(s, &a, &s) || *s != '/' || parse_decimal(s + 1, 32, &n, &s))
		return -EINVAL;
	*addr = a;
	*prefix = (unsigned int)n;
	*end = s;
	return 0;
}

int addr_parse_port(const char *s, uint16_t *port, const char **end)
{
	unsigned long v;

	if (parse_decimal(s, 65535, &v, &s) || v == 0)
		return -EINVAL;
	*port = (uint16_t)v;
	*end = s;
	return 0;
}

static int hex_digit(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int addr_parse_mac(const char *s, uint8_t mac[ADDR_MAC_LEN], const char **why)
{
	uint8_t m[ADDR_MAC_LEN];
	int i, hi, lo;

	for (i = 0; i < ADDR_MAC_LEN; i++) {
		hi = hex_digit(s[3 * i]);
		lo = hi < 0 ? -1 : hex_digit(s[3 * i + 1]);
		if (lo < 0 || s[3 * i + 2] != (i < ADDR_MAC_LEN - 1 ? ':' : '\0')) {
			*why = "is not six hex bytes such as 52:54:00:12:34:56";
			return -EINVAL;
		}
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1) {
		*why = "is a multicast address";
		return -EINVAL;
	}
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
		*why = "is all zeros";
		return -EINVAL;
	}
	for (i = 0; i < ADDR_MAC_LEN; i++)
		mac[i] = m[i];
	return 0;
}
