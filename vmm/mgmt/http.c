#include <errno.h>
#include <string.h>
#include <strings.h>

#include "mgmt/http.h"

enum { ST_HEAD, ST_BODY, ST_DONE };

void http_reset(struct http_request *req)
{
	/* Only the scalars: the buffers are overwritten before they are read, and clearing 80 KiB per request would
	 * dominate small keep-alive requests. */
	req->method = 0;
	req->minor = 0;
	req->keep_alive = 0;
	req->target = req->query = NULL;
	req->nsegments = req->nheaders = 0;
	req->body = NULL;
	req->body_len = 0;
	req->state = ST_HEAD;
	req->head_len = req->scan = req->content_length = 0;
}

static int is_tchar(unsigned char c)
{
	/* RFC 9110 token characters */
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char *const method_names[] = {
	[HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD", [HTTP_POST] = "POST", [HTTP_PUT] = "PUT", [HTTP_DELETE] = "DELETE",
};

static int parse_method(struct http_request *req, const char *m)
{
	enum http_method i;

	for (i = HTTP_GET; i <= HTTP_DELETE; i++)
		if (!strcmp(m, method_names[i])) {
			req->method = i;
			return 0;
		}
	/* A well-formed method we do not implement is 501 (RFC 9110 9.1); anything else is garbage. */
	return is_token(m) ? -ENOSYS : -EBADMSG;
}

const char *http_method_name(enum http_method method)
{
	return method >= HTTP_GET && method <= HTTP_DELETE ? method_names[method] : "-";
}

/*
 * Splits the path into percent-decoded segments. Decoding happens per segment, after the split, and an encoded
 * '/' is refused, so "%2F" can never create a segment boundary; "." and ".." (also encoded) and control characters
 * are refused because a name is used in logs and may one day be used in a path.
 */
static int split_path(struct http_request *req, const char *path, size_t len)
{
	char *out = req->path;
	size_t i = 1;

	req->nsegments = 0;
	if (len == 1)
		return 0;
	while (i <= len) {
		char *seg = out;

		if (req->nsegments == HTTP_MAX_SEGMENTS)
			return -EBADMSG;
		for (; i < len && path[i] != '/'; i++) {
			int c = (unsigned char)path[i];

			if (c == '%') {
				int hi, lo;

				if (i + 2 >= len)
					return -EBADMSG;
				hi = hexval(path[i + 1]);
				lo = hexval(path[i + 2]);
				if (hi < 0 || lo < 0)
					return -EBADMSG;
				c = hi << 4 | lo;
				i += 2;
				if (c == '/')
					return -EBADMSG;
			}
			if (c < 0x20 || c == 0x7f)
				return -EBADMSG;
			*out++ = (char)c;
		}
		*out++ = '\0';
		if (!strcmp(seg, ".") || !strcmp(seg, ".."))
			return -EBADMSG;
		req->segments[req->nsegments++] = seg;
		i++;
	}
	return 0;
}

static int parse_request_line(struct http_request *req, char *line)
{
	char *target, *version, *q;
	size_t plen;
	int rc;

	target = strchr(line, ' ');
	if (!target)
		return -EBADMSG;
	*target++ = '\0';
	version = strchr(target, ' ');
	if (!version)
		return -EBADMSG;
	*version++ = '\0';
	rc = parse_method(req, line);
	if (rc)
		return rc;

	if (!strcmp(version, "HTTP/1.1"))
		req->minor = 1;
	else if (!strcmp(version, "HTTP/1.0"))
		req->minor = 0;
	else if (!strncmp(version, "HTTP/", 5) && version[5] >= '0' && version[5] <= '9' && version[6] == '.' &&
		 version[7] >= '0' && version[7] <= '9' && !version[8])
		return -EPROTONOSUPPORT;
	else
		return -EBADMSG;

	/* origin-form only: the API has no proxy use for absolute-form, and '*' is for OPTIONS */
	if (target[0] != '/')
		return -EBADMSG;
	for (q = target; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return -EBADMSG;
	req->target = target;
	q = strchr(target, '?');
	plen = q ? (size_t)(q - target) : strlen(target);
	req->query = q ? q + 1 : "";
	return split_path(req, target, plen);
}

static int parse_header(struct http_request *req, char *line)
{
	char *colon, *value, *end;
	unsigned char c;

	/* obs-fold (a line starting with whitespace) is refused, as RFC 9112 5.2 allows */
	if (*line == ' ' || *line == '\t')
		return -EBADMSG;
	colon = strchr(line, ':');
	if (!colon)
		return -EBADMSG;
	*colon = '\0';
	if (!is_token(line))
		return -EBADMSG;
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	for (end = value; *end; end++) {
		c = (unsigned char)*end;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -EBADMSG;
	}
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (req->nheaders == HTTP_MAX_HEADERS)
		return -E2BIG;
	req->headers[req->nheaders].name = line;
	req->headers[req->nheaders].value = value;
	req->nheaders++;
	return 0;
}

/* Content-Length: digits only; repeated headers must agree (RFC 9112 6.3 says a list of equal values may be
 * accepted; we do not, to leave no room for request smuggling through a proxy that reads it differently). */
static int parse_content_length(struct http_request *req, const char *v, int *seen)
{
	size_t n = 0;

	if (!*v)
		return -EBADMSG;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -EBADMSG;
		if (n > HTTP_MAX_BODY)
			continue;	/* keep checking the syntax; the size is refused below */
		n = n * 10 + (size_t)(*v - '0');
	}
	if (*seen && n != req->content_length)
		return -EBADMSG;
	*seen = 1;
	req->content_length = n;
	return 0;
}

static void parse_connection(struct http_request *req, const char *v)
{
	while (*v) {
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		n = strcspn(v, " \t,");
		if (n == 5 && !strncasecmp(v, "close", 5))
			req->keep_alive = 0;
		else if (n == 10 && !strncasecmp(v, "keep-alive", 10) && req->minor == 0)
			req->keep_alive = 1;
		v += n;
	}
}

static int parse_head(struct http_request *req)
{
	char *line = req->head, *eol;
	int rc, have_length = 0, hosts = 0, close = 0;
	unsigned int i;

	if (memchr(req->head, '\0', req->head_len))
		return -EBADMSG;
	req->head[req->head_len] = '\0';

	eol = strstr(line, "\r\n");
	*eol = '\0';
	rc = parse_request_line(req, line);
	if (rc)
		return rc;
	for (line = eol + 2; *line; line = eol + 2) {
		eol = strstr(line, "\r\n");
		*eol = '\0';
		if (!*line)
			break;
		rc = parse_header(req, line);
		if (rc)
			return rc;
	}

	req->keep_alive = req->minor >= 1;
	for (i = 0; i < req->nheaders; i++) {
		const char *n = req->headers[i].name, *v = req->headers[i].value;

		if (!strcasecmp(n, "Transfer-Encoding"))
			return -ENOSYS;
		if (!strcasecmp(n, "Content-Length")) {
			rc = parse_content_length(req, v, &have_length);
			if (rc)
				return rc;
		} else if (!strcasecmp(n, "Host")) {
			hosts++;
		} else if (!strcasecmp(n, "Connection")) {
			parse_connection(req, v);
			if (!req->keep_alive)
				close = 1;
		}
	}
	if (close)
		req->keep_alive = 0;
	/* RFC 9112 3.2: a 1.1 request without exactly one Host is answered 400 */
	if (req->minor >= 1 && hosts != 1)
		return -EBADMSG;
	if (req->content_length > HTTP_MAX_BODY)
		return -EMSGSIZE;
	return 0;
}

/* Where the head ends (just past the empty line), or 0 if it is not all there yet. */
static size_t find_head_end(struct http_request *req)
{
	size_t i;

	for (i = req->scan; i + 4 <= req->head_len; i++)
		if (!memcmp(req->head + i, "\r\n\r\n", 4))
			return i + 4;
	req->scan = req->head_len >= 3 ? req->head_len - 3 : 0;
	return 0;
}

static int feed_head(struct http_request *req, const char *data, size_t len, size_t *used)
{
	size_t n, end;
	const char *eol;

	/* RFC 9112 2.2: ignore empty lines before the request line (some clients send CRLF after a POST body) */
	while (!req->head_len && *used < len && (data[*used] == '\r' || data[*used] == '\n'))
		(*used)++;
	n = len - *used;
	if (n > HTTP_MAX_HEAD - req->head_len)
		n = HTTP_MAX_HEAD - req->head_len;
	memcpy(req->head + req->head_len, data + *used, n);
	req->head_len += n;
	*used += n;
	end = find_head_end(req);
	if (!end) {
		if (!memchr(req->head, '\n', req->head_len < HTTP_MAX_LINE ? req->head_len : HTTP_MAX_LINE))
			return req->head_len >= HTTP_MAX_LINE ? -ENAMETOOLONG : 0;
		return req->head_len == HTTP_MAX_HEAD ? -E2BIG : 0;
	}
	/* give back what was copied beyond the head: it is body or the next request */
	*used -= req->head_len - end;
	req->head_len = end;
	/* the same verdict whether the head came in one piece or byte by byte (and path[] relies on it) */
	eol = memchr(req->head, '\n', req->head_len);
	if ((size_t)(eol - req->head) >= HTTP_MAX_LINE)
		return -ENAMETOOLONG;
	return 1;
}

int http_parse(struct http_request *req, const char *data, size_t len, size_t *used)
{
	size_t n;
	int rc;

	*used = 0;
	if (req->state == ST_HEAD) {
		rc = feed_head(req, data, len, used);
		if (rc <= 0)
			return rc;
		rc = parse_head(req);
		if (rc)
			return rc;
		req->state = ST_BODY;
		req->body_len = 0;
	}
	if (req->state == ST_BODY) {
		n = len - *used;
		if (n > req->content_length - req->body_len)
			n = req->content_length - req->body_len;
		memcpy(req->body_buf + req->body_len, data + *used, n);
		req->body_len += n;
		*used += n;
		if (req->body_len < req->content_length)
			return 0;
		req->body_buf[req->body_len] = '\0';
		req->body = req->body_buf;
		req->state = ST_DONE;
	}
	return 1;
}

int http_error_status(int err)
{
	switch (err) {
	case -EMSGSIZE:
		return 413;
	case -ENAMETOOLONG:
		return 414;
	case -E2BIG:
		return 431;
	case -ENOSYS:
		return 501;
	case -EPROTONOSUPPORT:
		return 505;
	default:
		return 400;
	}
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

const char *http_header_get(const struct http_request *req, const char *name)
{
	unsigned int i;

	for (i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

int http_query_get(const struct http_request *req, const char *name, char *buf, size_t size)
{
	const char *p = req->query, *end;
	size_t nlen = strlen(name), o;

	while (*p) {
		end = p + strcspn(p, "&");
		if ((size_t)(end - p) >= nlen && !strncmp(p, name, nlen) && (p[nlen] == '=' || p + nlen == end)) {
			p += nlen + (p[nlen] == '=');
			for (o = 0; p < end; p++) {
				int c = (unsigned char)*p;

				if (c == '%') {
					int hi = end - p > 2 ? hexval(p[1]) : -1, lo = end - p > 2 ? hexval(p[2]) : -1;

					if (hi < 0 || lo < 0)
						return -EINVAL;
					c = hi << 4 | lo;
					p += 2;
				} else if (c == '+') {
					c = ' ';
				}
				if (!c)
					return -EINVAL;
				if (o + 1 >= size)
					return -ENOSPC;
				buf[o++] = (char)c;
			}
			buf[o] = '\0';
			return (int)o;
		}
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}
