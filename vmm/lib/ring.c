#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ring.h"

int ring_init(struct ring *r, size_t size)
{
	size_t n = 1;

	while (n < size && n <= SIZE_MAX / 2)
		n *= 2;
	r->buf = malloc(n);
	r->size = n;
	r->end = 0;
	return r->buf ? 0 : -ENOMEM;
}

void ring_free(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

uint64_t ring_start(const struct ring *r)
{
	return r->end > r->size ? r->end - r->size : 0;
}

void ring_write(struct ring *r, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t at, chunk;

	/* Only the last size bytes of a large write can survive it. */
	if (len > r->size) {
		r->end += len - r->size;
		p += len - r->size;
		len = r->size;
	}
	while (len) {
		at = (size_t)(r->end & (r->size - 1));
		chunk = r->size - at < len ? r->size - at : len;
		memcpy(r->buf + at, p, chunk);
		r->end += chunk;
		p += chunk;
		len -= chunk;
	}
}

size_t ring_read(const struct ring *r, uint64_t *pos, void *dst, size_t len, uint64_t *lost)
{
	uint64_t start = ring_start(r);
	uint8_t *d = dst;
	size_t at, chunk, done = 0;

	if (lost)
		*lost = *pos < start ? start - *pos : 0;
	if (*pos < start)
		*pos = start;
	if (*pos > r->end)
		*pos = r->end;
	if (len > r->end - *pos)
		len = (size_t)(r->end - *pos);
	while (done < len) {
		at = (size_t)(*pos & (r->size - 1));
		chunk = r->size - at < len - done ? r->size - at : len - done;
		memcpy(d + done, r->buf + at, chunk);
		*pos += chunk;
		done += chunk;
	}
	return done;
}
