/* unit-sources: vmm/mgmt/http.c */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mgmt/http.h"

static struct http_request req;

/* Feeds the whole string at once; returns http_parse()'s result and the bytes used. */
static int feed(const char *s, size_t *used)
{
	http_reset(&req);
	return http_parse(&req, s, strlen(s), used);
}

static const char *test_simple_get(void)
{
	const char *s = "GET /v1/guests/web?follow=1&x=a%20b HTTP/1.1\r\nHost: x\r\nUser-Agent:  curl/8 \r\n\r\n";
	char q[16];
	size_t used;

	CHECK_INT(feed(s, &used), 1);
	CHECK_INT(used, strlen(s));
	CHECK_INT(req.method, HTTP_GET);
	CHECK_INT(req.keep_alive, 1);
	CHECK_INT(req.nsegments, 3);
	CHECK_STR(req.segments[0], "v1");
	CHECK_STR(req.segments[2], "web");
	CHECK_STR(req.query, "follow=1&x=a%20b");
	CHECK_STR(http_header_get(&req, "user-agent"), "curl/8");
	CHECK_INT(http_query_get(&req, "follow", q, sizeof(q)), 1);
	CHECK_STR(q, "1");
	CHECK_INT(http_query_get(&req, "x", q, sizeof(q)), 3);
	CHECK_STR(q, "a b");
	CHECK_INT(http_query_get(&req, "fol", q, sizeof(q)), -ENOENT);
	CHECK_INT(req.body_len, 0);
	return NULL;
}

static const char *test_byte_by_byte_with_body_and_pipeline(void)
{
	const char *s = "PUT /v1/guests/web/balloon HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n"
			"{\"target_mib\":96}GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	size_t i, used, len = strlen(s);
	int rc = 0;

	http_reset(&req);
	for (i = 0; i < len; i++) {
		rc = http_parse(&req, s + i, 1, &used);
		CHECK_INT(used, 1);
		if (rc)
			break;
	}
	CHECK_INT(rc, 1);
	CHECK_INT(req.method, HTTP_PUT);
	CHECK_INT(req.body_len, 17);
	CHECK_STR(req.body, "{\"target_mib\":96}");
	/* the rest, in one piece: exactly the second request is taken */
	http_reset(&req);
	CHECK_INT(http_parse(&req, s + i + 1, len - i - 1, &used), 1);
	CHECK_INT(used, len - i - 1);
	CHECK_INT(req.nsegments, 0);
	CHECK_INT(req.keep_alive, 0);
	return NULL;
}

static const char *test_body_bytes_stay_for_next(void)
{
	const char *s = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxyGET";
	size_t used;

	CHECK_INT(feed(s, &used), 1);
	CHECK_INT(used, strlen(s) - 3);
	CHECK_STR(req.body, "xy");
	return NULL;
}

static const char *test_keep_alive_rules(void)
{
	size_t used;

	CHECK_INT(feed("GET / HTTP/1.0\r\n\r\n", &used), 1);
	CHECK_INT(req.keep_alive, 0);
	CHECK_INT(feed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &used), 1);
	CHECK_INT(req.keep_alive, 1);
	CHECK_INT(feed("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &used), 1);
	CHECK_INT(req.keep_alive, 0);
	return NULL;
}

static const char *test_errors(void)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", 400 },					/* no Host */
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
		{ "G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a/../b HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a/%2e%2E/b HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a%2fb HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /1/2/3/4/5/6/7/8/9 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n", 413 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501 },
	};
	size_t i, used;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = feed(cases[i].req, &used);
		if (rc >= 0 || http_error_status(rc) != cases[i].status)
			return check_fail(__FILE__, __LINE__, "case %zu: rc %d status %d, expected %d", i, rc,
					  rc < 0 ? http_error_status(rc) : 0, cases[i].status);
	}
	/* a NUL byte in the head */
	http_reset(&req);
	CHECK_INT(http_parse(&req, "GET / HTTP/1.1\r\nHost: a\0\r\n\r\n", 28, &used), -EBADMSG);
	return NULL;
}

static const char *test_limits(void)
{
	static char big[HTTP_MAX_HEAD * 2];
	size_t used, n;
	int rc;

	/* a request line that never ends: 414 as soon as it passes the cap */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET /", 5);
	http_reset(&req);
	CHECK_INT(http_parse(&req, big, HTTP_MAX_LINE - 1, &used), 0);
	CHECK_INT(http_parse(&req, big + used, 10, &used), -ENAMETOOLONG);

	/* too many headers: 431 */
	http_reset(&req);
	rc = http_parse(&req, "GET / HTTP/1.1\r\nHost: a\r\n", 25, &used);
	CHECK_INT(rc, 0);
	for (n = 0; n < HTTP_MAX_HEADERS && !rc; n++)
		rc = http_parse(&req, "X-A: b\r\n", 8, &used);
	if (!rc)
		rc = http_parse(&req, "\r\n", 2, &used);
	CHECK_INT(http_error_status(rc), 431);

	/* headers that never end: 431 at the head cap */
	http_reset(&req);
	rc = http_parse(&req, "GET / HTTP/1.1\r\n", 16, &used);
	for (n = 0; !rc && n < 10000; n++)
		rc = http_parse(&req, "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 54, &used);
	CHECK_INT(rc, -E2BIG);
	CHECK_INT(http_error_status(rc), 431);

	/* the largest body is accepted */
	http_reset(&req);
	rc = http_parse(&req, "PUT /v1/config HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n", 59, &used);
	CHECK_INT(rc, 0);
	memset(big, 'b', sizeof(big));
	for (n = 0; n < HTTP_MAX_BODY / sizeof(big) - 1; n++)
		CHECK_INT(http_parse(&req, big, sizeof(big), &used), 0);
	CHECK_INT(http_parse(&req, big, sizeof(big), &used), 1);
	CHECK_INT(used, sizeof(big));
	CHECK_INT(req.body_len, HTTP_MAX_BODY);
	return NULL;
}

static const char *test_leading_crlf_and_status_text(void)
{
	size_t used;

	CHECK_INT(feed("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &used), 1);
	CHECK_STR(http_status_text(431), "Request Header Fields Too Large");
	CHECK_INT(http_error_status(-EMSGSIZE), 413);
	return NULL;
}

/* The names the parser accepts are the names logs and shrike mgmt --routes print. */
static const char *test_method_names(void)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "DELETE" };
	char line[64];
	size_t i, used;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "%s / HTTP/1.1\r\nHost: a\r\n\r\n", names[i]);
		CHECK_INT(feed(line, &used), 1);
		CHECK_STR(http_method_name(req.method), names[i]);
	}
	CHECK_STR(http_method_name(0), "-");
	CHECK_STR(http_method_name(HTTP_DELETE + 1), "-");
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "http-simple-get", test_simple_get },
		{ "http-byte-by-byte-body-pipeline", test_byte_by_byte_with_body_and_pipeline },
		{ "http-body-bytes-stay", test_body_bytes_stay_for_next },
		{ "http-keep-alive", test_keep_alive_rules },
		{ "http-errors", test_errors },
		{ "http-limits", test_limits },
		{ "http-leading-crlf", test_leading_crlf_and_status_text },
		{ "http-method-names", test_method_names },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
