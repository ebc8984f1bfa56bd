#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/filename.h"
#include "config/parser.h"
#include "lib/addr.h"

/* The values of shrike.conf's keys: numbers, sizes, durations, addresses, names and paths (docs/config.md). */

int value_why(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

bool value_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool value_is_alnum(char c)
{
	return value_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool value_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies s into dst (size bytes) or says it is too long. */
int value_copy(struct parser *p, char *dst, size_t size, const char *s)
{
	size_t len = strlen(s);

	if (len >= size)
		return value_why(p, "longer than %zu bytes", size - 1);
	memcpy(dst, s, len + 1);
	return 0;
}

/* A decimal number without sign or leading zeros, at most max; *end gets the first byte after the digits. */
int value_number(const char *s, unsigned long long max, unsigned long long *out, const char **end)
{
	unsigned long long v = 0;
	const char *q = s;

	if (!value_is_digit(*q) || (q[0] == '0' && value_is_digit(q[1])))
		return -EINVAL;
	for (; value_is_digit(*q); q++) {
		if (v > (max - (unsigned long long)(*q - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long long)(*q - '0');
	}
	*out = v;
	*end = q;
	return 0;
}

int value_uint(struct parser *p, const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out)
{
	const char *end;

	if (value_number(s, max, out, &end) || *end || *out < min)
		return value_why(p, "'%.60s' is not a number from %llu to %llu", s, min, max);
	return 0;
}

int value_size(struct parser *p, const char *s, uint64_t *out)
{
	unsigned long long v, mul;
	const char *end;

	if (value_number(s, UINT64_MAX, &v, &end))
		return value_why(p, "'%.60s' is not a size such as 256M or 2G", s);
	switch (*end) {
	case 'K': case 'k': mul = 1ULL << 10; break;
	case 'M': case 'm': mul = 1ULL << 20; break;
	case 'G': case 'g': mul = 1ULL << 30; break;
	case 'T': case 't': mul = 1ULL << 40; break;
	case '\0': return value_why(p, "'%.60s' needs a unit: K, M, G or T, e.g. %.60sM", s, s);
	default: return value_why(p, "'%.60s' is not a size such as 256M or 2G", s);
	}
	if (end[1])
		return value_why(p, "'%.60s' is not a size such as 256M or 2G", s);
	if (v > UINT64_MAX / mul)
		return value_why(p, "'%.60s' is too large", s);
	*out = v * mul;
	return 0;
}

int value_duration(struct parser *p, const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	unsigned long long v, mul;
	const char *end;

	if (value_number(s, UINT32_MAX, &v, &end))
		return value_why(p, "'%.60s' is not a duration such as 30s, 10m or 1h", s);
	switch (*end) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case '\0': return value_why(p, "'%.60s' needs a unit: s, m or h, e.g. %.60ss", s, s);
	default: return value_why(p, "'%.60s' is not a duration such as 30s, 10m or 1h", s);
	}
	if (end[1])
		return value_why(p, "'%.60s' is not a duration such as 30s, 10m or 1h", s);
	v *= mul;
	if (v < min || v > max)
		return value_why(p, "'%.60s' is not between %us and %us", s, min, max);
	*out = (unsigned int)v;
	return 0;
}

int value_bool(struct parser *p, const char *s, bool *out)
{
	if (!strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "no"))
		*out = false;
	else
		return value_why(p, "'%.60s' is neither yes nor no", s);
	return 0;
}

int value_ipv4(struct parser *p, const char *s, uint32_t *out)
{
	const char *end;

	if (addr_parse_ipv4(s, out, &end) || *end)
		return value_why(p, "'%.60s' is not an IPv4 address", s);
	return 0;
}

int value_cidr(struct parser *p, const char *s, unsigned int min, unsigned int max, uint32_t *addr,
	       unsigned int *prefix)
{
	const char *end;

	if (addr_parse_cidr(s, addr, prefix, &end) || *end)
		return value_why(p, "'%.60s' is not an IPv4 address with a prefix length, e.g. 192.168.1.10/24", s);
	if (*prefix < min || *prefix > max)
		return value_why(p, "'%.60s': the prefix length must be from %u to %u", s, min, max);
	return 0;
}

int value_mac(struct parser *p, const char *s, uint8_t mac[ADDR_MAC_LEN])
{
	const char *rule;

	if (addr_parse_mac(s, mac, &rule))
		return value_why(p, "mac '%.60s' %s", s, rule);
	return 0;
}

/* Guest and bridge names: a letter or digit, then letters, digits, '-', '_', '.'. */
int value_name(struct parser *p, const char *s, size_t max, const char *what)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > max)
		return value_why(p, "%s name '%.60s' must be 1 to %zu characters", what, s, max);
	if (!value_is_alnum(s[0]))
		return value_why(p, "%s name '%.60s' must start with a letter or digit", what, s);
	for (i = 1; i < len; i++)
		if (!value_is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return value_why(p, "%s name '%.60s' may only contain letters, digits, '-', '_' and '.'", what, s);
	return 0;
}

/* A Linux interface name: what the kernel accepts, minus '/', ':' and blanks. */
int value_ifname(struct parser *p, const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > CONFIG_IFNAME_MAX)
		return value_why(p, "interface name '%.60s' must be 1 to %d characters", s, CONFIG_IFNAME_MAX);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return value_why(p, "'%s' is not an interface name", s);
	for (i = 0; i < len; i++)
		if (!value_is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return value_why(p, "interface name '%.60s' may only contain letters, digits, '-', '_' and '.'", s);
	return 0;
}

/* Paths on the data partition: relative, no "." or ".." components, printable, no blanks. */
int value_path(struct parser *p, const char *s)
{
	size_t i, len = strlen(s), start = 0;

	if (len == 0 || len > CONFIG_PATH_MAX)
		return value_why(p, "path '%.60s' must be 1 to %d characters", s, CONFIG_PATH_MAX);
	if (s[0] == '/')
		return value_why(p, "path '%.60s' must be relative to the data partition (no leading '/')", s);
	for (i = 0; i <= len; i++) {
		if (i < len && ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f))
			return value_why(p, "path '%.60s' may only contain printable characters without blanks", s);
		if (i < len && s[i] != '/')
			continue;
		if (i == start || (i - start == 1 && s[start] == '.') ||
		    (i - start == 2 && s[start] == '.' && s[start + 1] == '.'))
			return value_why(p, "path '%.60s' has an empty, '.' or '..' component", s);
		start = i + 1;
	}
	return 0;
}

