/* unit-sources: vmm/net/metadata.c vmm/lib/jsonstr.c vmm/lib/utf8.c */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/metadata.h"

#define CHECK_OK(call)						\
	do {							\
		const char *f_ = (call);			\
		if (f_)						\
			return f_;				\
	} while (0)

/* The last response, NUL-terminated for CHECK_STR (a binary body is compared with memcmp and resp_len). */
static char resp[16384];
static size_t resp_len;

/* Hands the request to the service from a heap copy of exactly len bytes, so ASan sees reads past the end. */
static size_t handle_n(struct metadata *md, const char *req, size_t len, uint64_t now)
{
	char *copy = malloc(len ? len : 1);

	memcpy(copy, req, len);
	resp_len = metadata_handle(md, copy, len, now, resp, sizeof(resp) - 1);
	resp[resp_len] = '\0';
	free(copy);
	return resp_len;
}

static size_t handle(struct metadata *md, const char *req, uint64_t now)
{
	return handle_n(md, req, strlen(req), now);
}

static int status(void)
{
	int s = 0;

	if (sscanf(resp, "HTTP/1.1 %d ", &s) != 1)
		return -1;
	return s;
}

static const char *body(void)
{
	const char *b = strstr(resp, "\r\n\r\n");

	return b ? b + 4 : "";
}

/* Takes a token with the given TTL at now into tok (65 bytes). */
static const char *get_token(struct metadata *md, int ttl, uint64_t now, char *tok)
{
	char req[128];

	snprintf(req, sizeof(req), "PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: %d\r\n\r\n", ttl);
	CHECK(handle(md, req, now) > 0);
	CHECK_INT(status(), 200);
	CHECK_INT(strlen(body()), 64);
	strcpy(tok, body());
	return NULL;
}

/* GET path with token (NULL: none) at now; returns the status. */
static int get(struct metadata *md, const char *path, const char *tok, uint64_t now)
{
	char req[512];

	if (tok)
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 169.254.169.254\r\nX-metadata-token: %s\r\n\r\n",
			 path, tok);
	else
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n", path);
	if (!handle(md, req, now))
		return 0;
	return status();
}

static struct metadata *sample(void)
{
	struct metadata *md = metadata_create();

	if (!md)
		abort();
	if (metadata_set(md, "name", "web", 3) || metadata_set(md, "mem", "256M", 4) ||
	    metadata_set(md, "user-data", "#!/bin/sh\0echo hi\n", 18))
		abort();
	return md;
}

static const char *test_token_flow(void)
{
	static const char want_head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 64\r\n"
					"Connection: close\r\nX-metadata-token-ttl-seconds: 60\r\n\r\n";
	struct metadata *md = sample();
	char tok[65], tok2[65], req[256];
	size_t i;

	CHECK(handle(md, "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
		     "X-metadata-token-ttl-seconds: 60\r\n\r\n", 1000) > 0);
	CHECK(!strncmp(resp, want_head, sizeof(want_head) - 1));
	CHECK_INT(resp_len, sizeof(want_head) - 1 + 64);
	strcpy(tok, body());
	for (i = 0; i < 64; i++)
		CHECK((tok[i] >= '0' && tok[i] <= '9') || (tok[i] >= 'a' && tok[i] <= 'f'));

	snprintf(req, sizeof(req), "GET /latest/meta-data/name HTTP/1.1\r\nX-metadata-token: %s\r\n\r\n", tok);
	CHECK(handle(md, req, 2000) > 0);
	CHECK_STR(resp, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
		  "Connection: close\r\n\r\nweb");

	/* The AWS header names, any case, and HTTP/1.0. */
	CHECK(handle(md, "PUT /latest/api/token HTTP/1.0\r\nx-AWS-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n",
		     2000) > 0);
	CHECK_INT(status(), 200);
	strcpy(tok2, body());
	CHECK(strcmp(tok, tok2));
	snprintf(req, sizeof(req), "GET /latest/meta-data/mem HTTP/1.0\r\nX-Aws-Ec2-Metadata-Token: %s\r\n\r\n", tok2);
	CHECK(handle(md, req, 3000) > 0);
	CHECK_INT(status(), 200);
	CHECK_STR(body(), "256M");
	/* Both tokens stay valid side by side. */
	CHECK_INT(get(md, "/latest/meta-data/name", tok, 3000), 200);
	metadata_destroy(md);
	return NULL;
}

