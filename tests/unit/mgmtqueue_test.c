/* unit-sources: vmm/init/mgmtqueue.c */
/*
 * What PID 1 sends to mgmt: on a socketpair whose peer reads slowly, no reply is ever lost and each goes out
 * before any later event; console output is refused while anything waits; state events wait, up to a bound.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "init/mgmtqueue.h"

static struct mgmtqueue q;

enum { KIND_REPLY = 1, KIND_EVENT, KIND_STREAM };

struct msg {
	uint32_t kind;
	uint32_t seq;			/* order of issue, over all kinds */
	unsigned char pad[1000];	/* console output comes in pieces of this order */
};

static int pair(int sv[2])
{
	int small = 4096;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	return setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
}

/* One message off the peer's end: its kind and seq, or 0 when none waits. */
static uint32_t take(int fd, uint32_t *seq)
{
	struct msg m;
	ssize_t n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);

	if (n != (ssize_t)sizeof(m))
		return 0;
	*seq = m.seq;
	return m.kind;
}

/* A full socket: the reply waits and is not lost, and console output is refused until it is out. */
static const char *test_reply_waits(void)
{
	struct msg m = { .kind = KIND_STREAM };
	uint32_t seq, kind, streams = 0, order[3], n = 0;
	int sv[2];

	CHECK_INT(pair(sv), 0);
	mgmtqueue_init(&q);
	while (mgmtqueue_stream(&q, sv[0], &m, sizeof(m)) == 0)
		m.seq = ++streams;
	CHECK(streams > 0);
	m.kind = KIND_REPLY;
	m.seq = 1000;
	CHECK_INT(mgmtqueue_reply(&q, sv[0], &m, sizeof(m)), 0);
	CHECK(mgmtqueue_reply_waiting(&q));
	/* A second reply while one waits is refused, not queued or sent ahead of it. */
	CHECK_INT(mgmtqueue_reply(&q, sv[0], &m, sizeof(m)), -EBUSY);
	m.kind = KIND_EVENT;
	m.seq = 1001;
	CHECK_INT(mgmtqueue_event(&q, sv[0], &m, sizeof(m)), 0);
	/* The peer reads one: there is room now, but console output still waits for the reply and the event. */
	CHECK_INT(take(sv[1], &seq), KIND_STREAM);
	m.kind = KIND_STREAM;
	CHECK_INT(mgmtqueue_stream(&q, sv[0], &m, sizeof(m)), -EAGAIN);
	/* What the peer gets: the rest of the stream in order, then the reply, then the event. */
	for (;;) {
		CHECK_INT(mgmtqueue_flush(&q, sv[0]), 0);
		kind = take(sv[1], &seq);
		if (!kind)
			break;
		if (kind == KIND_STREAM) {
			CHECK(n == 0 && seq < streams);
			continue;
		}
		CHECK(n < 3);
		order[n++] = seq;
	}
	CHECK_INT(n, 2);
	CHECK_INT(order[0], 1000);
	CHECK_INT(order[1], 1001);
	CHECK(!mgmtqueue_pending(&q));
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

/*
 * The slow reader: each round PID 1 tries three pieces of console output, and every fifth round answers a
 * request (only when no reply waits, as mgmtlink does), while mgmt reads one message per round. Every reply
 * arrives, once and in order, and no console output issued after a reply arrives before it.
 */
static const char *test_slow_reader(void)
{
	struct msg m;
	uint32_t seq = 0, got, kind, replies = 0, replies_got = 0, last_reply = 0, next_reply_seq = UINT32_MAX;
	unsigned int round, i, dropped = 0, streams_got = 0, queued = 0;
	int sv[2];

	CHECK_INT(pair(sv), 0);
	mgmtqueue_init(&q);
	memset(&m, 0, sizeof(m));
	for (round = 0; round < 2000; round++) {
		CHECK_INT(mgmtqueue_flush(&q, sv[0]), 0);
		for (i = 0; i < 3; i++) {
			m.kind = KIND_STREAM;
			m.seq = ++seq;
			if (mgmtqueue_stream(&q, sv[0], &m, sizeof(m)) == -EAGAIN)
				dropped++;
		}
		if (round % 5 == 0 && !mgmtqueue_reply_waiting(&q)) {
			m.kind = KIND_REPLY;
			m.seq = ++seq;
			CHECK_INT(mgmtqueue_reply(&q, sv[0], &m, sizeof(m)), 0);
			queued += mgmtqueue_reply_waiting(&q);
			replies++;
			if (next_reply_seq == UINT32_MAX)
				next_reply_seq = m.seq;
		}
		kind = take(sv[1], &got);
		if (kind == KIND_REPLY) {
			CHECK(got > last_reply);
			last_reply = got;
			replies_got++;
			next_reply_seq = UINT32_MAX;
		} else if (kind == KIND_STREAM) {
			/* Issued after a reply still on its way: it would have overtaken it. */
			CHECK(next_reply_seq == UINT32_MAX || got < next_reply_seq);
			streams_got++;
		}
	}
	for (;;) {
		CHECK_INT(mgmtqueue_flush(&q, sv[0]), 0);
		kind = take(sv[1], &got);
		if (!kind && !mgmtqueue_pending(&q))
			break;
		if (kind == KIND_REPLY) {
			replies_got++;
			CHECK(got > last_reply);
			last_reply = got;
		}
	}
	CHECK_INT(replies_got, replies);
	CHECK(replies >= 300);
	/* Most replies found the socket full and waited their turn. */
	CHECK(queued > replies / 2);
	/* The peer could not keep up: console output was refused, and counted by the caller. */
	CHECK(dropped > 0);
	CHECK(streams_got > 0);
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

/* Events wait up to the bound; one more is dropped and counted. */
static const char *test_events_bounded(void)
{
	struct msg m = { .kind = KIND_STREAM };
	unsigned int i;
	uint32_t seq;
	int sv[2];

	CHECK_INT(pair(sv), 0);
	mgmtqueue_init(&q);
	while (mgmtqueue_stream(&q, sv[0], &m, sizeof(m)) == 0)
		;
	m.kind = KIND_EVENT;
	for (i = 0; i < MGMTQUEUE_EVENTS; i++)
		CHECK_INT(mgmtqueue_event(&q, sv[0], &m, 16), 0);
	CHECK_INT(mgmtqueue_event(&q, sv[0], &m, 16), -ENOBUFS);
	CHECK_INT(q.events_dropped, 1);
	/* A reply still gets its slot. */
	m.kind = KIND_REPLY;
	CHECK_INT(mgmtqueue_reply(&q, sv[0], &m, sizeof(m)), 0);
	while (take(sv[1], &seq) == KIND_STREAM)
		;
	mgmtqueue_clear(&q);
	CHECK(!mgmtqueue_pending(&q));
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

/* mgmt gone: the flush says so, and nothing is left waiting once the caller clears the queue. */
static const char *test_peer_gone(void)
{
	struct msg m = { .kind = KIND_STREAM };
	int sv[2];

	CHECK_INT(pair(sv), 0);
	mgmtqueue_init(&q);
	while (mgmtqueue_stream(&q, sv[0], &m, sizeof(m)) == 0)
		;
	m.kind = KIND_REPLY;
	CHECK_INT(mgmtqueue_reply(&q, sv[0], &m, sizeof(m)), 0);
	close(sv[1]);
	CHECK(mgmtqueue_flush(&q, sv[0]) < 0);
	mgmtqueue_clear(&q);
	CHECK(!mgmtqueue_pending(&q));
	close(sv[0]);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "mgmtqueue-reply-waits", test_reply_waits },
		{ "mgmtqueue-slow-reader", test_slow_reader },
		{ "mgmtqueue-events-bounded", test_events_bounded },
		{ "mgmtqueue-peer-gone", test_peer_gone },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
