#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "http.h"
#include "json.h"

/* The server closes a keep-alive connection after 60 s idle (docs/api.md): reconnect well before rather than
 * find out in the middle of a request. */
#define KEEP_IDLE_S 45

static time_t keep_used;

int api_call(const struct opts *o, struct conn *keep, const char *method, const char *path, const char *content_type,
	     const void *body, size_t len, struct api_reply *r)
{
	struct conn own, *c = keep ? keep : &own;
	struct http_response resp = { 0 };
	time_t now = time(NULL);
	int rc = 1;

	memset(r, 0, sizeof(*r));
	if (keep && keep->fd >= 0 && now - keep_used > KEEP_IDLE_S)
		conn_close(keep);
	if ((!keep || keep->fd < 0) && conn_open(c, o))
		return 1;
	keep_used = now;
	if (http_send(c, method, path, content_type, body, len, keep != NULL) || http_read_head(c, &resp) ||
	    http_read_body(c, &resp, &r->body, &r->len))
		goto out;
	r->status = resp.status;
	rc = 0;
out:
	if (!keep || rc || resp.close)
		conn_close(c);
	return rc;
}

void api_reply_free(struct api_reply *r)
{
	free(r->body);
	r->body = NULL;
}

int api_fail(const struct opts *o, const char *what, const struct api_reply *r)
{
	char msg[512], *details = NULL, *line, *next;
	struct json j;

	if (o->json) {
		fwrite(r->body, 1, r->len, stdout);
		if (r->len && r->body[r->len - 1] != '\n')
			putchar('\n');
		fflush(stdout);
	}
	if (!json_parse(&j, r->body, r->len)) {
		json_str(&j, json_get(&j, 0, "error"), msg, sizeof(msg));
		if (json_get(&j, 0, "details") >= 0)
			details = json_strdup(&j, json_get(&j, 0, "details"));
	} else {
		/* not the API's JSON (a proxy in between?): its first line */
		snprintf(msg, sizeof(msg), "%.*s", (int)strcspn(r->body, "\r\n"), r->body);
	}
	fprintf(stderr, "shrikectl: %s: %s (HTTP %d)\n", what, msg[0] ? msg : "error", r->status);
	for (line = details; line && *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		fprintf(stderr, "  %s\n", line);
	}
	free(details);
	return 1;
}

int api_guest_path(char *out, size_t size, const char *name, const char *tail)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = (size_t)snprintf(out, size, "/v1/guests/");
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p && n + 4 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (*p || n + strlen(tail) >= size) {
		fprintf(stderr, "shrikectl: guest name too long: %.40s...\n", name);
		return 2;
	}
	strcpy(out + n, tail);
	return 0;
}

int api_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