static const char *test_unauthorized(void)
{
	static const char want[] = "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 88\r\n"
				   "Connection: close\r\n\r\n401 Unauthorized: missing, unknown or expired token; "
				   "get one with PUT /latest/api/token\n";
	struct metadata *md = sample();
	char tok[65], bad[65], req[256];

	CHECK_OK(get_token(md, 10, 5000, tok));
	CHECK_INT(get(md, "/latest/meta-data/name", NULL, 5000), 401);
	CHECK_STR(resp, want);
	/* Every path needs the token, even / and ones that do not exist. */
	CHECK_INT(get(md, "/", NULL, 5000), 401);
	CHECK_INT(get(md, "/nope", NULL, 5000), 401);
	strcpy(bad, tok);
	bad[63] = bad[63] == '0' ? '1' : '0';
	CHECK_INT(get(md, "/latest/meta-data/name", bad, 5000), 401);
	CHECK_STR(resp, want);
	bad[63] = tok[63];
	bad[10] = (char)(tok[10] >= 'a' ? tok[10] - 'a' + 'A' : tok[10] == '0' ? 'x' : tok[10]);
	if (bad[10] != tok[10])
		CHECK_INT(get(md, "/latest/meta-data/name", bad, 5000), 401);
	bad[10] = tok[10];
	bad[62] = '\0';
	CHECK_INT(get(md, "/latest/meta-data/name", bad, 5000), 401);
	CHECK_INT(get(md, "/latest/meta-data/name", "", 5000), 401);
	/* 10 s: valid to the last millisecond, then gone. */
	CHECK_INT(get(md, "/latest/meta-data/name", tok, 14999), 200);
	CHECK_INT(get(md, "/latest/meta-data/name", tok, 15000), 401);
	CHECK_STR(resp, want);
	/* Two token headers, even the same one twice, are refused. */
	CHECK_OK(get_token(md, 10, 20000, tok));
	CHECK_INT(get(md, "/", tok, 20000), 200);
	CHECK_STR(body(), "latest\n");
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-metadata-token: %s\r\nX-aws-ec2-metadata-token: %s\r\n\r\n",
		 tok, tok);
	CHECK(handle(md, req, 20000) > 0);
	CHECK_INT(status(), 400);
	metadata_destroy(md);
	return NULL;
}

static const char *test_ttl_bounds(void)
{
	static const struct {
		const char *header;
		int status;
	} cases[] = {
		{ "X-metadata-token-ttl-seconds: 1\r\n", 200 },
		{ "X-metadata-token-ttl-seconds: 21600\r\n", 200 },
		{ "X-metadata-token-ttl-seconds:\t 300 \t\r\n", 200 },
		{ "X-metadata-token-ttl-seconds: 00300\r\n", 200 },
		{ "X-metadata-token-ttl-seconds: 0\r\n", 400 },
		{ "X-metadata-token-ttl-seconds: 21601\r\n", 400 },
		{ "X-metadata-token-ttl-seconds: 100000\r\n", 400 },
		{ "X-metadata-token-ttl-seconds: 99999999999999999999999\r\n", 400 },
		{ "X-metadata-token-ttl-seconds: -1\r\n", 400 },
		{ "X-metadata-token-ttl-seconds: +5\r\n", 400 },
		{ "X-metadata-token-ttl-seconds: 5s\r\n", 400 },
		{ "X-metadata-token-ttl-seconds: 5 5\r\n", 400 },
		{ "X-metadata-token-ttl-seconds:\r\n", 400 },
		{ "", 400 },
		{ "X-metadata-token-ttl-seconds: 5\r\nX-aws-ec2-metadata-token-ttl-seconds: 5\r\n", 400 },
		/* A proxy in the guest must not relay tokens (IMDSv2). */
		{ "X-metadata-token-ttl-seconds: 5\r\nX-Forwarded-For: 10.0.2.15\r\n", 403 },
		{ "x-forwarded-for:\r\n", 403 },
	};
	struct metadata *md = sample();
	char req[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(req, sizeof(req), "PUT /latest/api/token HTTP/1.1\r\n%s\r\n", cases[i].header);
		CHECK(handle(md, req, 1) > 0);
		if (status() != cases[i].status)
			return check_fail(__FILE__, __LINE__, "TTL case %zu: status %d, expected %d", i, status(),
					  cases[i].status);
	}
	CHECK(handle(md, "PUT /latest/api/token HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n"
		     "X-metadata-token-ttl-seconds: 5\r\n\r\n", 1) > 0);
	CHECK_STR(resp, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
		  "Connection: close\r\n\r\n403 Forbidden\n");
	metadata_destroy(md);
	return NULL;
}

