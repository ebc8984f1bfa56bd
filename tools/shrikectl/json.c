#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_DEPTH 32
#define MAX_TOKENS (1 << 20)

struct parser {
	struct json *j;
	const char *s;
	size_t pos, len;
};

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
				   p->s[p->pos] == '\r'))
		p->pos++;
}

static int add(struct parser *p, enum json_type type, size_t start)
{
	struct json *j = p->j;
	struct json_token *t;

	if (j->count == j->size) {
		int size = j->size ? j->size * 2 : 64;

		if (size > MAX_TOKENS)
			return -EINVAL;
		t = realloc(j->tok, (size_t)size * sizeof(*t));
		if (!t)
			return -ENOMEM;
		j->tok = t;
		j->size = size;
	}
	t = &j->tok[j->count];
	t->type = type;
	t->start = start;
	t->end = start;
	t->next = j->count + 1;
	return j->count++;
}

static int hex4(const char *s)
{
	int v = 0, i, c;

	for (i = 0; i < 4; i++) {
		c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static int string(struct parser *p)
{
	int t;

	p->pos++;	/* the opening quote */
	t = add(p, JSON_STRING, p->pos);
	if (t < 0)
		return t;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];

		if (c == '"') {
			p->j->tok[t].end = p->pos++;
			return 0;
		}
		if (c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			if (p->pos + 1 >= p->len)
				return -EINVAL;
			c = (unsigned char)p->s[p->pos + 1];
			if (c == 'u') {
				if (p->pos + 6 > p->len || hex4(p->s + p->pos + 2) < 0)
					return -EINVAL;
				p->pos += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c))
				return -EINVAL;
			p->pos++;
		}
		p->pos++;
	}
	return -EINVAL;
}

static int value(struct parser *p, int depth);

static int container(struct parser *p, int depth, int object)
{
	int t, rc, first = 1;
	char close = object ? '}' : ']';

	if (depth >= MAX_DEPTH)
		return -EINVAL;
	t = add(p, object ? JSON_OBJECT : JSON_ARRAY, p->pos);
	if (t < 0)
		return t;
	p->pos++;
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->len)
			return -EINVAL;
		if (p->s[p->pos] == close && first)
			break;
		if (!first) {
			if (p->s[p->pos] == close)
				break;
			if (p->s[p->pos] != ',')
				return -EINVAL;
			p->pos++;
			skip_ws(p);
		}
		first = 0;
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return -EINVAL;
			rc = string(p);
			if (rc)
				return rc;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return -EINVAL;
			p->pos++;
		}
		rc = value(p, depth + 1);
		if (rc)
			return rc;
	}
	p->pos++;
	p->j->tok[t].end = p->pos;
	p->j->tok[t].next = p->j->count;
	return 0;
}

static int literal(struct parser *p, const char *word, enum json_type type)
{
	size_t n = strlen(word);
	int t;

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return -EINVAL;
	t = add(p, type, p->pos);
	if (t < 0)
		return t;
	p->pos += n;
	p->j->tok[t].end = p->pos;
	return 0;
}

static int number(struct parser *p)
{
	size_t start = p->pos;
	int t;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
		return -EINVAL;
	while (p->pos < p->len && strchr("0123456789.eE+-", p->s[p->pos]))
		p->pos++;
	t = add(p, JSON_NUMBER, start);
	if (t < 0)
		return t;
	p->j->tok[t].end = p->pos;
	return 0;
}

static int value(struct parser *p, int depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return -EINVAL;
	switch (p->s[p->pos]) {
	case '{': return container(p, depth, 1);
	case '[': return container(p, depth, 0);
	case '"': return string(p);
	case 't': return literal(p, "true", JSON_TRUE);
	case 'f': return literal(p, "false", JSON_FALSE);
	case 'n': return literal(p, "null", JSON_NULL);
	default: return number(p);
	}
}

int json_parse(struct json *j, const char *text, size_t len)
{
	struct parser p = { .j = j, .s = text, .len = len };
	int rc;

	memset(j, 0, sizeof(*j));
	j->text = text;
	rc = value(&p, 0);
	skip_ws(&p);
	if (!rc && p.pos != len)
		rc = -EINVAL;
	return rc;
}

void json_free(struct json *j)
{
	free(j->tok);
	j->tok = NULL;
	j->count = j->size = 0;
}

int json_get(const struct json *j, int obj, const char *key)
{
	size_t n = strlen(key);
	int k;

	if (obj < 0 || obj >= j->count || j->tok[obj].type != JSON_OBJECT)
		return -1;
	/* keys of this object are every other token from obj + 1, each followed by its value */
	for (k = obj + 1; k < j->tok[obj].next; k = j->tok[k + 1].next) {
		const struct json_token *t = &j->tok[k];

		if (t->end - t->start == n && !memcmp(j->text + t->start, key, n))
			return k + 1;
	}
	return -1;
}

int json_first(const struct json *j, int arr)
{
	if (arr < 0 || arr >= j->count || j->tok[arr].type != JSON_ARRAY || j->tok[arr].next == arr + 1)
		return -1;
	return arr + 1;
}

int json_next(const struct json *j, int arr, int elem)
{
	if (elem < 0 || j->tok[elem].next >= j->tok[arr].next)
		return -1;
	return j->tok[elem].next;
}

static size_t put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes into out (size >= 1), never more than size - 1 bytes; returns the decoded length. */
static size_t decode(const struct json *j, int tok, char *out, size_t size)
{
	const struct json_token *t = &j->tok[tok];
	const char *s = j->text + t->start, *e = j->text + t->end;
	size_t n = 0, w;
	char tmp[4];

	while (s < e && n + 1 < size) {
		unsigned int cp;

		if (t->type != JSON_STRING || *s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s++) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = (unsigned int)hex4(s);
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && e - s >= 6 && s[0] == '\\' && s[1] == 'u') {
				int lo = hex4(s + 2);

				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned int)lo - 0xdc00);
					s += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;	/* a lone surrogate */
			break;
		default: cp = (unsigned char)s[-1]; break;	/* \" \\ \/ */
		}
		w = put_utf8(tmp, cp);
		if (n + w + 1 > size)
			break;
		memcpy(out + n, tmp, w);
		n += w;
	}
	out[n] = '\0';
	return n;
}

const char *json_str(const struct json *j, int tok, char *out, size_t size)
{
	if (tok < 0 || tok >= j->count || j->tok[tok].type == JSON_OBJECT || j->tok[tok].type == JSON_ARRAY ||
	    j->tok[tok].type == JSON_NULL) {
		snprintf(out, size, "-");
		return out;
	}
	decode(j, tok, out, size);
	return out;
}

char *json_strdup(const struct json *j, int tok)
{
	size_t size = tok >= 0 && tok < j->count ? j->tok[tok].end - j->tok[tok].start + 1 : 2;
	char *out = malloc(size);

	if (out)
		json_str(j, tok, out, size);
	return out;
}

unsigned long long json_uint(const struct json *j, int tok, unsigned long long dflt)
{
	char buf[32], *end;
	unsigned long long v;

	if (tok < 0 || tok >= j->count || j->tok[tok].type != JSON_NUMBER)
		return dflt;
	decode(j, tok, buf, sizeof(buf));
	if (buf[0] == '-')
		return dflt;
	errno = 0;
	v = strtoull(buf, &end, 10);
	return errno || *end ? dflt : v;
}

int json_bool(const struct json *j, int tok)
{
	if (tok < 0 || tok >= j->count)
		return -1;
	return j->tok[tok].type == JSON_TRUE ? 1 : j->tok[tok].type == JSON_FALSE ? 0 : -1;
}
