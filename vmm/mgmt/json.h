#ifndef SHRIKE_MGMT_JSON_H
#define SHRIKE_MGMT_JSON_H

#include <stddef.h>

/*
 * The JSON writer of the management API: into a caller's bounded buffer. Strings written are always valid UTF-8
 * JSON: quotes, backslash and control characters are escaped, and bytes that are not valid UTF-8 (a guest can put
 * anything in its console or a config comment) are replaced by U+FFFD, so an answer never fails because of what a
 * guest wrote. The reader is mgmt/jsonread.h.
 */

#define JSON_MAX_DEPTH 16

struct json_writer {
	char *buf;
	size_t size, len;
	int overflow;			/* something did not fit: the result is truncated */
	unsigned int depth;
	unsigned char need_comma[JSON_MAX_DEPTH + 1];
	int after_key;
};

void json_init(struct json_writer *w, char *buf, size_t size);
void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
/* A member name inside an object; the value follows with one of the calls below. */
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *s);
void json_string_len(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, long long v);
void json_uint(struct json_writer *w, unsigned long long v);
void json_bool(struct json_writer *w, int v);
void json_null(struct json_writer *w);
/* NUL-terminates; returns the length, or -ENOSPC if the buffer was too small, -EINVAL if unbalanced. */
int json_finish(struct json_writer *w);

#endif
