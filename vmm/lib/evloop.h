#ifndef SHRIKE_LIB_EVLOOP_H
#define SHRIKE_LIB_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The VMM's event thread: one epoll loop that does all host I/O of the devices (disk and tap reads and writes,
 * console input and output, queue kicks through ioeventfd), so a vCPU thread never blocks on the host. Handlers
 * run one at a time on that thread. A device embeds a struct evloop_watch per file descriptor it waits on.
 */

struct evloop_watch;
/* events is what epoll reported (EPOLLIN, EPOLLOUT, EPOLLHUP, ...). */
typedef void evloop_fn(struct evloop_watch *w, uint32_t events);

struct evloop_watch {
	int fd;
	evloop_fn *fn;
	void *opaque;		/* for the handler */
};

struct evloop {
	int epoll_fd;
	int stop_fd;		/* eventfd: ends the thread */
	pthread_t thread;
	bool started;
};

int evloop_init(struct evloop *l);
/* Stops the thread if it runs and closes the loop's own descriptors (not the watched ones). */
void evloop_destroy(struct evloop *l);

/* Starts watching w->fd for events (EPOLLIN and/or EPOLLOUT); w must stay valid until evloop_del(). */
int evloop_add(struct evloop *l, struct evloop_watch *w, uint32_t events);
/* Changes the events of a watched descriptor, e.g. EPOLLOUT only while output is queued. */
int evloop_mod(struct evloop *l, struct evloop_watch *w, uint32_t events);
int evloop_del(struct evloop *l, struct evloop_watch *w);

/*
 * Waits up to timeout_ms (-1: for ever) and runs the handlers of what became ready. Returns 0, 1 once
 * evloop_stop() was called, or -errno. The thread is this in a loop; tests call it directly.
 */
int evloop_run_once(struct evloop *l, int timeout_ms);

int evloop_start(struct evloop *l);
/* Returns once the thread has finished its current handler and left. */
void evloop_stop(struct evloop *l);

#endif
