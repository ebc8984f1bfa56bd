#include <errno.h>
#include <limits.h>
#include <string.h>

#include "lib/utf8.h"
#include "mgmt/jsonread.h"

struct parser {
	const char *p, *end;
	unsigned int depth;
};

static void skip_ws(struct parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

/* A parser at the value named by offset at. */
static struct parser value_at(const struct jsonread *doc, size_t at)
{
	struct parser jp = { doc->text + at, doc->text + doc->len, 0 };

	skip_ws(&jp);
	return jp;
}

static size_t offset(const struct jsonread *doc, const struct parser *jp)
{
	return (size_t)(jp->p - doc->text);
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

/*
 * The string at jp->p (its opening quote). Without len it is only checked; with len it is read out: decoded into
 * out (NULL: only measured), its decoded length stored in *len, and \u0000 refused. -ENOSPC is only reported after
 * the whole string has been checked, so a long string is "too long", never "malformed".
 */
static int parse_string(struct parser *jp, char *out, size_t size, size_t *len)
{
	size_t total = 0, written = 0, n;
	const char *src;
	int full = 0;
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
			n = 1;
			switch (jp->p[1]) {
			case '"': enc[0] = '"'; break;
			case '\\': enc[0] = '\\'; break;
			case '/': enc[0] = '/'; break;
			case 'b': enc[0] = '\b'; break;
			case 'f': enc[0] = '\f'; break;
			case 'n': enc[0] = '\n'; break;
			case 'r': enc[0] = '\r'; break;
			case 't': enc[0] = '\t'; break;
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
				if (!cp && len)
					return -EINVAL;
				n = utf8_encode(cp, enc);
				jp->p += 4;
				break;
			default:
				return -EINVAL;
			}
			jp->p += 2;
			src = enc;
		} else {
			n = utf8_len((const unsigned char *)jp->p, (size_t)(jp->end - jp->p));
			if (!n)
				return -EINVAL;
			src = jp->p;
			jp->p += n;
		}
		/* whole characters only, and none after the first that did not fit */
		if (out && !full && n < size - written) {
			memcpy(out + written, src, n);
			written += n;
		} else if (out) {
			full = 1;
		}
		total += n;
	}
	if (!len)
		return 0;
	if (out && size)
		out[written] = '\0';
	*len = total;
	return full ? -ENOSPC : 0;
}

static int parse_number(struct parser *jp)
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

static int literal(struct parser *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n))
		return -EINVAL;
	jp->p += n;
	return 0;
}

static int parse_value(struct parser *jp);

