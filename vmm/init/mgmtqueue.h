#ifndef SHRIKE_INIT_MGMTQUEUE_H
#define SHRIKE_INIT_MGMTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/proto.h"

/*
 * What PID 1 sends to mgmt on their non-blocking SOCK_SEQPACKET socketpair: replies to its requests and events
 * for its subscriptions. The socket fills up when mgmt reads slower than a chatty guest's console follow feeds
 * it, and PID 1 must neither wait for it nor lose an answer (mgmt would answer its client 504 after 15 s). So:
 *
 * - a reply the socket does not take now waits here and goes out before any further event. PID 1 takes no new
 *   request from mgmt while one waits, so one slot is all replies ever need;
 * - a state or end event (rare, small) waits in order behind it, up to MGMTQUEUE_EVENTS of them; more are
 *   dropped and counted;
 * - console output is sent only when nothing waits and the socket takes it at once; otherwise the caller counts
 *   the bytes as dropped and reports them in its next console event (proto_data.dropped).
 */
#define MGMTQUEUE_EVENTS	256

struct mgmtqueue_event;

struct mgmtqueue {
	unsigned char reply[PROTO_MSG_MAX];
	size_t reply_len;			/* 0: no reply waits */
	struct mgmtqueue_event *head, *tail;	/* waiting events, oldest first */
	unsigned int events;
	uint64_t events_dropped;
};

void mgmtqueue_init(struct mgmtqueue *q);

/*
 * Sends a reply on fd now, or keeps it to send once fd takes it. Returns 0; -EBUSY if a reply waits already (the
 * caller took a request it should not have: this one is dropped); or -errno when the socket failed.
 */
int mgmtqueue_reply(struct mgmtqueue *q, int fd, const void *msg, size_t len);

/* An event that must not be lost lightly: sent now, or queued. Returns 0, -ENOBUFS (dropped, counted), -errno. */
int mgmtqueue_event(struct mgmtqueue *q, int fd, const void *msg, size_t len);

/* Console output: sent now if nothing waits and fd takes it. Returns 0, -EAGAIN (the caller counts it), -errno. */
int mgmtqueue_stream(struct mgmtqueue *q, int fd, const void *msg, size_t len);

/* Sends what waits, the reply first, as far as fd takes it. Returns 0, or -errno when the socket failed. */
int mgmtqueue_flush(struct mgmtqueue *q, int fd);

/* True while a reply waits: take no request until it is out. */
bool mgmtqueue_reply_waiting(const struct mgmtqueue *q);

/* True while anything waits: poll fd for POLLOUT, then mgmtqueue_flush(). */
bool mgmtqueue_pending(const struct mgmtqueue *q);

/* mgmt is gone: what waited for it goes too. */
void mgmtqueue_clear(struct mgmtqueue *q);

#endif
