#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/jsonstr.h"
#include "mgmt/json.h"

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

static void put_cb(void *w, const char *s, size_t n)
{
	put(w, s, n);
}

static void put_escaped(struct json_writer *w, const char *s, size_t n)
{
	jsonstr_write(s, n, put_cb, w);
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
