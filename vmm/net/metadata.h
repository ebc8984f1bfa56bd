#ifndef SHRIKE_NET_METADATA_H
#define SHRIKE_NET_METADATA_H

#include <stddef.h>
#include <stdint.h>

/*
 * The metadata service a guest reaches at 169.254.169.254:80 through the user network: key/value pairs (the
 * guest's name, config fields, user data) behind IMDSv2-style session tokens. It is only HTTP in, HTTP out on one
 * connection's bytes; the user backend owns the TCP side. Every guest's own VMM serves only its own guest, so no
 * other guest can reach it and nothing here needs to know who is asking. See docs/metadata.md.
 */

#define METADATA_MAX_REQUEST 4096	/* head and body of one request; longer is answered 400 */
#define METADATA_MAX_BODY 1024		/* Content-Length accepted (the body is read and ignored); more is 413 */
#define METADATA_MAX_TOKENS 64		/* live tokens; a new one beyond that replaces the oldest */
#define METADATA_MAX_TTL 21600		/* seconds, as IMDSv2 */
#define METADATA_KEY_MAX 63

struct metadata;

/*
 * Returns an empty store, or NULL when out of memory. Built with the user network (CONFIG_NET_USER); the
 * three functions run calls are weak, so run links without it.
 */
struct metadata *metadata_create(void) __attribute__((weak));
void metadata_destroy(struct metadata *md) __attribute__((weak));

/*
 * Copies len bytes of value (any bytes; NUL is fine) under key. Keys are 1..63 of [a-z0-9-]; "user-data" is
 * served at /latest/user-data, every other key under /latest/meta-data/. Setting a key twice replaces its value.
 * Returns 0, -EINVAL for a bad key, or -ENOMEM.
 */
int metadata_set(struct metadata *md, const char *key, const char *value, size_t len) __attribute__((weak));

/*
 * req: the bytes received so far on one guest connection to 169.254.169.254:80. Returns the length of a complete
 * HTTP/1.1 response written to out (it carries Connection: close; the caller closes the connection after sending
 * it), or 0 if the request is not complete yet. When len reaches METADATA_MAX_REQUEST without a complete request,
 * it answers 400 itself; bytes after the first request are ignored. now_ms: CLOCK_MONOTONIC milliseconds, for
 * token expiry. If cap is too small for the response, answers 500 with a short body (cap must be at least 512).
 */
size_t metadata_handle(struct metadata *md, const char *req, size_t len, uint64_t now_ms, char *out, size_t cap);

/* The output size a caller should give metadata_handle() for md: no response is longer. */
size_t metadata_response_max(const struct metadata *md);

#endif
