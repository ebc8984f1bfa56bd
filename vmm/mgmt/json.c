#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/json.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* the second byte's range excludes overlongs (E0, F0), surrogates (ED) and beyond U+10FFFF (F4) */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* writer */

void json_init(struct json_writer *w, char *buf, size_t size)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->size = size;
}

static void put(struct json_writer *w, const char *s, size_t n)
{
	/* one byte is kept for the terminating NUL */
	if (w->overflow || n >= w->size - w->len) {
		w->overflow = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* The separator before a value: a comma unless it is the first in its container or follows a key. */
static void before_value(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->need_comma[w->depth])
		put(w, ",", 1);
	w->need_comma[w->depth] = 1;
}

static void open_container(struct json_writer *w, const char *c)
{
	before_value(w);
	put(w, c, 1);
	if (w->depth == JSON_MAX_DEPTH) {
		w->overflow = 1;
		return;
	}
	w->need_comma[++w->depth] = 0;
}

static void close_container(struct json_writer *w, const char *c)
{
	if (!w->depth) {
		w->overflow = 1;
		return;
	}
	w->depth--;
	put(w, c, 1);
}

void json_object_begin(struct json_writer *w)
{
	open_container(w, "{");
}

void json_object_end(struct json_writer *w)
{
	close_container(w, "}");
}

void json_array_begin(struct json_writer *w)
{
	open_container(w, "[");
}

void json_array_end(struct json_writer *w)
{
	close_container(w, "]");
}

static void put_escaped(struct json_writer *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];
	size_t i = 0, run;

	put(w, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			run = utf8_len(s + i, n - i);
			if (run)
				put(w, str + i, run);
			else
				put(w, "\xef\xbf\xbd", 3);	/* U+FFFD for each byte that starts no valid sequence */
			i += run ? run : 1;
			continue;
		}
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				put(w, esc, 6);
			} else {
				put(w, str + i, 1);
			}
		}
		i++;
	}
	put(w, "\"", 1);
}

void json_key(struct json_writer *w, const char *key)
{
	before_value(w);
	put_escaped(w, key, strlen(key));
	put(w, ":", 1);
	w->after_key = 1;
}

void json_string_len(struct json_writer *w, const char *s, size_t len)
{
	before_value(w);
	put_escaped(w, s, len);
}

void json_string(struct json_writer *w, const char *s)
{
	json_string_len(w, s, strlen(s));
}

void json_int(struct json_writer *w, long long v)
{
	char num[24];

	before_value(w);
	put(w, num, (size_t)snprintf(num, sizeof(num), "%lld", v));
}

void json_uint(struct json_writer *w, unsigned long long v)
{
	char num[24];

	before_value(w);
	put(w, num, (size_t)snprintf(num, sizeof(num), "%llu", v));
}

