#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

enum {
	BODY_LENGTH,		/* Content-Length bytes */
	BODY_UNTIL_CLOSE,	/* neither length nor chunked: everything until the server closes */
	CHUNK_SIZE,		/* the hex size line of the next chunk */
	CHUNK_DATA,
	CHUNK_DATA_END,		/* the CRLF after a chunk's data */
	CHUNK_TRAILER,		/* trailer lines after the last chunk, up to an empty line */
	BODY_DONE,
};

int http_send(struct conn *c, const char *method, const char *path, const char *content_type, const void *body,
	      size_t len, int keep_alive)
{
	char head[1024];
	int n;

	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: shrikectl/%s\r\nAccept: */*\r\n",
		     method, path, c->where, SHRIKECTL_VERSION);
	if (n > 0 && (size_t)n < sizeof(head) && body)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\nContent-Length: %zu\r\n",
			      content_type, len);
	if (n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", keep_alive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "shrikectl: %s: request line too long\n", path);
		return -EIO;
	}
	if (conn_write(c, head, (size_t)n) || (body && len && conn_write(c, body, len)))
		return -EIO;
	return 0;
}

/* Bytes read past what was parsed stay in c->buf; make room in front of them. */
static void compact(struct conn *c)
{
	if (c->pos) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
}

static int header_is(const char *line, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) || line[n] != ':')
		return 0;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	*value = line;
	return 1;
}

static int parse_head(struct conn *c, struct http_response *r, char *head)
{
	char *line, *next, *end;
	const char *v;
	int minor;

	next = strstr(head, "\r\n");
	*next = '\0';
	if (sscanf(head, "HTTP/1.%d %3d", &minor, &r->status) != 2 || r->status < 100 || r->status > 599) {
		fprintf(stderr, "shrikectl: %s: not an HTTP/1.x answer: %.60s\n", c->where, head);
		return -EIO;
	}
	r->close = minor == 0;
	r->length = -1;
	for (line = next + 2; *line; line = next + 2) {
		next = strstr(line, "\r\n");
		*next = '\0';
		if (header_is(line, "Content-Length", &v)) {
			errno = 0;
			r->length = strtoll(v, &end, 10);
			if (errno || end == v || *end || r->length < 0) {
				fprintf(stderr, "shrikectl: %s: bad Content-Length: %.40s\n", c->where, v);
				return -EIO;
			}
		} else if (header_is(line, "Transfer-Encoding", &v)) {
			r->chunked = strcasestr(v, "chunked") != NULL;
		} else if (header_is(line, "Connection", &v)) {
			if (strcasestr(v, "close"))
				r->close = 1;
			else if (strcasestr(v, "keep-alive"))
				r->close = 0;
		} else if (header_is(line, "Content-Type", &v)) {
			snprintf(r->content_type, sizeof(r->content_type), "%s", v);
		}
	}
	if (r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200)) {
		r->state = BODY_DONE;
	} else if (r->chunked) {
		r->state = CHUNK_SIZE;
	} else if (r->length >= 0) {
		r->left = (unsigned long long)r->length;
		r->state = r->left ? BODY_LENGTH : BODY_DONE;
	} else {
		r->state = BODY_UNTIL_CLOSE;
		r->close = 1;
	}
	return 0;
}

int http_read_head(struct conn *c, struct http_response *r)
{
	char *end;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	compact(c);
	for (;;) {
		end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end)
			break;
		if (c->len == sizeof(c->buf)) {
			fprintf(stderr, "shrikectl: %s: the answer's headers exceed %zu bytes\n", c->where, sizeof(c->buf));
			return -EIO;
		}
		n = conn_read(c, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0)
			return -EIO;
		if (n == 0) {
			fprintf(stderr, "shrikectl: %s: the server closed the connection without answering\n", c->where);
			return -EIO;
		}
		c->len += (size_t)n;
	}
	c->pos = (size_t)((unsigned char *)end - c->buf) + 4;
	end[2] = '\0';	/* the head as a string, each line ending in CRLF */
	if (memchr(c->buf, '\0', (size_t)((unsigned char *)end - c->buf))) {
		fprintf(stderr, "shrikectl: %s: a NUL byte in the answer's headers\n", c->where);
		return -EIO;
	}
	return parse_head(c, r, (char *)c->buf);
}

