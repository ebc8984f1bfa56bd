#ifndef SHRIKE_MGMT_HTTP_H
#define SHRIKE_MGMT_HTTP_H

#include <stddef.h>

/*
 * An incremental, bounded HTTP/1.1 request parser for the management port. Bytes are fed as TLS hands them over;
 * the request (head and body) is copied into the struct, so nothing points into the caller's buffers. Everything
 * has a fixed cap; anything the API does not need (chunked request bodies, obs-fold, absolute-form targets,
 * percent-encoded slashes, dot segments) is refused rather than interpreted.
 *
 * Errors are negative errno values; http_error_status() gives the status to answer with before closing:
 *   -EBADMSG 400 malformed        -EMSGSIZE 413 body too large    -ENAMETOOLONG 414 request line too long
 *   -E2BIG 431 headers too large  -ENOSYS 501 Transfer-Encoding or unknown method
 *   -EPROTONOSUPPORT 505 not HTTP/1.0 or 1.1
 */

#define HTTP_MAX_LINE 4096		/* request line, with CRLF */
#define HTTP_MAX_HEAD 8192		/* request line and all header lines */
#define HTTP_MAX_HEADERS 32
#define HTTP_MAX_BODY 65536		/* a config file is a few KiB; 64 KiB leaves room without inviting abuse */
#define HTTP_MAX_SEGMENTS 8		/* /v1/guests/NAME/ACTION is 4 */

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
};

struct http_header {
	const char *name;		/* as sent; compare with strcasecmp */
	const char *value;		/* leading and trailing whitespace removed */
};

struct http_request {
	/* results, valid once http_parse() returned 1 */
	enum http_method method;
	int minor;			/* HTTP/1.minor */
	int keep_alive;			/* the connection may carry another request after this one */
	const char *target;		/* the raw request target, e.g. "/v1/guests/web?x=1" */
	const char *query;		/* after '?', raw, "" if none */
	const char *segments[HTTP_MAX_SEGMENTS];	/* the path split at '/', percent-decoded */
	unsigned int nsegments;
	struct http_header headers[HTTP_MAX_HEADERS];
	unsigned int nheaders;
	const char *body;		/* NUL-terminated for convenience; may itself contain NULs */
	size_t body_len;

	/* parser state */
	int state;
	size_t head_len;		/* bytes of head stored */
	size_t scan;			/* where the search for the end of the head resumes */
	size_t content_length;
	char head[HTTP_MAX_HEAD + 1];
	char path[HTTP_MAX_LINE + HTTP_MAX_SEGMENTS];	/* decoded segments, each NUL-terminated */
	char body_buf[HTTP_MAX_BODY + 1];
};

/* Prepares for a new request on the connection (after the previous one has been answered). */
void http_reset(struct http_request *req);

/*
 * Consumes up to len bytes and stores in *used how many it took: the rest belongs to the next (pipelined)
 * request. Returns 1 when a whole request is there, 0 when it needs more bytes, or a negative errno (see above).
 */
int http_parse(struct http_request *req, const char *data, size_t len, size_t *used);

/* "GET" for HTTP_GET; "-" for anything else. */
const char *http_method_name(enum http_method method);

/* The status code for an error from http_parse(). */
int http_error_status(int err);

/* The reason phrase for a status code ("Not Found"), "Unknown" for others. */
const char *http_status_text(int status);

/* The value of a header (case-insensitive name), NULL if absent. */
const char *http_header_get(const struct http_request *req, const char *name);

/*
 * Copies the percent-decoded value of query parameter NAME into buf (NUL-terminated). Returns its length,
 * -ENOENT if absent, -EINVAL if badly encoded or containing NUL, -ENOSPC if longer than size - 1.
 */
int http_query_get(const struct http_request *req, const char *name, char *buf, size_t size);

#endif
