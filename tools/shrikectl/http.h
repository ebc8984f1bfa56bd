#ifndef SHRIKECTL_HTTP_H
#define SHRIKECTL_HTTP_H

#include <stddef.h>

#include "conn.h"

/* Far above any answer of the API (a config is at most 64 KiB): a bigger one is refused, not buffered. */
#define HTTP_BODY_MAX (16u << 20)

/* A response's head and the state of reading its body (Content-Length, chunked, or until the server closes). */
struct http_response {
	int status;
	int chunked;
	long long length;		/* -1: not given */
	int close;			/* the server closes after this answer */
	char content_type[64];
	/* body decoding */
	int state;
	unsigned long long left;	/* of the Content-Length body, or of the current chunk */
	char line[80];			/* a chunk-size or trailer line being read */
	size_t line_len;
};

/* Receives body bytes as they are decoded; a nonzero return stops reading and is returned. */
typedef int http_sink(void *arg, const char *data, size_t len);

/*
 * Sends one request (Host: the host:port connected to). keep_alive 0 asks the server to close after the answer. body may be NULL (no body);
 * content_type is sent with a body. Returns 0 or -EIO (already reported).
 */
int http_send(struct conn *c, const char *method, const char *path, const char *content_type, const void *body,
	      size_t len, int keep_alive);

/* Reads the status line and headers. Returns 0, or -EIO after printing why. */
int http_read_head(struct conn *c, struct http_response *r);

/*
 * Reads what is available of the body once and hands it to sink: 1 when the body is complete, 0 when more is to
 * come, -EAGAIN on a non-blocking connection with nothing to read, -EIO after printing why, or sink's nonzero
 * return.
 */
int http_body_step(struct conn *c, struct http_response *r, http_sink *sink, void *arg);

/* The whole body, NUL-terminated, at most HTTP_BODY_MAX bytes; free() it. Returns 0 or -EIO (reported). */
int http_read_body(struct conn *c, struct http_response *r, char **body, size_t *len);

#endif
