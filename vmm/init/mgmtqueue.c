#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "init/mgmtqueue.h"

struct mgmtqueue_event {
	struct mgmtqueue_event *next;
	size_t len;
	unsigned char msg[];
};

void mgmtqueue_init(struct mgmtqueue *q)
{
	q->reply_len = 0;
	q->head = q->tail = NULL;
	q->events = 0;
	q->events_dropped = 0;
}

/* One message now: 0, -EAGAIN when the socket is full, or -errno. */
static int send_now(int fd, const void *msg, size_t len)
{
	ssize_t n;

	do
		n = send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

int mgmtqueue_flush(struct mgmtqueue *q, int fd)
{
	struct mgmtqueue_event *e;
	int ret;

	if (q->reply_len) {
		ret = send_now(fd, q->reply, q->reply_len);
		if (ret < 0)
			return ret == -EAGAIN ? 0 : ret;
		q->reply_len = 0;
	}
	while ((e = q->head)) {
		ret = send_now(fd, e->msg, e->len);
		if (ret < 0)
			return ret == -EAGAIN ? 0 : ret;
		q->head = e->next;
		if (!q->head)
			q->tail = NULL;
		q->events--;
		free(e);
	}
	return 0;
}

bool mgmtqueue_reply_waiting(const struct mgmtqueue *q)
{
	return q->reply_len > 0;
}

bool mgmtqueue_pending(const struct mgmtqueue *q)
{
	return q->reply_len || q->head;
}

int mgmtqueue_reply(struct mgmtqueue *q, int fd, const void *msg, size_t len)
{
	int ret;

	if (!len || len > sizeof(q->reply))
		return -EINVAL;
	ret = mgmtqueue_flush(q, fd);
	if (ret < 0)
		return ret;
	if (q->reply_len)
		return -EBUSY;
	/* Events that wait are older than this reply, but none can be about its request: they may follow it. */
	ret = send_now(fd, msg, len);
	if (ret != -EAGAIN)
		return ret;
	memcpy(q->reply, msg, len);
	q->reply_len = len;
	return 0;
}

int mgmtqueue_event(struct mgmtqueue *q, int fd, const void *msg, size_t len)
{
	struct mgmtqueue_event *e;
	int ret;

	ret = mgmtqueue_flush(q, fd);
	if (ret < 0)
		return ret;
	if (!mgmtqueue_pending(q)) {
		ret = send_now(fd, msg, len);
		if (ret != -EAGAIN)
			return ret;
	}
	if (q->events >= MGMTQUEUE_EVENTS)
		goto drop;
	e = malloc(sizeof(*e) + len);
	if (!e)
		goto drop;
	e->next = NULL;
	e->len = len;
	memcpy(e->msg, msg, len);
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->events++;
	return 0;
drop:
	q->events_dropped++;
	return -ENOBUFS;
}

int mgmtqueue_stream(struct mgmtqueue *q, int fd, const void *msg, size_t len)
{
	int ret;

	ret = mgmtqueue_flush(q, fd);
	if (ret < 0)
		return ret;
	if (mgmtqueue_pending(q))
		return -EAGAIN;
	return send_now(fd, msg, len);
}

void mgmtqueue_clear(struct mgmtqueue *q)
{
	struct mgmtqueue_event *e;

	while ((e = q->head)) {
		q->head = e->next;
		free(e);
	}
	mgmtqueue_init(q);
}
