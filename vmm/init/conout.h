#ifndef SHRIKE_INIT_CONOUT_H
#define SHRIKE_INIT_CONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * PID 1's output to the appliance console, written without ever blocking (docs/supervisor.md). A serial console
 * may drain slower than guests talk, or not at all for a while; a write(2) that waits for it would stop PID 1's
 * loop, the watchdog's petting and the answers to the management port. So everything PID 1 shows goes into a
 * bounded buffer that its loop writes out as the console takes it. When the buffer is full, output is dropped and
 * counted until it has drained to half, and then a marker line says how much was lost. Guests' output (bulk) is
 * dropped first: the last 8 KiB of room are kept for PID 1's own lines, such as the answer to a console command.
 *
 * The buffer also keeps console lines whole: it knows whose line is open (its last byte taken is not a line end),
 * and a writer that is not its owner gets a line end in front of its output.
 */
#define CONOUT_SIZE		(64 * 1024)
#define CONOUT_LINE_MAX		512	/* a longer line passed on by conout_lines() is shown in pieces */

struct conout {
	int fd;				/* non-blocking; -1: no console, everything is dropped */
	char buf[CONOUT_SIZE];
	size_t head, used;		/* the bytes waiting: buf[head] on, wrapping around */
	const void *open;		/* the writer whose line is open on the console, NULL at a line start */
	bool dropping;			/* dropping output until the buffer has drained to half */
	bool broken;			/* the last write failed: not polled again until the next put */
	uint64_t dropped;		/* bytes dropped since the last marker line */
	uint64_t dropped_total;
};

/* A line assembler for a writer whose output comes in pieces (a pipe): see conout_lines(). */
struct conout_lines {
	char line[CONOUT_LINE_MAX];
	size_t len;
};

void conout_init(struct conout *c, int fd);

/*
 * Queues len bytes of writer's output (a line, or a piece of one) and writes what the console takes now. An open
 * line of another writer is ended first. All or nothing: what does not fit is dropped and counted.
 */
void conout_put(struct conout *c, const void *writer, const char *data, size_t len);
/* The same for guests' output: refused while dropping, and kept out of the room reserved for the rest. */
void conout_put_bulk(struct conout *c, const void *writer, const char *data, size_t len);

/* PID 1's own lines, printf style. */
void conout_printf(struct conout *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when writer's line is the open one: its next piece continues it, without a prefix. */
bool conout_owns(const struct conout *c, const void *writer);

/* Ends the open line, whoever's it is. */
void conout_break(struct conout *c);

/*
 * Passes data on line by line, each line whole with prefix in front; l keeps a line without its end for the next
 * call. conout_lines_end() shows that rest when the writer is gone.
 */
void conout_lines(struct conout *c, struct conout_lines *l, const char *prefix, const char *data, size_t len);
void conout_lines_end(struct conout *c, struct conout_lines *l, const char *prefix);

/* Writes what the console takes now; a write that fails drops what was queued (counted). */
void conout_flush(struct conout *c);

/* True while bytes wait: poll the fd for POLLOUT, then conout_flush(). */
bool conout_pending(const struct conout *c);

/* Waits up to timeout_ms for everything queued to be written: the last words before a power-off. */
void conout_drain(struct conout *c, int timeout_ms);

/* A lib/log.h sink: opaque is the struct conout. */
void conout_log(void *opaque, const char *line, size_t len);

#endif
