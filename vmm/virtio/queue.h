#ifndef SHRIKE_VIRTIO_QUEUE_H
#define SHRIKE_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/vm.h"

/*
 * The split virtqueue of virtio 1.x, walked from the device side. Everything in guest memory is written by a
 * guest we do not trust: each index is range-checked, each buffer's gpa + len is checked against RAM before the
 * device sees a host pointer, and a chain is at most as long as the queue, so a cycle is an error, not a hang.
 * Indirect descriptors and event indices are not offered, so a descriptor asking for either is an error too.
 * The host is x86-64: guest and host are both little-endian.
 */

/* The largest queue any device offers (QueueNumMax); a chain never holds more buffers than its queue size. */
#define VIRTQ_NUM_MAX		256

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One queue: the registers the driver writes, and once activated, host pointers to its three rings. */
struct virtq {
	uint16_t num;		/* QueueNum: a power of two, at most num_max */
	uint16_t num_max;	/* QueueNumMax the device offers */
	bool ready;		/* QueueReady: the rings below are valid */
	uint64_t desc_gpa, driver_gpa, device_gpa;
	const struct virtq_desc *desc;
	const uint16_t *avail;	/* flags, idx, ring[num] */
	uint16_t *used;		/* flags, idx, then num struct virtq_used_elem */
	uint16_t last_avail;	/* the next avail ring entry the device takes */
	uint16_t used_idx;
	/* While batched, virtq_pop() hands out at most batch_left more chains (see virtq_batch_begin()). */
	bool batched;
	uint16_t batch_left;
};

/* One guest buffer of a chain, already translated and checked. */
struct virtq_buf {
	uint8_t *host;
	uint32_t len;
	bool writable;		/* device-writable; all of them come after the readable ones */
};

struct virtq_chain {
	uint16_t head;		/* what virtq_push() gives back */
	unsigned int nr;
	unsigned int nr_readable;
	struct virtq_buf bufs[VIRTQ_NUM_MAX];
};

/* Back to the state after a device reset: not ready, no addresses, num = num_max. */
void virtq_reset(struct virtq *q, uint16_t num_max);

/* Whether num is a queue size the driver may choose: a power of two from 1 to num_max. */
bool virtq_num_valid(const struct virtq *q, uint32_t num);

/*
 * Checks the rings' addresses, alignment and sizes against guest RAM and sets ready. Returns 0, or -EINVAL with
 * why in err (the queue stays not ready).
 */
int virtq_activate(struct virtq *q, const struct vm *vm, char *err, size_t err_size);

/*
 * Takes the next available chain. Returns 1 with the chain in c, 0 when the driver has made nothing available,
 * or -EINVAL with why in err when the driver broke the rules (the device must stop using the queue).
 */
int virtq_pop(struct virtq *q, const struct vm *vm, struct virtq_chain *c, char *err, size_t err_size);

/*
 * A fair share for one kick: until virtq_batch_end(), virtq_pop() returns at most a queue's worth of chains, so
 * a guest that keeps refilling a queue cannot keep the event thread to itself. virtq_batch_end() returns whether
 * the batch ran out with chains still waiting (the caller then comes back later).
 */
void virtq_batch_begin(struct virtq *q);
bool virtq_batch_end(struct virtq *q);

/* Gives back the chain virtq_pop() just returned, untouched: a receive buffer with no frame to put in it yet. */
void virtq_unpop(struct virtq *q);

/* Returns the chain whose head is head to the driver, with written bytes written into its writable buffers. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

#endif
