/*
 * The metadata service: a tiny HTTP/1.x server with IMDSv2 / Firecracker MMDS V2 sessions. The request parser is
 * its own rather than mgmt/http.c's: that one is incremental with a 64 KiB body buffer per connection and tuned to
 * the API (keep-alive, methods, percent-decoding), while here every call sees the whole request so far, one
 * request per connection, and the only inputs are a path and five headers. A stateless re-parse of at most 4 KiB
 * per call keeps the user backend free of parser state and this file free of a dependency on mgmt/.
 *
 * The guest is hostile: everything is bounded by METADATA_MAX_REQUEST, anything ambiguous (duplicate token, TTL
 * or length headers, obs-fold, bare CR, NUL, Transfer-Encoding) is refused instead of interpreted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "lib/jsonstr.h"
#include "net/metadata.h"

#define TOKEN_BYTES 32			/* 256 bits from getrandom(), sent as 64 hex digits */
#define TOKEN_HEX (2 * TOKEN_BYTES)
#define MAX_HEADERS 32
#define HEAD_RESERVE 256		/* status line and headers of any response */
#define USER_DATA "user-data"

struct md_entry {
	char key[METADATA_KEY_MAX + 1];
	char *value;
	size_t len;
};

struct md_token {
	uint8_t secret[TOKEN_BYTES];
	uint64_t expires_ms;
	uint64_t serial;		/* creation order, to drop the oldest when the table is full */
	int used;
};

struct metadata {
	struct md_entry *entries;	/* sorted by key, so listings are stable */
	size_t n, alloc;
	struct md_token tokens[METADATA_MAX_TOKENS];
	uint64_t serial;
};

/* What routing needs from a request; pointers go into the caller's buffer, lengths bound them. */
struct md_request {
	const char *method, *path;
	size_t method_len, path_len;
	const char *token, *ttl;
	size_t token_len, ttl_len;
	int ntoken, nttl, forwarded, accept_json;
};

/* Output that counts when p is NULL, so a body's length is known before its headers are written. */
struct md_out {
	char *p;
	size_t cap, len;
};

enum body_kind {
	BODY_TEXT,
	BODY_LISTING,
	BODY_JSON,
};

struct md_body {
	enum body_kind kind;
	const char *type;
	const char *data;
	size_t len;
};