void json_bool(struct json_writer *w, int v)
{
	before_value(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json_writer *w)
{
	before_value(w);
	put(w, "null", 4);
}

int json_finish(struct json_writer *w)
{
	if (w->overflow) {
		if (w->size)
			w->buf[w->len] = '\0';
		return -ENOSPC;
	}
	w->buf[w->len] = '\0';
	if (w->depth || w->after_key)
		return -EINVAL;
	return (int)w->len;
}

/* reader */

struct json_parser {
	const char *p, *end;
	unsigned int depth;
};

static void skip_ws(struct json_parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static int hex4(const char *p, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Appends to a decoded string; with out == NULL only counts. */
static int emit(char *out, size_t size, size_t *o, const char *s, size_t n)
{
	if (out) {
		if (n >= size - *o)
			return -ENOSPC;
		memcpy(out + *o, s, n);
	}
	*o += n;
	return 0;
}

static size_t utf8_encode(unsigned int cp, char *b)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Parses a string at jp->p (which is at the opening quote), decoding into out (may be NULL). -ENOSPC is only
 * reported after the whole string has been checked, so a long string is "too long", never "malformed".
 */
static int parse_string(struct json_parser *jp, char *out, size_t size)
{
	size_t o = 0, n;
	int rc, full = 0;
	char enc[4];
	unsigned int cp, lo;

	jp->p++;
	for (;;) {
		if (jp->p >= jp->end)
			return -EINVAL;
		unsigned char c = (unsigned char)*jp->p;

		if (c == '"') {
			jp->p++;
			break;
		}
		if (c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			if (jp->end - jp->p < 2)
				return -EINVAL;
			switch (jp->p[1]) {
			case '"': enc[0] = '"'; n = 1; break;
			case '\\': enc[0] = '\\'; n = 1; break;
			case '/': enc[0] = '/'; n = 1; break;
			case 'b': enc[0] = '\b'; n = 1; break;
			case 'f': enc[0] = '\f'; n = 1; break;
			case 'n': enc[0] = '\n'; n = 1; break;
			case 'r': enc[0] = '\r'; n = 1; break;
			case 't': enc[0] = '\t'; n = 1; break;
			case 'u':
				if (jp->end - jp->p < 6 || hex4(jp->p + 2, &cp))
					return -EINVAL;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return -EINVAL;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					/* a high surrogate needs its low half right behind */
					if (jp->end - jp->p < 12 || jp->p[6] != '\\' || jp->p[7] != 'u' ||
					    hex4(jp->p + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
						return -EINVAL;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					jp->p += 6;
				}
				if (!cp && out)
					return -EINVAL;	/* a NUL would cut the C string short */
				n = utf8_encode(cp, enc);
				jp->p += 4;
				break;
			default:
				return -EINVAL;
			}
			jp->p += 2;
			rc = full ? 0 : emit(out, size, &o, enc, n);
		} else {
			n = utf8_len((const unsigned char *)jp->p, (size_t)(jp->end - jp->p));
			if (!n)
				return -EINVAL;
			rc = full ? 0 : emit(out, size, &o, jp->p, n);
			jp->p += n;
		}
		if (rc)
			full = 1;
	}
	if (full)
		return -ENOSPC;
	if (out)
		out[o] = '\0';
	return 0;
}

static int parse_number(struct json_parser *jp)
{
	const char *p = jp->p, *e = jp->end;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return -EINVAL;
	if (p < e && *p == '.') {
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return -EINVAL;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return -EINVAL;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	jp->p = p;
	return 0;
}

static int literal(struct json_parser *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n))
		return -EINVAL;
	jp->p += n;
	return 0;
}

static int parse_value(struct json_parser *jp);

static int parse_container(struct json_parser *jp, char close)
{
	int rc;

	if (jp->depth == JSON_MAX_DEPTH)
		return -EINVAL;
	jp->depth++;
	jp->p++;
	skip_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		jp->depth--;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (jp->p >= jp->end || *jp->p != '"')
				return -EINVAL;
			rc = parse_string(jp, NULL, 0);
			if (rc)
				return rc;
			skip_ws(jp);
			if (jp->p >= jp->end || *jp->p != ':')
				return -EINVAL;
			jp->p++;
		}
		rc = parse_value(jp);
		if (rc)
			return rc;
		skip_ws(jp);
		if (jp->p >= jp->end)
			return -EINVAL;
		if (*jp->p == close) {
			jp->p++;
			jp->depth--;
			return 0;
		}
		if (*jp->p != ',')
			return -EINVAL;
		jp->p++;
		skip_ws(jp);
	}
}

static int parse_value(struct json_parser *jp)
{
	skip_ws(jp);
	if (jp->p >= jp->end)
		return -EINVAL;
	switch (*jp->p) {
	case '{': return parse_container(jp, '}');
	case '[': return parse_container(jp, ']');
	case '"': return parse_string(jp, NULL, 0);
	case 't': return literal(jp, "true");
	case 'f': return literal(jp, "false");
	case 'n': return literal(jp, "null");
	default: return parse_number(jp);
	}
}

int json_validate(const char *doc, size_t len)
{
	struct json_parser jp = { doc, doc + len, 0 };
	int rc;

	rc = parse_value(&jp);
	if (rc)
		return rc;
	skip_ws(&jp);
	return jp.p == jp.end ? 0 : -EINVAL;
}

/*
 * Finds member KEY of the top-level object and leaves *val at its first character. The whole document is checked
 * first, so a member is never taken from a document that turns out to be malformed later; a repeated KEY is
 * refused, since parsers disagree on which copy wins.
 */
static int find_member(const char *doc, size_t len, const char *key, const char **val)
{
	struct json_parser jp = { doc, doc + len, 0 };
	char name[128];
	int rc, found = 0;

	rc = json_validate(doc, len);
	if (rc)
		return rc;
	skip_ws(&jp);
	if (*jp.p != '{')
		return -EINVAL;
	jp.p++;
	jp.depth = 1;
	for (;;) {
		skip_ws(&jp);
		if (*jp.p == '}')
			break;
		rc = parse_string(&jp, name, sizeof(name));
		if (rc && rc != -ENOSPC)
			return rc;
		skip_ws(&jp);
		jp.p++;	/* the ':' json_validate() saw */
		skip_ws(&jp);
		if (!rc && !strcmp(name, key)) {
			if (found)
				return -EINVAL;
			found = 1;
			*val = jp.p;
		}
		parse_value(&jp);
		skip_ws(&jp);
		if (*jp.p == '}')
			break;
		jp.p++;	/* ',' */
	}
	return found ? 0 : -ENOENT;
}

int json_get_bool(const char *doc, size_t len, const char *key, int *out)
{
	const char *v;
	int rc;

	rc = find_member(doc, len, key, &v);
	if (rc)
		return rc;
	if (*v == 't')
		*out = 1;
	else if (*v == 'f')
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

int json_get_int(const char *doc, size_t len, const char *key, long long min, long long max, long long *out)
{
	struct json_parser jp;
	const char *v, *p;
	unsigned long long n = 0, limit;
	int rc, neg;

	rc = find_member(doc, len, key, &v);
	if (rc)
		return rc;
	jp.p = v;
	jp.end = doc + len;
	if (parse_number(&jp))
		return -EINVAL;
	for (p = v; p < jp.p; p++)
		if (*p == '.' || *p == 'e' || *p == 'E')
			return -EINVAL;
	neg = *v == '-';
	limit = neg ? (unsigned long long)-(min + 1) + 1 : (unsigned long long)max;
	if (neg && min >= 0)
		return -ERANGE;
	for (p = v + neg; p < jp.p; p++) {
		unsigned long long d = (unsigned long long)(*p - '0');

		if (n > limit / 10 || (n == limit / 10 && d > limit % 10))
			return -ERANGE;
		n = n * 10 + d;
	}
	if (neg) {
		*out = n ? -(long long)(n - 1) - 1 : 0;
	} else {
		*out = (long long)n;
	}
	if (*out < min || *out > max)
		return -ERANGE;
	return 0;
}

int json_get_string(const char *doc, size_t len, const char *key, char *buf, size_t size)
{
	struct json_parser jp;
	const char *v;
	int rc;

	rc = find_member(doc, len, key, &v);
	if (rc)
		return rc;
	if (*v != '"')
		return -EINVAL;
	jp.p = v;
	jp.end = doc + len;
	jp.depth = 0;
	return parse_string(&jp, buf, size);
}