static const char *test_listing_and_json(void)
{
	/* A quote, a backslash, controls, DEL, é, 😀, then invalid UTF-8: a stray byte, an overlong '/', a surrogate. */
	static const char value[] = "q\"b\\\n\x01\x1f\x7f \xc3\xa9 \xf0\x9f\x98\x80 "
				    "\xff \xc0\xaf \xed\xa0\x80 \xe2\x82";
	static const char json[] = "{\"a\":\"q\\\"b\\\\\\n\\u0001\\u001f\\u007f \xc3\xa9 \xf0\x9f\x98\x80 "
				   "\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
				   "\xef\xbf\xbd\xef\xbf\xbd\",\"mem\":\"256M\","
				   "\"name\":\"web\",\"z\":\"\"}";
	struct metadata *md = sample();
	char tok[65], req[256];

	CHECK_INT(metadata_set(md, "z", NULL, 0), 0);
	CHECK_INT(metadata_set(md, "a", value, sizeof(value) - 1), 0);
	CHECK_OK(get_token(md, 100, 0, tok));

	CHECK_INT(get(md, "/latest/meta-data/", tok, 1), 200);
	CHECK_STR(resp, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
		  "Connection: close\r\n\r\na\nmem\nname\nz\n");
	CHECK_INT(get(md, "/latest/meta-data", tok, 1), 200);
	CHECK_STR(body(), "a\nmem\nname\nz\n");
	CHECK_INT(get(md, "/latest/meta-data/z", tok, 1), 200);
	CHECK(strstr(resp, "Content-Length: 0\r\n"));
	CHECK_STR(body(), "");

	CHECK_INT(get(md, "/latest/meta-data.json", tok, 1), 200);
	CHECK(strstr(resp, "\r\nContent-Type: application/json\r\n"));
	CHECK_STR(body(), json);
	snprintf(req, sizeof(req), "GET /latest/meta-data HTTP/1.1\r\nAccept: text/html, Application/JSON;q=0.9\r\n"
		 "X-metadata-token: %s\r\n\r\n", tok);
	CHECK(handle(md, req, 1) > 0);
	CHECK_INT(status(), 200);
	CHECK_STR(body(), json);
	snprintf(req, sizeof(req), "GET /latest/meta-data/ HTTP/1.1\r\naccept: application/json\r\n"
		 "X-metadata-token: %s\r\n\r\n", tok);
	CHECK(handle(md, req, 1) > 0);
	CHECK_STR(body(), json);
	/* A raw value is sent as it is. */
	CHECK_INT(get(md, "/latest/meta-data/a", tok, 1), 200);
	CHECK(!strcmp(body(), value));

	/* Replacing a key, and an empty store. */
	CHECK_INT(metadata_set(md, "a", "x", 1), 0);
	CHECK_INT(get(md, "/latest/meta-data.json", tok, 1), 200);
	CHECK_STR(body(), "{\"a\":\"x\",\"mem\":\"256M\",\"name\":\"web\",\"z\":\"\"}");
	metadata_destroy(md);
	md = metadata_create();
	CHECK_OK(get_token(md, 100, 0, tok));
	CHECK_INT(get(md, "/latest/meta-data.json", tok, 1), 200);
	CHECK_STR(body(), "{}");
	CHECK_INT(get(md, "/latest/meta-data/", tok, 1), 200);
	CHECK_STR(body(), "");
	CHECK_INT(get(md, "/latest/", tok, 1), 200);
	CHECK_STR(body(), "meta-data\nuser-data\n");
	metadata_destroy(md);
	return NULL;
}