static void out_bytes(struct md_out *o, const void *s, size_t n)
{
	if (o->p && n <= o->cap && o->len <= o->cap - n)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_str(struct md_out *o, const char *s)
{
	out_bytes(o, s, strlen(s));
}

static int valid_key(const char *key)
{
	size_t i;

	for (i = 0; key[i]; i++) {
		if (i >= METADATA_KEY_MAX)
			return 0;
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') || key[i] == '-'))
			return 0;
	}
	return i > 0;
}

/* Finds key (len bytes, not NUL-terminated) and returns its entry, or sets *at to where it would go. */
static struct md_entry *find(const struct metadata *md, const char *key, size_t len, size_t *at)
{
	size_t lo = 0, hi = md->n, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strncmp(md->entries[mid].key, key, len);
		if (!cmp)
			cmp = md->entries[mid].key[len] ? 1 : 0;
		if (!cmp)
			return &md->entries[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (at)
		*at = lo;
	return NULL;
}

struct metadata *metadata_create(void)
{
	return calloc(1, sizeof(struct metadata));
}

void metadata_destroy(struct metadata *md)
{
	size_t i;

	if (!md)
		return;
	for (i = 0; i < md->n; i++)
		free(md->entries[i].value);
	free(md->entries);
	free(md);
}

int metadata_set(struct metadata *md, const char *key, const char *value, size_t len)
{
	struct md_entry *e, *grown;
	size_t at = 0;
	char *copy;

	if (!key || !valid_key(key) || (!value && len))
		return -EINVAL;
	if (len == SIZE_MAX)
		return -ENOMEM;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, value, len);
	copy[len] = '\0';
	e = find(md, key, strlen(key), &at);
	if (e) {
		free(e->value);
		e->value = copy;
		e->len = len;
		return 0;
	}
	if (md->n == md->alloc) {
		grown = realloc(md->entries, (md->alloc ? 2 * md->alloc : 16) * sizeof(*grown));
		if (!grown) {
			free(copy);
			return -ENOMEM;
		}
		md->entries = grown;
		md->alloc = md->alloc ? 2 * md->alloc : 16;
	}
	memmove(&md->entries[at + 1], &md->entries[at], (md->n - at) * sizeof(*e));
	e = &md->entries[at];
	strcpy(e->key, key);
	e->value = copy;
	e->len = len;
	md->n++;
	return 0;
}

static void out_cb(void *o, const char *s, size_t n)
{
	out_bytes(o, s, n);
}

static void out_body(struct md_out *o, const struct metadata *md, const struct md_body *b)
{
	const struct md_entry *e;
	int first = 1;
	size_t i;

	if (b->kind == BODY_TEXT) {
		out_bytes(o, b->data, b->len);
		return;
	}
	if (b->kind == BODY_JSON)
		out_bytes(o, "{", 1);
	for (i = 0; i < md->n; i++) {
		e = &md->entries[i];
		if (!strcmp(e->key, USER_DATA))
			continue;
		if (b->kind == BODY_LISTING) {
			out_str(o, e->key);
			out_bytes(o, "\n", 1);
			continue;
		}
		if (!first)
			out_bytes(o, ",", 1);
		first = 0;
		jsonstr_write(e->key, strlen(e->key), out_cb, o);
		out_bytes(o, ":", 1);
		jsonstr_write(e->value, e->len, out_cb, o);
	}
	if (b->kind == BODY_JSON)
		out_bytes(o, "}", 1);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

/* Writes one response; extra is one more header line with its CRLF, or "". Falls back to 500 if cap is short. */
static size_t respond(const struct metadata *md, int status, const char *extra, const struct md_body *b,
		      char *out, size_t cap)
{
	static const char short_500[] = "response too large\n";
	struct md_out count = { 0 }, o = { out, cap, 0 };
	char head[HEAD_RESERVE];
	int n;

	out_body(&count, md, b);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n%s\r\n", status, reason(status), b->type, count.len, extra);
	if (n < 0 || (size_t)n >= sizeof(head) || (size_t)n > cap || count.len > cap - (size_t)n) {
		n = snprintf(head, sizeof(head), "HTTP/1.1 500 %s\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", reason(500),
			     sizeof(short_500) - 1, short_500);
		if (n < 0 || (size_t)n > cap)
			return 0;	/* below the documented minimum cap */
		memcpy(out, head, (size_t)n);
		return (size_t)n;
	}
	out_bytes(&o, head, (size_t)n);
	out_body(&o, md, b);
	return o.len;
}

static size_t respond_text(const struct metadata *md, int status, const char *extra, const char *text,
			   char *out, size_t cap)
{
	struct md_body b = { BODY_TEXT, "text/plain", text, strlen(text) };

	return respond(md, status, extra, &b, out, cap);
}

static size_t respond_error(const struct metadata *md, int status, char *out, size_t cap)
{
	char text[64];

	snprintf(text, sizeof(text), "%d %s\n", status, reason(status));
	return respond_text(md, status, "", text, out, cap);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

static int name_is(const char *s, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!name[i] || lower((unsigned char)s[i]) != name[i])
			return 0;
	return !name[len];
}

/* Whether needle (lower case) occurs in s[0..len), ignoring case. */
static int contains(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (name_is(s + i, n, needle))
			return 1;
	return 0;
}

static int tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A decimal of at most digits digits, nothing else; -1 otherwise. */
static long parse_decimal(const char *s, size_t len, size_t digits)
{
	long v = 0;
	size_t i;

	if (!len || len > digits)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The end of the first empty line within the first max bytes, or 0 if there is none yet. */
static size_t head_end(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < max && s[i + 1] == '\n')
			return i + 2;
		if (i + 2 < max && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int parse_request_line(const char *s, size_t len, struct md_request *r)
{
	const char *sp1 = memchr(s, ' ', len), *sp2, *version;
	size_t i;

	if (!sp1 || sp1 == s)
		return 400;
	for (i = 0; s + i < sp1; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return 400;
	r->method = s;
	r->method_len = (size_t)(sp1 - s);
	sp2 = memchr(sp1 + 1, ' ', len - r->method_len - 1);
	if (!sp2)
		return 400;
	r->path = sp1 + 1;
	r->path_len = (size_t)(sp2 - r->path);
	if (!r->path_len || r->path[0] != '/')
		return 400;
	for (i = 0; i < r->path_len; i++)
		if ((unsigned char)r->path[i] <= ' ' || r->path[i] == 0x7f)
			return 400;
	version = sp2 + 1;
	len -= (size_t)(version - s);
	if (len != 8 || memcmp(version, "HTTP/", 5) || version[5] < '0' || version[5] > '9' || version[6] != '.' ||
	    version[7] < '0' || version[7] > '9')
		return 400;
	if (version[5] != '1' || version[7] > '1')
		return 505;
	/* The query string names nothing here. */
	for (i = 0; i < r->path_len; i++)
		if (r->path[i] == '?')
			r->path_len = i;
	return 0;
}

static int parse_header(const char *s, size_t len, struct md_request *r, long *content_length)
{
	const char *colon = memchr(s, ':', len), *v;
	size_t name_len, vlen, i;
	long cl;

	if (!colon || colon == s)
		return 400;
	name_len = (size_t)(colon - s);
	for (i = 0; i < name_len; i++)
		if (!tchar((unsigned char)s[i]))
			return 400;		/* also "Name :" and obs-fold, which start with whitespace */
	v = colon + 1;
	vlen = len - name_len - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (i = 0; i < vlen; i++)
		if (((unsigned char)v[i] < ' ' && v[i] != '\t') || v[i] == 0x7f)
			return 400;

	if (name_is(s, name_len, "x-metadata-token") || name_is(s, name_len, "x-aws-ec2-metadata-token")) {
		r->token = v;
		r->token_len = vlen;
		r->ntoken++;
	} else if (name_is(s, name_len, "x-metadata-token-ttl-seconds") ||
		   name_is(s, name_len, "x-aws-ec2-metadata-token-ttl-seconds")) {
		r->ttl = v;
		r->ttl_len = vlen;
		r->nttl++;
	} else if (name_is(s, name_len, "x-forwarded-for")) {
		r->forwarded = 1;
	} else if (name_is(s, name_len, "accept")) {
		r->accept_json |= contains(v, vlen, "application/json");
	} else if (name_is(s, name_len, "content-length")) {
		if (*content_length >= 0)
			return 400;
		cl = parse_decimal(v, vlen, 18);
		if (cl < 0)
			return 400;
		if (cl > METADATA_MAX_BODY)
			return 413;
		*content_length = cl;
	} else if (name_is(s, name_len, "transfer-encoding")) {
		return 501;
	}
	return 0;
}

/*
 * Parses the first request in s. Returns 0 when it is complete and acceptable, -1 when more bytes are needed,
 * else the error status to answer with.
 */
static int parse(const char *s, size_t len, struct md_request *r)
{
	size_t max = len < METADATA_MAX_REQUEST ? len : METADATA_MAX_REQUEST, end, pos, eol, line;
	long content_length = -1;
	int status, nheaders = 0;

	end = head_end(s, max);
	if (!end)
		return len >= METADATA_MAX_REQUEST ? 400 : -1;
	if (memchr(s, '\0', end))
		return 400;
	for (pos = 0; ; pos = eol + 1) {
		eol = (size_t)((const char *)memchr(s + pos, '\n', end - pos) - s);
		line = eol - pos;
		if (line && s[eol - 1] == '\r')
			line--;
		if (memchr(s + pos, '\r', line))
			return 400;		/* a bare CR: smuggling material, never sent by real clients */
		if (!line) {
			if (!pos)
				return 400;
			break;
		}
		if (!pos)
			status = parse_request_line(s, line, r);
		else if (++nheaders > MAX_HEADERS)
			status = 400;
		else
			status = parse_header(s + pos, line, r, &content_length);
		if (status)
			return status;
	}
	if (content_length > 0) {
		if (end + (size_t)content_length > METADATA_MAX_REQUEST)
			return 413;
		if (len < end + (size_t)content_length)
			return -1;
	}
	return 0;
}

static void hex_encode(char *hex, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether the presented token is live. Every slot is compared in full so timing says nothing about secrets. */
static int token_valid(const struct metadata *md, const char *hex, size_t len, uint64_t now_ms)
{
	uint8_t b[TOKEN_BYTES], diff;
	int hi, lo, found = 0;
	size_t i, j;

	if (len != TOKEN_HEX)
		return 0;
	for (i = 0; i < TOKEN_BYTES; i++) {
		hi = hex_digit(hex[2 * i]);
		lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	for (i = 0; i < METADATA_MAX_TOKENS; i++) {
		diff = 0;
		for (j = 0; j < TOKEN_BYTES; j++)
			diff |= (uint8_t)(md->tokens[i].secret[j] ^ b[j]);
		found |= md->tokens[i].used && now_ms < md->tokens[i].expires_ms && !diff;
	}
	return found;
}

static size_t new_token(struct metadata *md, const struct md_request *r, uint64_t now_ms, char *out, size_t cap)
{
	struct md_token *t = NULL;
	char hex[TOKEN_HEX], extra[64];
	struct md_body b = { BODY_TEXT, "text/plain", hex, sizeof(hex) };
	uint8_t secret[TOKEN_BYTES];
	size_t got = 0, i;
	ssize_t n;
	long ttl;

	/* IMDSv2's rule: a proxy in the guest adds X-Forwarded-For, and must not be able to obtain tokens. */
	if (r->forwarded)
		return respond_error(md, 403, out, cap);
	ttl = r->nttl == 1 ? parse_decimal(r->ttl, r->ttl_len, 5) : -1;
	if (ttl < 1 || ttl > METADATA_MAX_TTL)
		return respond_text(md, 400, "", "400 Bad Request: X-metadata-token-ttl-seconds must be 1..21600\n",
				    out, cap);
	while (got < sizeof(secret)) {
		n = getrandom(secret + got, sizeof(secret) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return respond_error(md, 500, out, cap);
		got += (size_t)n;
	}
	/* A free or expired slot first, else the oldest token goes. */
	for (i = 0; i < METADATA_MAX_TOKENS; i++) {
		if (!md->tokens[i].used || now_ms >= md->tokens[i].expires_ms) {
			t = &md->tokens[i];
			break;
		}
		if (!t || md->tokens[i].serial < t->serial)
			t = &md->tokens[i];
	}
	memcpy(t->secret, secret, sizeof(secret));
	t->expires_ms = now_ms + (uint64_t)ttl * 1000;
	t->serial = ++md->serial;
	t->used = 1;
	hex_encode(hex, secret, sizeof(secret));
	snprintf(extra, sizeof(extra), "X-metadata-token-ttl-seconds: %ld\r\n", ttl);
	return respond(md, 200, extra, &b, out, cap);
}

static int path_is(const struct md_request *r, const char *path)
{
	return strlen(path) == r->path_len && !memcmp(r->path, path, r->path_len);
}

#define META "/latest/meta-data/"

static size_t get(const struct metadata *md, const struct md_request *r, char *out, size_t cap)
{
	struct md_body b = { BODY_TEXT, "text/plain", NULL, 0 };
	const struct md_entry *e;
	size_t plen = strlen(META);

	if (path_is(r, "/"))
		return respond_text(md, 200, "", "latest\n", out, cap);
	if (path_is(r, "/latest") || path_is(r, "/latest/"))
		return respond_text(md, 200, "", "meta-data\nuser-data\n", out, cap);
	if (path_is(r, "/latest/meta-data") || path_is(r, META) || path_is(r, "/latest/meta-data.json")) {
		if (r->accept_json || path_is(r, "/latest/meta-data.json")) {
			b.kind = BODY_JSON;
			b.type = "application/json";
		} else {
			b.kind = BODY_LISTING;
		}
		return respond(md, 200, "", &b, out, cap);
	}
	if (path_is(r, "/latest/user-data"))
		e = find(md, USER_DATA, strlen(USER_DATA), NULL);
	else if (r->path_len > plen && !memcmp(r->path, META, plen) &&
		 !memchr(r->path + plen, '/', r->path_len - plen) &&
		 (r->path_len - plen != strlen(USER_DATA) || memcmp(r->path + plen, USER_DATA, strlen(USER_DATA))))
		e = find(md, r->path + plen, r->path_len - plen, NULL);
	else
		e = NULL;
	if (!e)
		return respond_error(md, 404, out, cap);
	b.data = e->value;
	b.len = e->len;
	if (!strcmp(e->key, USER_DATA))
		b.type = "application/octet-stream";
	return respond(md, 200, "", &b, out, cap);
}

size_t metadata_handle(struct metadata *md, const char *req, size_t len, uint64_t now_ms, char *out, size_t cap)
{
	struct md_request r = { 0 };
	int status = parse(req, len, &r);

	if (status < 0)
		return 0;
	if (status)
		return respond_error(md, status, out, cap);
	if (r.method_len == 3 && !memcmp(r.method, "PUT", 3)) {
		if (path_is(&r, "/latest/api/token"))
			return new_token(md, &r, now_ms, out, cap);
		return respond_text(md, 405, "Allow: GET\r\n", "405 Method Not Allowed\n", out, cap);
	}
	if (r.method_len != 3 || memcmp(r.method, "GET", 3))
		return respond_text(md, 405, "Allow: GET, PUT\r\n", "405 Method Not Allowed\n", out, cap);
	if (path_is(&r, "/latest/api/token"))
		return respond_text(md, 405, "Allow: PUT\r\n", "405 Method Not Allowed\n", out, cap);
	if (r.ntoken > 1)
		return respond_error(md, 400, out, cap);
	if (!r.ntoken || !token_valid(md, r.token, r.token_len, now_ms))
		return respond_text(md, 401, "", "401 Unauthorized: missing, unknown or expired token; get one with "
				    "PUT /latest/api/token\n", out, cap);
	return get(md, &r, out, cap);
}

size_t metadata_response_max(const struct metadata *md)
{
	struct md_out json = { 0 }, listing = { 0 };
	struct md_body b = { BODY_JSON, "", NULL, 0 };
	size_t max = HEAD_RESERVE, i;

	out_body(&json, md, &b);
	b.kind = BODY_LISTING;
	out_body(&listing, md, &b);
	if (json.len > max)
		max = json.len;
	if (listing.len > max)
		max = listing.len;
	for (i = 0; i < md->n; i++)
		if (md->entries[i].len > max)
			max = md->entries[i].len;
	return HEAD_RESERVE + max;
}
