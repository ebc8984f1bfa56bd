#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "run/console.h"
#include "run/stats.h"
#include "lib/log.h"
#include "virtio/console.h"

#define CONSOLE_CHUNK	4096

int console_out_init(struct console_out *c, int out_fd)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = out_fd;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (ring_init(&c->history, CONSOLE_HISTORY) < 0) {
		log_error("console: out of memory");
		return -ENOMEM;
	}
	return 0;
}

void console_out_emit(void *opaque, const uint8_t *buf, size_t len)
{
	struct console_out *c = opaque;

	pthread_mutex_lock(&c->lock);
	ring_write(&c->history, buf, len);
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static bool write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void *console_writer(void *arg)
{
	struct console_out *c = arg;
	uint8_t chunk[CONSOLE_CHUNK];
	uint64_t lost;
	size_t n;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (c->written == c->history.end && !c->stopping)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->written == c->history.end)
			break;
		n = ring_read(&c->history, &c->written, chunk, sizeof(chunk), &lost);
		c->dropped += lost;
		if (lost)
			stats_console_dropped(lost);
		pthread_mutex_unlock(&c->lock);
		/* A reader that went away (EPIPE, EIO on a closed terminal) just stops getting output. */
		if (c->out_fd >= 0 && !write_all(c->out_fd, chunk, n))
			c->out_fd = -1;
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int console_out_start(struct console_out *c)
{
	int err;

	if (c->out_fd < 0)
		return 0;
	err = pthread_create(&c->thread, NULL, console_writer, c);
	if (err) {
		log_error("console: writer thread: %s", strerror(err));
		return -err;
	}
	c->started = true;
	return 0;
}

void console_out_destroy(struct console_out *c)
{
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stopping = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	if (c->dropped)
		log_info("console: %llu bytes of guest output were dropped (the reader was too slow)",
			 (unsigned long long)c->dropped);
	ring_free(&c->history);
}

/* Offers what is pending; reading goes on only once the device took all of it. */
static void console_in_push(struct console_in *ci)
{
	size_t took = virtio_console_input(ci->dev, ci->pending, ci->nr_pending);
	bool read_more;

	memmove(ci->pending, ci->pending + took, ci->nr_pending - took);
	ci->nr_pending -= took;
	read_more = ci->nr_pending == 0;
	if (read_more != ci->reading && evloop_mod(ci->loop, &ci->in_watch, read_more ? EPOLLIN : 0) == 0)
		ci->reading = read_more;
}

static void console_in_readable(struct evloop_watch *w, uint32_t events)
{
	struct console_in *ci = w->opaque;
	ssize_t n;

	n = read(w->fd, ci->pending, sizeof(ci->pending));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (events & EPOLLERR)) {
		evloop_del(ci->loop, w);	/* end of input: the guest just gets no more */
		ci->reading = false;
		return;
	}
	ci->nr_pending = (size_t)n;
	console_in_push(ci);
}

static void console_in_woken(struct evloop_watch *w, uint32_t events)
{
	struct console_in *ci = w->opaque;
	uint64_t v;

	(void)events;
	if (read(w->fd, &v, sizeof(v)) == sizeof(v) && ci->nr_pending)
		console_in_push(ci);
}

/* The device's wakeup: a vCPU thread under the device's lock, so only a write to the eventfd. */
static void console_in_wakeup(void *opaque)
{
	struct console_in *ci = opaque;
	uint64_t one = 1;

	if (write(ci->wake_watch.fd, &one, sizeof(one)) < 0)
		log_error("console input: wakeup: %s", strerror(errno));
}

/* epoll takes terminals, pipes and sockets; a regular file or /dev/null as stdin means no input. */
static bool pollable(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && (isatty(fd) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

int console_in_init(struct console_in *ci, struct evloop *loop, int in_fd, struct virtio_dev *dev)
{
	int wake, ret;

	memset(ci, 0, sizeof(*ci));
	ci->dev = dev;
	ci->loop = loop;
	ci->wake_watch.fd = -1;
	if (!pollable(in_fd))
		return 0;
	wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake < 0) {
		ret = -errno;
		log_error("console input: eventfd: %s", strerror(errno));
		return ret;
	}
	ci->wake_watch = (struct evloop_watch){ .fd = wake, .fn = console_in_woken, .opaque = ci };
	ci->in_watch = (struct evloop_watch){ .fd = in_fd, .fn = console_in_readable, .opaque = ci };
	ret = evloop_add(loop, &ci->wake_watch, EPOLLIN);
	if (ret == 0) {
		ret = evloop_add(loop, &ci->in_watch, EPOLLIN);
		if (ret < 0)
			evloop_del(loop, &ci->wake_watch);
	}
	if (ret < 0) {
		close(wake);
		ci->wake_watch.fd = -1;
		return ret;
	}
	ci->reading = true;
	virtio_console_set_wakeup(dev, console_in_wakeup, ci);
	return 0;
}

void console_in_destroy(struct console_in *ci)
{
	if (ci->wake_watch.fd < 0)
		return;
	virtio_console_set_wakeup(ci->dev, NULL, NULL);
	close(ci->wake_watch.fd);
	ci->wake_watch.fd = -1;
}
