#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "init/supervisor_internal.h"
#include "lib/log.h"

#define READ_CHUNK	4096

/*
 * Puts g's held output on the console: a whole line, or (complete false) the start of one. Guests write side by
 * side, so a line is shown only once it is complete, or has waited SUPERVISOR_HOLD_MS (a prompt), or fills
 * line[]; a started line of another guest is ended first, so that every console line carries one guest's prefix.
 */
static void output_emit(struct supervisor *sv, struct guest *g, bool complete)
{
	if (sv->open_line && sv->open_line != g) {
		fputc('\n', stdout);
		sv->open_line->continued = false;
		sv->open_line = NULL;
	}
	if (!g->continued)
		printf("%s| ", g->cfg->name);
	fwrite(g->line, 1, g->line_len, stdout);
	fflush(stdout);
	g->continued = !complete;
	sv->open_line = complete ? NULL : g;
	g->line_len = 0;
	g->line_ms = 0;
}

void supervisor_console_break(struct supervisor *sv)
{
	if (!sv->open_line)
		return;
	fputc('\n', stdout);
	fflush(stdout);
	sv->open_line->continued = false;
	sv->open_line = NULL;
}

/* Keeps a piece of guest output in its ring and passes it on to the console line by line. */
static void output_put(struct supervisor *sv, struct guest *g, const char *data, size_t len)
{
	size_t i;

	ring_write(&g->history, data, len);
	if (sv->watch && sv->watch->output)
		sv->watch->output(sv->watch_opaque, g, data, len);
	for (i = 0; i < len; i++) {
		g->line[g->line_len++] = data[i];
		if (data[i] == '\n' || g->line_len == sizeof(g->line))
			output_emit(sv, g, data[i] == '\n');
	}
	if (g->line_len && !g->line_ms)
		g->line_ms = supervisor_now_ms();
}

void supervisor_output_close(struct supervisor *sv, struct guest *g)
{
	if (g->out_fd < 0)
		return;
	epoll_ctl(sv->epoll_fd, EPOLL_CTL_DEL, g->out_fd, NULL);
	close(g->out_fd);
	g->out_fd = -1;
	/* The last words without a line end: show them, and end the line for the next writer. */
	if (g->line_len)
		output_emit(sv, g, false);
	if (sv->open_line == g) {
		fputc('\n', stdout);
		fflush(stdout);
		sv->open_line = NULL;
	}
	g->continued = false;
}

/* Reads what the pipe holds; all of it when drain, else one chunk (a chatty guest must not starve the rest). */
void supervisor_output_read(struct supervisor *sv, struct guest *g, bool drain)
{
	char buf[READ_CHUNK];
	ssize_t n;

	while (g->out_fd >= 0) {
		n = read(g->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0)
				log_error("guest %s: reading its output: %s", g->cfg->name, strerror(errno));
			supervisor_output_close(sv, g);
			return;
		}
		output_put(sv, g, buf, (size_t)n);
		if (!drain)
			return;
	}
}

void supervisor_output_expire(struct supervisor *sv, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < sv->cfg.nguests; i++) {
		struct guest *g = &sv->guests[i];

		if (g->line_len && g->line_ms + SUPERVISOR_HOLD_MS <= now) {
			/*
			 * A prompt, most likely: end the line rather than leave it open for whatever the next writer to
			 * the console is (the answer to what is typed at it comes with a prefix of its own).
			 */
			output_emit(sv, g, false);
			supervisor_console_break(sv);
		}
	}
}
