#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "init/conout.h"

/* Kept free for the marker line, so that it always fits once dropping ends. */
#define MARKER_MAX	96
/* Kept free of guests' output for PID 1's own lines: a flood does not drown the answer to a console command. */
#define RESERVE		(8 * 1024)

void conout_init(struct conout *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

/* Appends what the caller made sure fits. */
static void take(struct conout *c, const char *data, size_t len)
{
	size_t tail = (c->head + c->used) % CONOUT_SIZE;
	size_t first = len < CONOUT_SIZE - tail ? len : CONOUT_SIZE - tail;

	memcpy(c->buf + tail, data, first);
	memcpy(c->buf, data + first, len - first);
	c->used += len;
}

/* Once the buffer has drained to half after a drop: the marker line, and output is taken again. */
static void resume(struct conout *c)
{
	char marker[MARKER_MAX];
	int n;

	if (!c->dropping || c->used > CONOUT_SIZE / 2)
		return;
	n = snprintf(marker, sizeof(marker),
		     "%sshrike: console: %llu bytes dropped (the console is slower than the output)\n",
		     c->open ? "\n" : "", (unsigned long long)c->dropped);
	if (n > 0)
		take(c, marker, (size_t)n < sizeof(marker) ? (size_t)n : sizeof(marker) - 1);
	c->open = NULL;
	c->dropping = false;
	c->dropped = 0;
}

static void drop(struct conout *c, size_t len)
{
	c->dropping = true;
	c->dropped += len;
	c->dropped_total += len;
}

void conout_flush(struct conout *c)
{
	size_t chunk;
	ssize_t n;

	for (;;) {
		resume(c);
		if (!c->used || c->fd < 0)
			break;
		chunk = c->used < CONOUT_SIZE - c->head ? c->used : CONOUT_SIZE - c->head;
		n = write(c->fd, c->buf + c->head, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* Nowhere to say so but the console itself: counted, and said there once it works again. */
			drop(c, c->used);
			c->used = 0;
			c->broken = true;
			break;
		}
		c->broken = false;
		c->head = (c->head + (size_t)n) % CONOUT_SIZE;
		c->used -= (size_t)n;
	}
	if (!c->used)
		c->head = 0;	/* the next write starts at the buffer's start: one write(2) instead of two */
}

static void put(struct conout *c, const void *writer, const char *data, size_t len, bool bulk)
{
	size_t end = c->open && c->open != writer ? 1 : 0;
	size_t room = CONOUT_SIZE - MARKER_MAX - (bulk ? RESERVE : 0);

	if (!len)
		return;
	if (c->fd < 0) {
		c->dropped_total += len;
		return;
	}
	resume(c);
	if ((c->dropping && bulk) || c->used + end + len > room) {
		drop(c, len);
		return;
	}
	if (end)
		take(c, "\n", 1);
	take(c, data, len);
	c->open = data[len - 1] == '\n' ? NULL : writer;
	conout_flush(c);
}

void conout_put(struct conout *c, const void *writer, const char *data, size_t len)
{
	put(c, writer, data, len, false);
}

void conout_put_bulk(struct conout *c, const void *writer, const char *data, size_t len)
{
	put(c, writer, data, len, true);
}

void conout_printf(struct conout *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n;
	if (len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	conout_put(c, c, line, len);
}

bool conout_owns(const struct conout *c, const void *writer)
{
	return c->open == writer;
}

void conout_break(struct conout *c)
{
	if (c->open)
		conout_put(c, c->open, "\n", 1);
}

static void lines_emit(struct conout *c, struct conout_lines *l, const char *prefix)
{
	char out[CONOUT_LINE_MAX + 64];
	int n;

	if (!l->len)
		return;
	n = snprintf(out, sizeof(out), "%s%.*s%s", prefix, (int)l->len, l->line,
		     l->line[l->len - 1] == '\n' ? "" : "\n");
	l->len = 0;
	if (n > 0)
		conout_put(c, l, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
}

void conout_lines(struct conout *c, struct conout_lines *l, const char *prefix, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		/* A bare \r would take the cursor back over the prefix; the console's own line end does the \r. */
		if (data[i] == '\r')
			continue;
		l->line[l->len++] = data[i];
		if (data[i] == '\n' || l->len == sizeof(l->line))
			lines_emit(c, l, prefix);
	}
}

void conout_lines_end(struct conout *c, struct conout_lines *l, const char *prefix)
{
	lines_emit(c, l, prefix);
}

bool conout_pending(const struct conout *c)
{
	/*
	 * A marker line owed counts: a piece too big for the room left may be dropped with nothing waiting. Not
	 * after a failed write, though: polling a console in error would spin; the next put tries again.
	 */
	return (c->used > 0 || (c->dropping && !c->broken)) && c->fd >= 0;
}

void conout_drain(struct conout *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	struct timespec start, now;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		conout_flush(c);
		if (!conout_pending(c))
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return;
	}
}

void conout_log(void *opaque, const char *line, size_t len)
{
	struct conout *c = opaque;

	conout_put(c, c, line, len);
}
