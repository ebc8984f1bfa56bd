#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/evloop.h"
#include "lib/log.h"

#define EVLOOP_BATCH	32

int evloop_init(struct evloop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	memset(l, 0, sizeof(*l));
	l->stop_fd = -1;
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0)
		goto fail;
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stop_fd < 0)
		goto fail;
	/* data.ptr NULL marks the stop descriptor: no watch has a NULL address. */
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->stop_fd, &ev) < 0)
		goto fail;
	return 0;
fail:
	err = errno;
	log_error("event loop: %s", strerror(err));
	evloop_destroy(l);
	return -err;
}

void evloop_destroy(struct evloop *l)
{
	evloop_stop(l);
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->stop_fd = l->epoll_fd = -1;
}

static int watch_ctl(struct evloop *l, int op, struct evloop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	int err;

	if (epoll_ctl(l->epoll_fd, op, w->fd, &ev) < 0) {
		err = errno;
		log_error("event loop: watching fd %d: %s", w->fd, strerror(err));
		return -err;
	}
	return 0;
}

int evloop_add(struct evloop *l, struct evloop_watch *w, uint32_t events)
{
	return watch_ctl(l, EPOLL_CTL_ADD, w, events);
}

int evloop_mod(struct evloop *l, struct evloop_watch *w, uint32_t events)
{
	return watch_ctl(l, EPOLL_CTL_MOD, w, events);
}

int evloop_del(struct evloop *l, struct evloop_watch *w)
{
	return watch_ctl(l, EPOLL_CTL_DEL, w, 0);
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[EVLOOP_BATCH];
	struct evloop_watch *w;
	int i, n;

	n = epoll_wait(l->epoll_fd, evs, EVLOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		w = evs[i].data.ptr;
		if (!w)
			return 1;
		w->fn(w, evs[i].events);
	}
	return 0;
}

static void *evloop_thread(void *arg)
{
	struct evloop *l = arg;
	int ret;

	while ((ret = evloop_run_once(l, -1)) == 0)
		;
	if (ret < 0)
		log_error("event loop: epoll_wait: %s", strerror(-ret));
	return NULL;
}

int evloop_start(struct evloop *l)
{
	int err = pthread_create(&l->thread, NULL, evloop_thread, l);

	if (err) {
		log_error("event loop: thread: %s", strerror(err));
		return -err;
	}
	l->started = true;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;

	if (!l->started)
		return;
	if (write(l->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_error("event loop: stop: %s", strerror(errno));
	pthread_join(l->thread, NULL);
	l->started = false;
}
