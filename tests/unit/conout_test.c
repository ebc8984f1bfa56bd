/* unit-sources: vmm/init/conout.c */
/*
 * PID 1's console buffer: it never blocks, takes what a slow console leaves over, counts what it drops and says
 * so in a marker line, and keeps every console line one writer's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "init/conout.h"

static struct conout con;
static char got[4 * CONOUT_SIZE];

/* A console that takes only what its pipe holds (one page), until the test reads it. */
static int slow_console(int p[2])
{
	if (pipe2(p, O_NONBLOCK) < 0)
		return -1;
	return fcntl(p[1], F_SETPIPE_SZ, 4096) < 0 ? -1 : 0;
}

/* Everything the console shows from now on, flushing as it reads; NUL-terminated. Returns its length. */
static size_t read_all(int fd)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, got + len, sizeof(got) - 1 - len);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (!conout_pending(&con))
			break;
		conout_flush(&con);
	}
	got[len] = '\0';
	return len;
}

/* A console that takes everything: what is put is written at once, nothing waits. */
static const char *test_writes_through(void)
{
	int p[2];

	CHECK_INT(pipe2(p, O_NONBLOCK), 0);
	conout_init(&con, p[1]);
	conout_printf(&con, "Shrike %s starting\n", "1.0");
	conout_put(&con, &p, "web| READY\n", 11);
	CHECK(!conout_pending(&con));
	CHECK_INT(read_all(p[0]), 31);
	CHECK_STR(got, "Shrike 1.0 starting\nweb| READY\n");
	close(p[0]);
	close(p[1]);
	return NULL;
}

/*
 * A console that takes part of each write: the rest waits, in order, and goes out as the console drains; nothing
 * is lost while the buffer has room.
 */
static const char *test_partial_writes(void)
{
	static char line[100];
	unsigned int i;
	int p[2];

	CHECK_INT(slow_console(p), 0);
	conout_init(&con, p[1]);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "%05u", i);
		line[5] = 'x';
		conout_put(&con, &p, line, sizeof(line));
	}
	CHECK(conout_pending(&con));
	CHECK(con.used >= 200 * sizeof(line) - 4096);
	CHECK_INT(read_all(p[0]), 200 * sizeof(line));
	for (i = 0; i < 200; i++) {
		char want[6];

		snprintf(want, sizeof(want), "%05u", i);
		CHECK(!memcmp(got + i * sizeof(line), want, 5));
		CHECK(got[i * sizeof(line) + sizeof(line) - 1] == '\n');
	}
	CHECK_INT(con.dropped_total, 0);
	close(p[0]);
	close(p[1]);
	return NULL;
}

/*
 * A console that takes nothing: guests' output fills the buffer up to the room kept for PID 1's own lines, then
 * whole pieces are dropped and counted, while PID 1's own line still gets in; once the buffer has drained to half,
 * a marker line says how many bytes were lost and guests' output is taken again.
 */
static const char *test_full_buffer_drops(void)
{
	static char line[1000];
	size_t taken = 0, dropped = 0, len;
	char marker[128];
	unsigned int i;
	int p[2];

	CHECK_INT(slow_console(p), 0);
	conout_init(&con, p[1]);
	memset(line, 'y', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 100; i++) {
		bool was = con.dropping;

		conout_put_bulk(&con, &p, line, sizeof(line));
		if (con.dropping || was)
			dropped += sizeof(line);
		else
			taken += sizeof(line);
	}
	CHECK(con.dropping);
	CHECK_INT(con.dropped, dropped);
	CHECK_INT(con.dropped_total, dropped);
	/* The pipe's page and the buffer, less the room kept for the marker and for PID 1, in whole lines. */
	CHECK(taken <= 4096 + CONOUT_SIZE - 8192 && taken + 2 * sizeof(line) > 4096 + CONOUT_SIZE - 8192 - 96);
	/* Still dropping while more than half waits: no marker yet, and no partial piece. */
	CHECK(con.used > CONOUT_SIZE / 2);
	conout_put_bulk(&con, &p, "late\n", 5);
	dropped += 5;
	CHECK_INT(con.dropped, dropped);
	/* PID 1's answer is not dropped with them. */
	conout_printf(&con, "shrike: %s\n", "answer");

	len = read_all(p[0]);
	snprintf(marker, sizeof(marker), "shrike: console: %zu bytes dropped (the console is slower than the output)\n",
		 dropped);
	CHECK_INT(len, taken + 15 + strlen(marker));
	CHECK(!memcmp(got + taken, "shrike: answer\n", 15));
	CHECK(!memcmp(got + taken + 15, marker, strlen(marker)));
	CHECK(!con.dropping);
	CHECK_INT(con.dropped, 0);
	CHECK_INT(con.dropped_total, dropped);
	/* And guests' output is taken again after it. */
	conout_put_bulk(&con, &p, "again\n", 6);
	CHECK_INT(read_all(p[0]), 6);
	CHECK_STR(got, "again\n");
	close(p[0]);
	close(p[1]);
	return NULL;
}

