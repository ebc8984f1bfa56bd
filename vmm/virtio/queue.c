#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio/queue.h"

/* Ring layouts of virtio 1.x 2.7: the avail and used rings start with 16-bit flags and idx. */
#define RING_HEADER	4
#define RING_EVENT	2	/* used_event / avail_event after the ring; unused without EVENT_IDX, still there */

void virtq_reset(struct virtq *q, uint16_t num_max)
{
	memset(q, 0, sizeof(*q));
	q->num_max = num_max;
	q->num = num_max;
}

bool virtq_num_valid(const struct virtq *q, uint32_t num)
{
	return num && num <= q->num_max && !(num & (num - 1));
}

/* The host address of a ring of len bytes at gpa aligned to align, or NULL with why in err. */
static void *ring_map(const struct vm *vm, const char *what, uint64_t gpa, uint64_t len, uint64_t align,
		      char *err, size_t err_size)
{
	void *host;

	if (gpa & (align - 1)) {
		snprintf(err, err_size, "%s ring at 0x%llx is not %llu-byte aligned", what, (unsigned long long)gpa,
			 (unsigned long long)align);
		return NULL;
	}
	host = vm_gpa_to_host(vm, gpa, len);
	if (!host)
		snprintf(err, err_size, "%s ring at 0x%llx (%llu bytes) is not in guest RAM", what,
			 (unsigned long long)gpa, (unsigned long long)len);
	return host;
}

int virtq_activate(struct virtq *q, const struct vm *vm, char *err, size_t err_size)
{
	uint64_t num = q->num;

	q->ready = false;
	if (!virtq_num_valid(q, q->num)) {
		snprintf(err, err_size, "queue size %u is not a power of two up to %u", q->num, q->num_max);
		return -EINVAL;
	}
	q->desc = ring_map(vm, "descriptor", q->desc_gpa, num * sizeof(struct virtq_desc), 16, err, err_size);
	q->avail = ring_map(vm, "available", q->driver_gpa, RING_HEADER + num * 2 + RING_EVENT, 2, err, err_size);
	q->used = ring_map(vm, "used", q->device_gpa, RING_HEADER + num * sizeof(struct virtq_used_elem) + RING_EVENT,
			   4, err, err_size);
	if (!q->desc || !q->avail || !q->used)
		return -EINVAL;
	/* The driver may hand over a queue that is not fresh (after a reset the rings keep their contents). */
	q->last_avail = 0;
	q->used_idx = 0;
	q->ready = true;
	return 0;
}

/*
 * Checks and translates one descriptor into b. The walk in virtq_pop() stops after num descriptors, so a cycle
 * ends there; everything here is about the descriptor itself.
 */
static int desc_map(const struct vm *vm, const struct virtq_desc *d, uint16_t i, bool after_writable,
		    struct virtq_buf *b, char *err, size_t err_size)
{
	if (d->flags & VIRTQ_DESC_F_INDIRECT) {
		snprintf(err, err_size, "descriptor %u is indirect, which was not offered", i);
		return -EINVAL;
	}
	if (!d->len) {
		snprintf(err, err_size, "descriptor %u has length 0", i);
		return -EINVAL;
	}
	if (after_writable && !(d->flags & VIRTQ_DESC_F_WRITE)) {
		snprintf(err, err_size, "descriptor %u is readable but follows a writable one", i);
		return -EINVAL;
	}
	b->host = vm_gpa_to_host(vm, d->addr, d->len);
	if (!b->host) {
		snprintf(err, err_size, "descriptor %u: 0x%llx + %u bytes is not in guest RAM", i,
			 (unsigned long long)d->addr, d->len);
		return -EINVAL;
	}
	b->len = d->len;
	b->writable = d->flags & VIRTQ_DESC_F_WRITE;
	return 0;
}

int virtq_pop(struct virtq *q, const struct vm *vm, struct virtq_chain *c, char *err, size_t err_size)
{
	uint16_t avail_idx, pending, i;
	struct virtq_desc d;
	uint64_t total = 0;
	int ret;

	if (!q->ready || (q->batched && !q->batch_left))
		return 0;
	/* Acquire: the ring entry and descriptors the driver wrote before bumping idx are visible after it. */
	avail_idx = __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - q->last_avail);
	if (!pending)
		return 0;
	if (pending > q->num) {
		snprintf(err, err_size, "available index %u is %u entries ahead of the device, queue size is %u",
			 avail_idx, pending, q->num);
		return -EINVAL;
	}
	i = __atomic_load_n(&q->avail[2 + q->last_avail % q->num], __ATOMIC_RELAXED);
	c->head = i;
	c->nr = c->nr_readable = 0;
	for (;;) {
		if (i >= q->num) {
			snprintf(err, err_size, "descriptor index %u is beyond the queue size %u", i, q->num);
			return -EINVAL;
		}
		if (c->nr == q->num) {
			snprintf(err, err_size, "chain from descriptor %u is longer than the queue size %u (a cycle?)",
				 c->head, q->num);
			return -EINVAL;
		}
		/* One copy: the guest may rewrite the descriptor while we look at it, we check what we use. */
		memcpy(&d, &q->desc[i], sizeof(d));
		ret = desc_map(vm, &d, i, c->nr > c->nr_readable, &c->bufs[c->nr], err, err_size);
		if (ret < 0)
			return ret;
		total += d.len;
		if (total > UINT32_MAX) {
			snprintf(err, err_size, "chain from descriptor %u holds more than 4 GiB", c->head);
			return -EINVAL;
		}
		if (!c->bufs[c->nr].writable)
			c->nr_readable++;
		c->nr++;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		i = d.next;
	}
	q->last_avail++;
	if (q->batched)
		q->batch_left--;
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
	if (q->batched)
		q->batch_left++;
}

void virtq_batch_begin(struct virtq *q)
{
	q->batched = true;
	q->batch_left = q->num;
}

bool virtq_batch_end(struct virtq *q)
{
	bool cut_short = q->batched && !q->batch_left;

	q->batched = false;
	/* A device that left chains on purpose (receive buffers waiting for data) was not cut short. */
	return cut_short && q->ready && __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE) != q->last_avail;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	struct virtq_used_elem e = { .id = head, .len = written };
	struct virtq_used_elem *ring = (struct virtq_used_elem *)(q->used + 2);

	memcpy(&ring[q->used_idx % q->num], &e, sizeof(e));
	q->used_idx++;
	/* Release: the driver sees the element before the index that hands it over. */
	__atomic_store_n(&q->used[1], q->used_idx, __ATOMIC_RELEASE);
}
