#ifndef SHRIKECTL_API_H
#define SHRIKECTL_API_H

#include <stddef.h>

#include "conn.h"
#include "opts.h"

/* One answer of the management API, body NUL-terminated. */
struct api_reply {
	int status;
	char *body;
	size_t len;
};

/*
 * One request and its whole answer. With keep NULL on a connection of its own; otherwise on *keep, which is
 * opened if closed and left open for the next request if the server keeps it. Returns 0 with an answer of any
 * status, or 1 after printing why there is none.
 */
int api_call(const struct opts *o, struct conn *keep, const char *method, const char *path, const char *content_type,
	     const void *body, size_t len, struct api_reply *r);
void api_reply_free(struct api_reply *r);

/*
 * An answer that is not the success expected: prints "shrikectl: WHAT: <the server's message> (HTTP status)" and
 * the details PID 1 gave (a refused config's file:line lines); with --json the body as is on stdout. Returns 1.
 */
int api_fail(const struct opts *o, const char *what, const struct api_reply *r);

/* "/v1/guests/NAME" + tail, the name percent-encoded. Returns 0, or 2 after saying the name is too long. */
int api_guest_path(char *out, size_t size, const char *name, const char *tail);

/* Writes all of buf to fd: 0 or -1. */
int api_write_all(int fd, const void *buf, size_t len);

#endif
