/* unit-sources: vmm/run/console.c vmm/lib/ring.c vmm/lib/evloop.c vmm/lib/log.c vmm/run/stats.c */
/*
 * Console output: emitters never wait for the reader. A reader that stalls loses the bytes it was too slow for,
 * counted, and everything else arrives in order; the history keeps the newest output.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "run/console.h"


static const char *test_passes_through(void)
{
	struct console_out c;
	char buf[64];
	int p[2];

	CHECK_INT(pipe(p), 0);
	CHECK_INT(console_out_init(&c, p[1]), 0);
	CHECK_INT(console_out_start(&c), 0);
	console_out_emit(&c, (const uint8_t *)"hello ", 6);
	console_out_emit(&c, (const uint8_t *)"world", 5);
	console_out_destroy(&c);		/* flushes */
	close(p[1]);
	CHECK_INT(read(p[0], buf, sizeof(buf)), 11);
	CHECK(!memcmp(buf, "hello world", 11));
	close(p[0]);
	return NULL;
}

/* 1 MiB into a pipe nobody reads until the end: the emitter finishes at once, the loss is counted. */
static const char *test_slow_reader_loses_counted_bytes(void)
{
	static uint8_t chunk[4096], got[1 << 16];
	struct console_out c;
	uint64_t total = 0, seen = 0, last = 0;
	unsigned int i;
	ssize_t n;
	int p[2];

	CHECK_INT(pipe(p), 0);
	CHECK_INT(console_out_init(&c, p[1]), 0);
	CHECK_INT(console_out_start(&c), 0);
	for (i = 0; i < 256; i++) {
		memset(chunk, (int)(i & 0xff), sizeof(chunk));
		console_out_emit(&c, chunk, sizeof(chunk));
		total += sizeof(chunk);
	}
	/* The newest output is in the history whatever the reader did. */
	CHECK_INT(c.history.end, total);
	CHECK_INT(c.history.buf[(total - 1) & (c.history.size - 1)], 255);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		n = read(p[0], got, sizeof(got));
		if (n > 0) {
			seen += (uint64_t)n;
			last = got[n - 1];
			continue;
		}
		pthread_mutex_lock(&c.lock);
		n = c.written == c.history.end;
		pthread_mutex_unlock(&c.lock);
		if (n)
			break;
		usleep(1000);
	}
	while ((n = read(p[0], got, sizeof(got))) > 0) {
		seen += (uint64_t)n;
		last = got[n - 1];
	}
	CHECK_INT(seen + c.dropped, total);
	CHECK(c.dropped > 0);
	CHECK_INT(last, 255);			/* the end arrived */
	console_out_destroy(&c);
	close(p[0]);
	close(p[1]);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "console-out-passes-through", test_passes_through },
		{ "console-out-slow-reader", test_slow_reader_loses_counted_bytes },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