/* A marker after a half-written line starts on a line of its own. */
static const char *test_marker_own_line(void)
{
	static char big[CONOUT_SIZE];
	char *nl;
	int p[2];

	CHECK_INT(slow_console(p), 0);
	conout_init(&con, p[1]);
	memset(big, 'z', sizeof(big));
	conout_put(&con, &p, "half", 4);
	conout_put(&con, &p, big, sizeof(big));
	CHECK_INT(con.dropped, sizeof(big));
	read_all(p[0]);
	nl = strstr(got, "shrike: console: ");
	CHECK(nl && nl == got + 5);
	CHECK(!memcmp(got, "half\n", 5));
	close(p[0]);
	close(p[1]);
	return NULL;
}

/* Each console line is one writer's: another's output ends an open line first, its owner continues it. */
static const char *test_line_owner(void)
{
	int a, b, p[2];

	CHECK_INT(pipe2(p, O_NONBLOCK), 0);
	conout_init(&con, p[1]);
	conout_put(&con, &a, "a| start", 8);
	CHECK(conout_owns(&con, &a));
	conout_put(&con, &a, " more", 5);
	conout_put(&con, &b, "b| other\n", 9);
	CHECK(!conout_owns(&con, &a));
	conout_put(&con, &a, "a| again", 8);
	conout_printf(&con, "shrike: %s\n", "pid 1");
	conout_put(&con, &a, "a| end", 6);
	conout_break(&con);
	conout_break(&con);
	read_all(p[0]);
	CHECK_STR(got, "a| start more\nb| other\na| again\nshrike: pid 1\na| end\n");
	close(p[0]);
	close(p[1]);
	return NULL;
}

/* Lines from a pipe, whole and prefixed; a bare \r is not passed on; an overlong line comes in pieces. */
static const char *test_lines(void)
{
	static struct conout_lines l;
	static char big[CONOUT_LINE_MAX + 10];
	int p[2];

	CHECK_INT(pipe2(p, O_NONBLOCK), 0);
	conout_init(&con, p[1]);
	conout_lines(&con, &l, "web| ", "one\r\ntw", 7);
	conout_lines(&con, &l, "web| ", "o\rthree\n", 8);
	read_all(p[0]);
	CHECK_STR(got, "web| one\nweb| twothree\n");
	memset(big, 'q', sizeof(big));
	conout_lines(&con, &l, "", big, sizeof(big));
	conout_lines_end(&con, &l, "");
	CHECK_INT(read_all(p[0]), sizeof(big) + 2);
	CHECK(got[CONOUT_LINE_MAX] == '\n' && got[sizeof(big) + 1] == '\n');
	close(p[0]);
	close(p[1]);
	return NULL;
}

/* No console at all: everything is dropped and counted, nothing waits. */
static const char *test_no_console(void)
{
	conout_init(&con, -1);
	conout_printf(&con, "nowhere\n");
	CHECK(!conout_pending(&con));
	CHECK_INT(con.dropped_total, 8);
	return NULL;
}

/* A console that fails: what waited is dropped and counted, and said so once it works again. */
static const char *test_write_error(void)
{
	int p[2];

	CHECK_INT(pipe2(p, O_NONBLOCK), 0);
	conout_init(&con, p[1]);
	conout_put(&con, &p, "x\n", 2);
	read_all(p[0]);
	con.fd = 999;	/* EBADF */
	conout_put(&con, &p, "lost\n", 5);
	CHECK(!conout_pending(&con));
	CHECK_INT(con.dropped, 5);
	con.fd = p[1];
	conout_put(&con, &p, "back\n", 5);
	read_all(p[0]);
	CHECK_STR(got, "shrike: console: 5 bytes dropped (the console is slower than the output)\nback\n");
	close(p[0]);
	close(p[1]);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "conout-writes-through", test_writes_through },
		{ "conout-partial-writes", test_partial_writes },
		{ "conout-full-buffer-drops", test_full_buffer_drops },
		{ "conout-marker-own-line", test_marker_own_line },
		{ "conout-line-owner", test_line_owner },
		{ "conout-lines", test_lines },
		{ "conout-no-console", test_no_console },
		{ "conout-write-error", test_write_error },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