static int parse_container(struct parser *jp, char close)
{
	int rc;

	if (jp->depth == JSONREAD_MAX_DEPTH)
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
			rc = parse_string(jp, NULL, 0, NULL);
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

static int parse_value(struct parser *jp)
{
	skip_ws(jp);
	if (jp->p >= jp->end)
		return -EINVAL;
	switch (*jp->p) {
	case '{': return parse_container(jp, '}');
	case '[': return parse_container(jp, ']');
	case '"': return parse_string(jp, NULL, 0, NULL);
	case 't': return literal(jp, "true");
	case 'f': return literal(jp, "false");
	case 'n': return literal(jp, "null");
	default: return parse_number(jp);
	}
}

int jsonread_open(struct jsonread *doc, const char *text, size_t len)
{
	struct parser jp = { text, text + len, 0 };
	int rc;

	doc->text = text;
	doc->len = len;
	rc = parse_value(&jp);
	if (rc)
		return rc;
	skip_ws(&jp);
	return jp.p == jp.end ? 0 : -EINVAL;
}

int jsonread_type(const struct jsonread *doc, size_t at)
{
	struct parser jp = value_at(doc, at);

	switch (*jp.p) {
	case '{': return JSONREAD_OBJECT;
	case '[': return JSONREAD_ARRAY;
	case '"': return JSONREAD_STRING;
	case 't': return JSONREAD_TRUE;
	case 'f': return JSONREAD_FALSE;
	case 'n': return JSONREAD_NULL;
	default: return JSONREAD_NUMBER;
	}
}

/* The walks below step over what jsonread_open() has already checked: the ':' and ',' are where they must be. */
int jsonread_member(const struct jsonread *doc, size_t obj, const char *key, size_t *at)
{
	struct parser jp = value_at(doc, obj);
	char name[128];
	size_t n;
	int rc, found = 0;

	if (*jp.p != '{')
		return -EINVAL;
	jp.p++;
	for (;;) {
		skip_ws(&jp);
		if (*jp.p == '}')
			break;
		rc = parse_string(&jp, name, sizeof(name), &n);
		if (rc && rc != -ENOSPC)
			return rc;
		skip_ws(&jp);
		jp.p++;
		skip_ws(&jp);
		if (!rc && !strcmp(name, key)) {
			if (found)
				return -EINVAL;
			found = 1;
			*at = offset(doc, &jp);
		}
		parse_value(&jp);
		skip_ws(&jp);
		if (*jp.p == '}')
			break;
		jp.p++;
	}
	return found ? 0 : -ENOENT;
}

int jsonread_first(const struct jsonread *doc, size_t arr, size_t *at)
{
	struct parser jp = value_at(doc, arr);

	if (*jp.p != '[')
		return -EINVAL;
	jp.p++;
	skip_ws(&jp);
	if (*jp.p == ']')
		return -ENOENT;
	*at = offset(doc, &jp);
	return 0;
}

int jsonread_next(const struct jsonread *doc, size_t *at)
{
	struct parser jp = value_at(doc, *at);

	parse_value(&jp);
	skip_ws(&jp);
	if (*jp.p != ',')
		return -ENOENT;
	jp.p++;
	skip_ws(&jp);
	*at = offset(doc, &jp);
	return 0;
}

int jsonread_string(const struct jsonread *doc, size_t at, char *buf, size_t size, size_t *len)
{
	struct parser jp = value_at(doc, at);
	size_t n;

	if (*jp.p != '"')
		return -EINVAL;
	return parse_string(&jp, buf, size, len ? len : &n);
}

/* The integer at offset at: its sign and magnitude; -EINVAL if it is no integer, -ERANGE beyond 64 bits. */
static int integer(const struct jsonread *doc, size_t at, int *neg, unsigned long long *mag)
{
	struct parser jp = value_at(doc, at);
	const char *v = jp.p, *p;
	unsigned long long n = 0;

	if (parse_number(&jp))
		return -EINVAL;
	for (p = v; p < jp.p; p++)
		if (*p == '.' || *p == 'e' || *p == 'E')
			return -EINVAL;
	*neg = *v == '-';
	for (p = v + *neg; p < jp.p; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (n > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	*mag = n;
	return 0;
}

int jsonread_int(const struct jsonread *doc, size_t at, long long min, long long max, long long *out)
{
	unsigned long long n;
	long long v;
	int neg, rc;

	rc = integer(doc, at, &neg, &n);
	if (rc)
		return rc;
	if (neg) {
		/* -(min + 1) + 1 is the magnitude of min, without overflowing at LLONG_MIN */
		if (min >= 0 || n > (unsigned long long)-(min + 1) + 1)
			return -ERANGE;
		v = n ? -(long long)(n - 1) - 1 : 0;
	} else {
		if (max < 0 || n > (unsigned long long)max)
			return -ERANGE;
		v = (long long)n;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int jsonread_uint(const struct jsonread *doc, size_t at, unsigned long long max, unsigned long long *out)
{
	unsigned long long n;
	int neg, rc;

	rc = integer(doc, at, &neg, &n);
	if (rc)
		return rc;
	if (neg || n > max)
		return -ERANGE;
	*out = n;
	return 0;
}

int jsonread_bool(const struct jsonread *doc, size_t at, int *out)
{
	switch (jsonread_type(doc, at)) {
	case JSONREAD_TRUE:
		*out = 1;
		return 0;
	case JSONREAD_FALSE:
		*out = 0;
		return 0;
	default:
		return -EINVAL;
	}
}
