#ifndef SHRIKE_CONFIG_PARSER_H
#define SHRIKE_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "lib/addr.h"

/*
 * Private to config.c and values.c: the parser's state while it reads shrike.conf, and the value parsers the key
 * setters share. A value parser that refuses its input says why with value_why() (into p->why, which the setter's
 * caller turns into a "file:line: key: why" error) and returns -EINVAL.
 */

enum section { SEC_NONE, SEC_SKIP, SEC_HOST, SEC_MGMT, SEC_BRIDGE, SEC_GUEST };

struct parser {
	struct config *cfg;
	struct config_errors *errs;
	unsigned int line;
	enum section section;
	struct config_bridge *bridge;
	struct config_guest *guest;
	/* Where each key of the current section was set, to refuse a second time. */
	unsigned int seen[32];
	char why[200];		/* the reason a value setter failed */
	bool failed;
};

int value_why(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool value_is_digit(char c);
bool value_is_alnum(char c);
bool value_is_blank(char c);
/* Copies s into dst (size bytes) or says it is too long. */
int value_copy(struct parser *p, char *dst, size_t size, const char *s);
/* A decimal number without sign or leading zeros, at most max; *end gets the first byte after the digits. */
int value_number(const char *s, unsigned long long max, unsigned long long *out, const char **end);
int value_uint(struct parser *p, const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out);
int value_size(struct parser *p, const char *s, uint64_t *out);
int value_duration(struct parser *p, const char *s, unsigned int min, unsigned int max, unsigned int *out);
int value_bool(struct parser *p, const char *s, bool *out);
int value_ipv4(struct parser *p, const char *s, uint32_t *out);
int value_cidr(struct parser *p, const char *s, unsigned int min, unsigned int max, uint32_t *addr,
	       unsigned int *prefix);
int value_mac(struct parser *p, const char *s, uint8_t mac[ADDR_MAC_LEN]);
/* Guest and bridge names: a letter or digit, then letters, digits, '-', '_', '.'. */
int value_name(struct parser *p, const char *s, size_t max, const char *what);
/* A Linux interface name: what the kernel accepts, minus '/', ':' and blanks. */
int value_ifname(struct parser *p, const char *s);
/* Paths on the data partition: relative, no "." or ".." components, printable, no blanks. */
int value_path(struct parser *p, const char *s);
int value_file_name(struct parser *p, char *dst, unsigned int *line, const char *v);
/* Splits v at blanks into words; calls fn for each. Stops at the first failure. */
int value_words(struct parser *p, const char *v, int (*fn)(struct parser *p, const char *word));
/* Splits s at commas in place into fields; returns their number, or max + 1 when there are more than max. */
unsigned int value_fields(char *s, char **fields, unsigned int max);

#endif