static const char *test_user_data(void)
{
	struct metadata *md = sample();
	char tok[65];
	const char *b;

	CHECK_OK(get_token(md, 100, 0, tok));
	CHECK_INT(get(md, "/latest/user-data", tok, 1), 200);
	CHECK(!strncmp(resp, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 18\r\n"
		       "Connection: close\r\n\r\n", 98));
	CHECK_INT(resp_len, 98 + 18);
	b = body();
	CHECK(!memcmp(b, "#!/bin/sh\0echo hi\n", 18));
	/* It is not meta-data: not listed, not in JSON, not under /latest/meta-data/. */
	CHECK_INT(get(md, "/latest/meta-data/user-data", tok, 1), 404);
	CHECK_INT(get(md, "/latest/meta-data/", tok, 1), 200);
	CHECK_STR(body(), "mem\nname\n");
	CHECK_INT(get(md, "/latest/meta-data.json", tok, 1), 200);
	CHECK_STR(body(), "{\"mem\":\"256M\",\"name\":\"web\"}");
	metadata_destroy(md);

	md = metadata_create();
	CHECK_OK(get_token(md, 100, 0, tok));
	CHECK_INT(get(md, "/latest/user-data", tok, 1), 404);
	CHECK_STR(resp, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
		  "Connection: close\r\n\r\n404 Not Found\n");
	metadata_destroy(md);
	return NULL;
}

static const char *test_paths_and_methods(void)
{
	static const struct {
		const char *req;
		int status;
		const char *allow;
	} cases[] = {
		{ "GET /latest/meta-data/nokey", 404, NULL },
		{ "GET /latest/meta-data/name/", 404, NULL },
		{ "GET /latest/meta-data/name/x", 404, NULL },
		{ "GET /latest/meta-data//name", 404, NULL },
		{ "GET /latest/meta-data/NAME", 404, NULL },
		{ "GET /latest/meta-data/%6eame", 404, NULL },
		{ "GET /latest/meta-data/name?x=1", 200, NULL },
		{ "GET /latest/meta-data/../meta-data/name", 404, NULL },
		{ "GET /latest/meta-dat", 404, NULL },
		{ "GET /2009-04-04/meta-data/", 404, NULL },
		{ "GET /latest/api/token", 405, "Allow: PUT\r\n" },
		{ "PUT /latest/meta-data/name", 405, "Allow: GET\r\n" },
		{ "POST /latest/meta-data/name", 405, "Allow: GET, PUT\r\n" },
		{ "DELETE /latest/api/token", 405, "Allow: GET, PUT\r\n" },
		{ "HEAD /", 405, "Allow: GET, PUT\r\n" },
		{ "OPTIONS /", 405, "Allow: GET, PUT\r\n" },
	};
	struct metadata *md = sample();
	char tok[65], req[256];
	size_t i;

	CHECK_OK(get_token(md, 100, 0, tok));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(req, sizeof(req), "%s HTTP/1.1\r\nX-metadata-token: %s\r\n\r\n", cases[i].req, tok);
		CHECK(handle(md, req, 1) > 0);
		if (status() != cases[i].status)
			return check_fail(__FILE__, __LINE__, "%s: status %d, expected %d", cases[i].req, status(),
					  cases[i].status);
		if (cases[i].allow && !strstr(resp, cases[i].allow))
			return check_fail(__FILE__, __LINE__, "%s: no %s", cases[i].req, cases[i].allow);
	}
	/* A method other than GET and PUT is refused before the token is even looked at. */
	CHECK(handle(md, "POST / HTTP/1.1\r\n\r\n", 1) > 0);
	CHECK_STR(resp, "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
		  "Connection: close\r\nAllow: GET, PUT\r\n\r\n405 Method Not Allowed\n");
	metadata_destroy(md);
	return NULL;
}

