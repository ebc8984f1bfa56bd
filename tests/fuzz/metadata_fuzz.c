/* fuzz-sources: vmm/net/metadata.c vmm/lib/jsonstr.c vmm/lib/utf8.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1000000

/* Status code and Content-Length of a response, and checks its shape; traps on anything malformed. */
static int check_response(const char *r, size_t n, size_t cap)
{
	const char *end, *cl;
	size_t body, i;
	int status = 0;

	if (n > cap || n < 17 || memcmp(r, "HTTP/1.1 ", 9))
		__builtin_trap();
	for (i = 9; i < 12; i++) {
		if (r[i] < '0' || r[i] > '9')
			__builtin_trap();
		status = status * 10 + r[i] - '0';
	}
	end = memmem(r, n, "\r\n\r\n", 4);
	if (!end || !memmem(r, (size_t)(end - r) + 2, "\r\nConnection: close\r\n", 21))
		__builtin_trap();
	cl = memmem(r, (size_t)(end - r), "\r\nContent-Length: ", 18);
	if (!cl)
		__builtin_trap();
	body = strtoul(cl + 18, NULL, 10);
	if (body != n - (size_t)(end + 4 - r))
		__builtin_trap();
	return status;
}

/*
 * Each input is one request, with every "@@" replaced by a live token so the fuzzer reaches the authenticated
 * paths. The store is made afresh per input so tokens from earlier inputs do not push that one out. Invariants:
 * a well-formed response within cap; an answer once METADATA_MAX_REQUEST bytes are in; the same status for a
 * prefix that was already answered (bytes after a request change nothing); a short 500 for a small cap.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char token_req[] = "PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: 21600\r\n\r\n";
	struct metadata *md = metadata_create();
	char *req, *out, *small, token[64];
	size_t len = 0, i, n, cap, half;
	int status;

	if (!md || metadata_set(md, "name", "web", 3) || metadata_set(md, "esc", "\"\\\x01\xc3\xa9\xff", 6) ||
	    metadata_set(md, "user-data", "#!/bin/sh\0x", 11))
		__builtin_trap();
	cap = metadata_response_max(md);
	out = malloc(cap);
	n = metadata_handle(md, token_req, sizeof(token_req) - 1, NOW, out, cap);
	if (check_response(out, n, cap) != 200)
		__builtin_trap();
	memcpy(token, out + n - 64, 64);

	req = malloc(size * 32 + 1);
	for (i = 0; i < size; i++) {
		if (i + 1 < size && data[i] == '@' && data[i + 1] == '@') {
			memcpy(req + len, token, 64);
			len += 64;
			i++;
		} else {
			req[len++] = (char)data[i];
		}
	}

	n = metadata_handle(md, req, len, NOW, out, cap);
	if (!n && len >= METADATA_MAX_REQUEST)
		__builtin_trap();
	if (n) {
		status = check_response(out, n, cap);
		half = len / 2;
		n = metadata_handle(md, req, half, NOW, out, cap);
		if (n && check_response(out, n, cap) != status)
			__builtin_trap();
		small = malloc(512);
		n = metadata_handle(md, req, len, NOW, small, 512);
		if (!n)
			__builtin_trap();
		check_response(small, n, 512);
		free(small);
	}
	free(req);
	free(out);
	metadata_destroy(md);
	return 0;
}
