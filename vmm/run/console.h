#ifndef SHRIKE_RUN_CONSOLE_H
#define SHRIKE_RUN_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/evloop.h"
#include "lib/ring.h"
#include "virtio/mmio.h"

/*
 * Where a guest's console output goes: into a history ring (the recent output the supervisor shows on request)
 * and, through a writer thread of its own, to a file descriptor (run's stdout). The devices emit from vCPU
 * threads and never wait for the reader: if it falls more than the ring behind, it skips what it missed and
 * the skipped bytes are counted.
 */
#define CONSOLE_HISTORY		(64 * 1024)

struct console_out {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ring history;
	uint64_t written;	/* ring position up to which out_fd has the output */
	uint64_t dropped;	/* bytes out_fd was too slow for */
	int out_fd;		/* -1: history only */
	bool stopping;
	bool started;
	pthread_t thread;
};

int console_out_init(struct console_out *c, int out_fd);
/* Any thread, never blocks for long: the bytes go into the ring and the writer is woken. */
void console_out_emit(void *opaque, const uint8_t *buf, size_t len);
int console_out_start(struct console_out *c);
/* Writes what is still queued (unless the reader is gone), stops the writer and frees the ring. */
void console_out_destroy(struct console_out *c);

/*
 * Host input for a virtio-console (run --console virtio): the event thread reads in_fd while the device takes
 * input, holds what it would not take, and stops reading until the guest posts receive buffers again (the
 * device's wakeup, through an eventfd). Input for the UART has its own thread in hw/serial.c.
 */
#define CONSOLE_IN_BUF		256

struct console_in {
	struct virtio_dev *dev;
	struct evloop *loop;
	struct evloop_watch in_watch;
	struct evloop_watch wake_watch;	/* eventfd */
	uint8_t pending[CONSOLE_IN_BUF];
	size_t nr_pending;
	bool reading;
};

int console_in_init(struct console_in *ci, struct evloop *loop, int in_fd, struct virtio_dev *dev);
void console_in_destroy(struct console_in *ci);

#endif