static const char *test_malformed(void)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/1.2\r\n\r\n", 505 },
		{ "GET / HTTP/0.9\r\n\r\n", 505 },
		{ "GET / HTTP/1.1x\r\n\r\n", 400 },
		{ "GET / http/1.1\r\n\r\n", 400 },
		{ "GET /\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\n\r\n", 400 },
		{ "get / HTTP/1.1\r\n\r\n", 400 },
		{ " GET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET http://169.254.169.254/ HTTP/1.1\r\n\r\n", 400 },
		{ "GET * HTTP/1.1\r\n\r\n", 400 },
		{ "\r\nGET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nName : v\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n: v\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400 },		/* obs-fold */
		{ "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400 },			/* bare CR */
		{ "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501 },
		{ "PUT /latest/api/token HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413 },
		{ "PUT /latest/api/token HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400 },
		{ "PUT /latest/api/token HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400 },
		{ "PUT /latest/api/token HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
		/* Valid ones for contrast: LF line ends, an unknown header, a body on GET that is ignored. */
		{ "PUT /latest/api/token HTTP/1.1\nX-metadata-token-ttl-seconds: 5\n\n", 200 },
		{ "PUT /latest/api/token HTTP/1.1\r\nX-Thing: \xc3\xa9\r\nX-metadata-token-ttl-seconds: 5\r\n\r\n",
		  200 },
		{ "PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: 5\r\nContent-Length: 4\r\n\r\nbody",
		  200 },
		{ "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy", 405 },
	};
	struct metadata *md = sample();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!handle(md, cases[i].req, 1))
			return check_fail(__FILE__, __LINE__, "case %zu: no answer", i);
		if (status() != cases[i].status)
			return check_fail(__FILE__, __LINE__, "case %zu: status %d, expected %d", i, status(),
					  cases[i].status);
	}
	/* A NUL in the head. */
	CHECK(handle_n(md, "GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24, 1) > 0);
	CHECK_INT(status(), 400);
	metadata_destroy(md);
	return NULL;
}

static const char *test_header_count(void)
{
	struct metadata *md = sample();
	char req[2048];
	size_t len;
	int i;

	for (int n = 32; n <= 33; n++) {
		len = (size_t)snprintf(req, sizeof(req), "PUT /latest/api/token HTTP/1.1\r\n"
				       "X-metadata-token-ttl-seconds: 5\r\n");
		for (i = 1; i < n; i++)
			len += (size_t)snprintf(req + len, sizeof(req) - len, "X-%d: y\r\n", i);
		snprintf(req + len, sizeof(req) - len, "\r\n");
		CHECK(handle(md, req, 1) > 0);
		CHECK_INT(status(), n == 32 ? 200 : 400);
	}
	metadata_destroy(md);
	return NULL;
}

static const char *test_split(void)
{
	struct metadata *md = sample();
	char tok[65], req[512], put[] = "PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: 5\r\n"
					"Content-Length: 5\r\n\r\nhello";
	size_t len, n;

	CHECK_OK(get_token(md, 100, 0, tok));
	len = (size_t)snprintf(req, sizeof(req), "GET /latest/meta-data/name HTTP/1.1\r\nHost: x\r\n"
			       "X-metadata-token: %s\r\n\r\n", tok);
	for (n = 0; n < len; n++)
		if (handle_n(md, req, n, 1))
			return check_fail(__FILE__, __LINE__, "answered after %zu of %zu bytes", n, len);
	CHECK(handle_n(md, req, len, 1) > 0);
	CHECK_STR(body(), "web");
	/* Bytes after the request (pipelining, a stray body) change nothing. */
	memcpy(req + len, "GET / HTTP/1.1\r\n\r\n", 19);
	CHECK(handle_n(md, req, len + 18, 1) > 0);
	CHECK_STR(body(), "web");
	/* A PUT waits for its declared body too. */
	for (n = 0; n < strlen(put); n++)
		if (handle_n(md, put, n, 1))
			return check_fail(__FILE__, __LINE__, "PUT answered after %zu bytes", n);
	CHECK(handle_n(md, put, strlen(put), 1) > 0);
	CHECK_INT(status(), 200);
	metadata_destroy(md);
	return NULL;
}

static const char *test_oversize(void)
{
	struct metadata *md = sample();
	char *req = malloc(METADATA_MAX_REQUEST + 100);
	size_t len;

	len = (size_t)snprintf(req, 100, "GET / HTTP/1.1\r\nX-Pad: ");
	memset(req + len, 'a', METADATA_MAX_REQUEST + 100 - len);
	CHECK_INT(handle_n(md, req, METADATA_MAX_REQUEST - 1, 1), 0);
	CHECK(handle_n(md, req, METADATA_MAX_REQUEST, 1) > 0);
	CHECK_STR(resp, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n"
		  "Connection: close\r\n\r\n400 Bad Request\n");
	CHECK(handle_n(md, req, METADATA_MAX_REQUEST + 100, 1) > 0);
	CHECK_INT(status(), 400);
	/* A head that ends just past the bound is as good as none. */
	memcpy(req + METADATA_MAX_REQUEST - 2, "\r\n\r\n", 4);
	CHECK(handle_n(md, req, METADATA_MAX_REQUEST + 2, 1) > 0);
	CHECK_INT(status(), 400);
	/* A head that fits, with a body that would not: refused at once rather than waited for. */
	len = (size_t)snprintf(req, METADATA_MAX_REQUEST, "PUT /latest/api/token HTTP/1.1\r\nContent-Length: 1000\r\n"
			       "X-Pad: ");
	memset(req + len, 'a', 3200);
	memcpy(req + len + 3200, "\r\n\r\n", 4);
	CHECK(handle_n(md, req, len + 3204, 1) > 0);
	CHECK_INT(status(), 413);
	free(req);
	metadata_destroy(md);
	return NULL;
}

static const char *test_token_table(void)
{
	struct metadata *md = sample();
	char (*tok)[65] = calloc(METADATA_MAX_TOKENS + 2, 65), extra[65];
	int i;

	/* Token 0 lives 1 s, the others 1000 s. */
	CHECK_OK(get_token(md, 1, 0, tok[0]));
	for (i = 1; i < METADATA_MAX_TOKENS; i++)
		CHECK_OK(get_token(md, 1000, (uint64_t)i, tok[i]));
	for (i = 0; i < METADATA_MAX_TOKENS; i++)
		CHECK_INT(get(md, "/", tok[i], 100), 200);
	/* The table is full; token 0 has expired, so its slot is taken first and nothing live is dropped. */
	CHECK_OK(get_token(md, 1000, 2000, extra));
	for (i = 1; i < METADATA_MAX_TOKENS; i++)
		CHECK_INT(get(md, "/", tok[i], 2000), 200);
	CHECK_INT(get(md, "/", extra, 2000), 200);
	/* Now all live: a new token pushes out the oldest (1), then the next oldest (2). */
	CHECK_OK(get_token(md, 1000, 3000, tok[METADATA_MAX_TOKENS]));
	CHECK_INT(get(md, "/", tok[1], 3000), 401);
	CHECK_INT(get(md, "/", tok[2], 3000), 200);
	CHECK_OK(get_token(md, 1000, 3000, tok[METADATA_MAX_TOKENS + 1]));
	CHECK_INT(get(md, "/", tok[2], 3000), 401);
	CHECK_INT(get(md, "/", tok[3], 3000), 200);
	CHECK_INT(get(md, "/", extra, 3000), 200);
	CHECK_INT(get(md, "/", tok[METADATA_MAX_TOKENS], 3000), 200);
	CHECK_INT(get(md, "/", tok[METADATA_MAX_TOKENS + 1], 3000), 200);
	free(tok);
	metadata_destroy(md);
	return NULL;
}

static const char *test_set(void)
{
	struct metadata *md = metadata_create();
	char key[80];

	CHECK(md != NULL);
	CHECK_INT(metadata_set(md, "", "x", 1), -EINVAL);
	CHECK_INT(metadata_set(md, "Name", "x", 1), -EINVAL);
	CHECK_INT(metadata_set(md, "a_b", "x", 1), -EINVAL);
	CHECK_INT(metadata_set(md, "a/b", "x", 1), -EINVAL);
	CHECK_INT(metadata_set(md, "a b", "x", 1), -EINVAL);
	CHECK_INT(metadata_set(md, "a", NULL, 1), -EINVAL);
	memset(key, 'k', 64);
	key[64] = '\0';
	CHECK_INT(metadata_set(md, key, "x", 1), -EINVAL);
	key[63] = '\0';
	CHECK_INT(metadata_set(md, key, "x", 1), 0);
	CHECK_INT(metadata_set(md, "0-9", "x", 1), 0);
	/* Many keys: the array grows and stays sorted. */
	for (int i = 99; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%02d", i);
		CHECK_INT(metadata_set(md, key, key, 3), 0);
	}
	metadata_destroy(md);
	metadata_destroy(NULL);
	return NULL;
}

static const char *test_output_bounds(void)
{
	static const char want_500[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
				       "Content-Length: 19\r\nConnection: close\r\n\r\nresponse too large\n";
	struct metadata *md = sample();
	char tok[65], req[256], *out;
	size_t max, n, len, cap;
	char big[3000];

	/* The worst case for JSON: every byte becomes six. */
	memset(big, 0x01, sizeof(big));
	CHECK_INT(metadata_set(md, "big", big, sizeof(big)), 0);
	CHECK_OK(get_token(md, 100, 0, tok));
	max = metadata_response_max(md);
	CHECK(max >= 6 * sizeof(big));
	len = (size_t)snprintf(req, sizeof(req), "GET /latest/meta-data.json HTTP/1.1\r\nX-metadata-token: %s\r\n\r\n",
			       tok);
	out = malloc(max);
	n = metadata_handle(md, req, len, 1, out, max);
	CHECK(n > 6 * sizeof(big));
	CHECK(!strncmp(out, "HTTP/1.1 200 OK\r\n", 17));
	free(out);

	/* Too small for the answer: a short 500 within cap (ASan checks nothing is written past it). */
	for (cap = 512; cap < n; cap += 4000) {
		out = malloc(cap);
		CHECK_INT(metadata_handle(md, req, len, 1, out, cap), sizeof(want_500) - 1);
		CHECK(!memcmp(out, want_500, sizeof(want_500) - 1));
		free(out);
	}
	metadata_destroy(md);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "metadata-token-flow", test_token_flow },
		{ "metadata-unauthorized", test_unauthorized },
		{ "metadata-ttl-bounds", test_ttl_bounds },
		{ "metadata-listing-and-json", test_listing_and_json },
		{ "metadata-user-data", test_user_data },
		{ "metadata-paths-and-methods", test_paths_and_methods },
		{ "metadata-malformed", test_malformed },
		{ "metadata-header-count", test_header_count },
		{ "metadata-split", test_split },
		{ "metadata-oversize", test_oversize },
		{ "metadata-token-table", test_token_table },
		{ "metadata-set", test_set },
		{ "metadata-output-bounds", test_output_bounds },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
