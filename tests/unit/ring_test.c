/* unit-sources: vmm/lib/ring.c */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "lib/ring.h"

static const char *test_rounds_up(void)
{
	struct ring r;

	CHECK_INT(ring_init(&r, 100), 0);
	CHECK_INT(r.size, 128);
	ring_free(&r);
	return NULL;
}

static const char *test_read_back_in_order(void)
{
	struct ring r;
	uint64_t pos = 0, lost = 99;
	char out[16];

	CHECK_INT(ring_init(&r, 16), 0);
	ring_write(&r, "hello ", 6);
	ring_write(&r, "world", 5);
	CHECK_INT(ring_read(&r, &pos, out, sizeof(out), &lost), 11);
	CHECK(!memcmp(out, "hello world", 11));
	CHECK_INT(pos, 11);
	CHECK_INT(lost, 0);
	/* nothing new: nothing read, position unchanged */
	CHECK_INT(ring_read(&r, &pos, out, sizeof(out), &lost), 0);
	CHECK_INT(pos, 11);
	ring_free(&r);
	return NULL;
}

/* Writes that wrap around the end of the buffer keep the newest size bytes, in order. */
static const char *test_wraps_and_counts_lost(void)
{
	struct ring r;
	uint64_t pos = 0, lost = 0;
	char out[8];

	CHECK_INT(ring_init(&r, 8), 0);
	ring_write(&r, "abcdef", 6);
	ring_write(&r, "ghijk", 5);		/* 11 bytes in all: "abc" is gone */
	CHECK_INT(ring_start(&r), 3);
	CHECK_INT(ring_read(&r, &pos, out, sizeof(out), &lost), 8);
	CHECK_INT(lost, 3);
	CHECK(!memcmp(out, "defghijk", 8));
	ring_free(&r);
	return NULL;
}

static const char *test_huge_write_keeps_tail(void)
{
	struct ring r;
	uint64_t pos = 0, lost = 0;
	char in[100], out[8];
	unsigned int i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)i;
	CHECK_INT(ring_init(&r, 8), 0);
	ring_write(&r, "x", 1);
	ring_write(&r, in, sizeof(in));
	CHECK_INT(r.end, 101);
	CHECK_INT(ring_read(&r, &pos, out, 3, &lost), 3);
	CHECK_INT(lost, 93);
	CHECK_INT(out[0], 92);
	CHECK_INT(ring_read(&r, &pos, out, 8, NULL), 5);
	CHECK_INT(out[4], 99);
	ring_free(&r);
	return NULL;
}

/* A reader position beyond the end (a caller's bug or a stale value) is clamped, never read past. */
static const char *test_position_past_end(void)
{
	struct ring r;
	uint64_t pos = 1000;
	char out[4];

	CHECK_INT(ring_init(&r, 4), 0);
	ring_write(&r, "ab", 2);
	CHECK_INT(ring_read(&r, &pos, out, sizeof(out), NULL), 0);
	CHECK_INT(pos, 2);
	ring_free(&r);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "ring-rounds-up", test_rounds_up },
		{ "ring-read-back-in-order", test_read_back_in_order },
		{ "ring-wraps-and-counts-lost", test_wraps_and_counts_lost },
		{ "ring-huge-write-keeps-tail", test_huge_write_keeps_tail },
		{ "ring-position-past-end", test_position_past_end },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