int value_file_name(struct parser *p, char *dst, unsigned int *line, const char *v)
{
	*line = p->line;	/* given, even if wrong: the checks across the file must not call it missing */
	if (!filename_valid(v, strlen(v)))
		return value_why(p, "'%.60s' is not a file name of the config partition (1 to %d printable characters, "
			   "no '/', '\\' or blanks, no leading '.', no '..')", v, CONFIG_FILE_NAME_MAX);
	strcpy(dst, v);
	return 0;
}

/* Splits v at blanks into words; calls fn for each. Stops at the first failure. */
int value_words(struct parser *p, const char *v, int (*fn)(struct parser *p, const char *word))
{
	char word[CONFIG_MAX_LINE + 1];
	size_t len;
	int ret;

	while (*v) {
		while (value_is_blank(*v))
			v++;
		for (len = 0; v[len] && !value_is_blank(v[len]); len++)
			;
		if (!len)
			break;
		memcpy(word, v, len);
		word[len] = '\0';
		ret = fn(p, word);
		if (ret)
			return ret;
		v += len;
	}
	return 0;
}

/* Splits s at commas in place into fields; returns their number, or max + 1 when there are more than max. */
unsigned int value_fields(char *s, char **fields, unsigned int max)
{
	unsigned int n = 0;
	char *comma;

	for (;;) {
		if (n == max)
			return max + 1;
		fields[n++] = s;
		comma = strchr(s, ',');
		if (!comma)
			return n;
		*comma = '\0';
		s = comma + 1;
	}
}

