/* fuzz-sources: vmm/mgmt/http.c */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mgmt/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_request req;

/*
 * Feeds the input twice: whole, then in pieces whose sizes come from the input itself, the way TLS records split a
 * request. Both must agree on where each request ends, and every parsed request must satisfy the invariants the
 * API code relies on.
 */
static int run(const uint8_t *data, size_t size, int split, size_t *ends, size_t nends)
{
	size_t off = 0, used, chunk, n = 0;
	int rc;
	unsigned int i;

	http_reset(&req);
	while (off < size) {
		chunk = split ? 1 + data[off] % 7 : size - off;
		if (chunk > size - off)
			chunk = size - off;
		rc = http_parse(&req, (const char *)data + off, chunk, &used);
		if (used > chunk)
			__builtin_trap();
		off += used;
		if (rc < 0) {
			if (http_error_status(rc) < 400)
				__builtin_trap();
			break;
		}
		if (rc == 1) {
			if (!req.target || req.target[0] != '/' || req.nsegments > HTTP_MAX_SEGMENTS ||
			    req.body_len > HTTP_MAX_BODY || req.nheaders > HTTP_MAX_HEADERS)
				__builtin_trap();
			for (i = 0; i < req.nsegments; i++)
				if (!strcmp(req.segments[i], "..") || strchr(req.segments[i], '/'))
					__builtin_trap();
			if (n < nends)
				ends[n] = off;
			n++;
			http_reset(&req);
		} else if (used < chunk) {
			__builtin_trap();	/* needing more bytes but not taking the ones offered */
		}
	}
	return (int)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t a[16], b[16];
	int na, nb, i;

	na = run(data, size, 0, a, 16);
	nb = run(data, size, 1, b, 16);
	if (na != nb)
		__builtin_trap();
	for (i = 0; i < na && i < 16; i++)
		if (a[i] != b[i])
			__builtin_trap();
	return 0;
}