/* One line of the chunked framing, collected across reads; 1 when complete (CR stripped), 0 for more. */
static int chunk_line(struct conn *c, struct http_response *r)
{
	unsigned char ch;

	while (c->pos < c->len) {
		ch = c->buf[c->pos++];
		if (ch == '\n') {
			if (r->line_len && r->line[r->line_len - 1] == '\r')
				r->line_len--;
			r->line[r->line_len] = '\0';
			r->line_len = 0;
			return 1;
		}
		if (r->line_len == sizeof(r->line) - 1)
			return -EIO;
		r->line[r->line_len++] = (char)ch;
	}
	return 0;
}

static int chunk_size(struct conn *c, struct http_response *r)
{
	unsigned long long size;
	char *end;

	errno = 0;
	size = strtoull(r->line, &end, 16);
	if (errno || end == r->line || !isxdigit((unsigned char)r->line[0]) || (*end && *end != ';' && *end != ' ') ||
	    size > HTTP_BODY_MAX) {
		fprintf(stderr, "shrikectl: %s: bad chunk size line: %.40s\n", c->where, r->line);
		return -EIO;
	}
	r->left = size;
	r->state = size ? CHUNK_DATA : CHUNK_TRAILER;
	return 0;
}

int http_body_step(struct conn *c, struct http_response *r, http_sink *sink, void *arg)
{
	size_t take;
	ssize_t n;
	int rc;

	if (r->state == BODY_DONE)
		return 1;
	if (c->pos == c->len) {
		c->pos = c->len = 0;
		n = conn_read(c, c->buf, sizeof(c->buf));
		if (n < 0)
			return (int)n;
		if (n == 0) {
			if (r->state == BODY_UNTIL_CLOSE) {
				r->state = BODY_DONE;
				return 1;
			}
			fprintf(stderr, "shrikectl: %s: the server closed the connection in the middle of the answer\n",
				c->where);
			return -EIO;
		}
		c->len = (size_t)n;
	}
	while (c->pos < c->len && r->state != BODY_DONE) {
		switch (r->state) {
		case BODY_LENGTH:
		case CHUNK_DATA:
		case BODY_UNTIL_CLOSE:
			take = c->len - c->pos;
			if (r->state != BODY_UNTIL_CLOSE && take > r->left)
				take = (size_t)r->left;
			rc = sink(arg, (const char *)c->buf + c->pos, take);
			c->pos += take;
			if (rc)
				return rc;
			if (r->state == BODY_UNTIL_CLOSE)
				break;
			r->left -= take;
			if (!r->left)
				r->state = r->state == BODY_LENGTH ? BODY_DONE : CHUNK_DATA_END;
			break;
		default:
			rc = chunk_line(c, r);
			if (rc < 0) {
				fprintf(stderr, "shrikectl: %s: bad chunked framing (line too long)\n", c->where);
				return -EIO;
			}
			if (!rc)
				break;
			if (r->state == CHUNK_SIZE) {
				if (chunk_size(c, r))
					return -EIO;
			} else if (r->state == CHUNK_DATA_END) {
				if (r->line[0]) {
					fprintf(stderr, "shrikectl: %s: bad chunked framing (no CRLF after a chunk)\n",
						c->where);
					return -EIO;
				}
				r->state = CHUNK_SIZE;
			} else if (!r->line[0]) {
				r->state = BODY_DONE;
			}
		}
	}
	return r->state == BODY_DONE;
}

struct buffer {
	const char *where;
	char *data;
	size_t len, size;
};

static int collect(void *arg, const char *data, size_t len)
{
	struct buffer *b = arg;
	size_t size;
	char *p;

	if (len > HTTP_BODY_MAX - b->len) {
		fprintf(stderr, "shrikectl: %s: the answer is larger than %u MiB\n", b->where, HTTP_BODY_MAX >> 20);
		return -EIO;
	}
	if (b->len + len + 1 > b->size) {
		size = b->size ? b->size : 4096;
		while (size < b->len + len + 1)
			size *= 2;
		p = realloc(b->data, size);
		if (!p) {
			fprintf(stderr, "shrikectl: %s: out of memory for the answer\n", b->where);
			return -EIO;
		}
		b->data = p;
		b->size = size;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int http_read_body(struct conn *c, struct http_response *r, char **body, size_t *len)
{
	struct buffer b = { .where = c->where };
	int rc;

	if (r->length > (long long)HTTP_BODY_MAX) {
		fprintf(stderr, "shrikectl: %s: the answer is larger than %u MiB\n", c->where, HTTP_BODY_MAX >> 20);
		return -EIO;
	}
	do
		rc = http_body_step(c, r, collect, &b);
	while (rc == 0);
	if (rc < 0 || (!b.data && collect(&b, "", 0))) {
		free(b.data);
		return -EIO;
	}
	b.data[b.len] = '\0';
	*body = b.data;
	*len = b.len;
	return 0;
}
