#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "init/supervisor_internal.h"
#include "lib/log.h"

#define READ_CHUNK	4096

/*
 * Puts g's held output on the console: a whole line, or the start of one. Guests write side by side, so a line is
 * shown only once it is complete, or has waited SUPERVISOR_HOLD_MS (a prompt), or fills line[]. The console
 * buffer knows whose line is open: a guest that continues its own line needs no prefix, and anyone else's output
 * (another guest's, a VMM's message, PID 1's) ends it first, so every console line carries one writer's prefix.
 */
static void output_emit(struct supervisor *sv, struct guest *g)
{
	char out[CONFIG_NAME_MAX + 3 + SUPERVISOR_LINE_MAX];
	size_t n = 0;

	if (!g->line_len)
		return;
	/* A configured name fits: at most CONFIG_NAME_MAX bytes. */
	if (!conout_owns(sv->con, g))
		n = (size_t)snprintf(out, sizeof(out), "%s| ", g->cfg->name);
	memcpy(out + n, g->line, g->line_len);
	conout_put_bulk(sv->con, g, out, n + g->line_len);
	g->line_len = 0;
	g->line_ms = 0;
}

/* Keeps a piece of guest output in its ring and passes it on to the console line by line. */
static void output_put(struct supervisor *sv, struct guest *g, const char *data, size_t len)
{
	size_t i;

	ring_write(&g->history, data, len);
	if (sv->watch && sv->watch->output)
		sv->watch->output(sv->watch_opaque, g, data, len);
	for (i = 0; i < len; i++) {
		/* A bare \r would take the cursor back over the NAME| prefix; the console's line end does the \r. */
		if (data[i] == '\r')
			continue;
		g->line[g->line_len++] = data[i];
		if (data[i] == '\n' || g->line_len == sizeof(g->line))
			output_emit(sv, g);
	}
	if (g->line_len && !g->line_ms)
		g->line_ms = supervisor_now_ms();
}

/* True when the guest's output so far ends within a line: the ring's last byte is not a line end. */
static bool history_open(const struct ring *r)
{
	return r->buf && r->end && r->buf[(r->end - 1) & (r->size - 1)] != '\n';
}

/*
 * Messages of the VMM itself (its stderr): kept in the ring beside the guest's output and shown each on a line of
 * its own, after what the guest wrote before them, never glued onto a guest's half-written line.
 */
static void message_put(struct supervisor *sv, struct guest *g, const char *data, size_t len)
{
	char prefix[CONFIG_NAME_MAX + 3];

	if (history_open(&g->history)) {
		ring_write(&g->history, "\n", 1);
		if (sv->watch && sv->watch->output)
			sv->watch->output(sv->watch_opaque, g, "\n", 1);
	}
	ring_write(&g->history, data, len);
	if (sv->watch && sv->watch->output)
		sv->watch->output(sv->watch_opaque, g, data, len);
	output_emit(sv, g);
	snprintf(prefix, sizeof(prefix), "%s| ", g->cfg->name);
	conout_lines(sv->con, &g->messages, prefix, data, len);
}

static void pipe_close(struct supervisor *sv, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(sv->epoll_fd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

void supervisor_output_close(struct supervisor *sv, struct guest *g)
{
	char prefix[CONFIG_NAME_MAX + 3];

	pipe_close(sv, &g->out_fd);
	pipe_close(sv, &g->err_fd);
	/* The last words without a line end: show them, and end the line for the next writer. */
	output_emit(sv, g);
	if (conout_owns(sv->con, g))
		conout_break(sv->con);
	snprintf(prefix, sizeof(prefix), "%s| ", g->cfg->name);
	conout_lines_end(sv->con, &g->messages, prefix);
}

/* Reads one of g's pipes: all it holds when drain, else one chunk (a chatty guest must not starve the rest). */
static void pipe_read(struct supervisor *sv, struct guest *g, int *fd, bool drain,
		      void (*put)(struct supervisor *sv, struct guest *g, const char *data, size_t len))
{
	char buf[READ_CHUNK];
	ssize_t n;

	while (*fd >= 0) {
		n = read(*fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0)
				log_error("guest %s: reading its output: %s", g->cfg->name, strerror(errno));
			pipe_close(sv, fd);
			return;
		}
		put(sv, g, buf, (size_t)n);
		if (!drain)
			return;
	}
}

void supervisor_output_read(struct supervisor *sv, struct guest *g, bool drain)
{
	/* The guest's output first: a VMM message is most often about what the guest just did. */
	pipe_read(sv, g, &g->out_fd, drain, output_put);
	pipe_read(sv, g, &g->err_fd, drain, message_put);
}

void supervisor_output_expire(struct supervisor *sv, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < sv->cfg.nguests; i++) {
		struct guest *g = &sv->guests[i];

		if (g->line_len && g->line_ms + SUPERVISOR_HOLD_MS <= now) {
			/*
			 * A prompt, most likely: end the line rather than leave it open for whatever the next writer to
			 * the console is (the kernel's messages go to the console directly, past PID 1).
			 */
			output_emit(sv, g);
			if (conout_owns(sv->con, g))
				conout_break(sv->con);
		}
	}
}
