#ifndef SHRIKE_LIB_SHA256_H
#define SHRIKE_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

/*
 * SHA-256 (FIPS 180-4), written here so the config partition and the host tool share one implementation without
 * a crypto library in the PID 1. Used for integrity against torn writes and bit rot, not against an attacker who
 * can write the partition (that attacker can write the kernel too).
 */
#define SHA256_DIGEST_SIZE 32

struct sha256 {
	uint32_t state[8];
	uint64_t bytes;		/* message length so far */
	uint8_t block[64];
	size_t used;		/* bytes in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_SIZE]);
/* One-shot convenience for a single buffer. */
void sha256_digest(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

#endif
