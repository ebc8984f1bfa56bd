#ifndef SHRIKE_LIB_RING_H
#define SHRIKE_LIB_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * A byte ring that keeps the most recent size bytes written to it: a guest's console history. Positions are
 * byte counts since the ring was made (64-bit, they never wrap), so a reader that keeps its own position can
 * tell how much it missed when a fast writer lapped it. No locking: the owner serialises access.
 */
struct ring {
	uint8_t *buf;
	size_t size;		/* a power of two */
	uint64_t end;		/* position after the last byte written */
};

/* size is rounded up to a power of two. Returns 0 or -ENOMEM. */
int ring_init(struct ring *r, size_t size);
void ring_free(struct ring *r);

/* Appends len bytes, dropping the oldest ones when full. */
void ring_write(struct ring *r, const void *data, size_t len);

/* The oldest position still held. */
uint64_t ring_start(const struct ring *r);

/*
 * Copies up to len bytes from position *pos on and advances *pos. A position the ring no longer holds first moves
 * to ring_start(); *lost (if not NULL) gets the number of bytes skipped that way. Returns the bytes copied.
 */
size_t ring_read(const struct ring *r, uint64_t *pos, void *dst, size_t len, uint64_t *lost);

#endif
