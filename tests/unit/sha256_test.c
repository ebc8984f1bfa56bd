/* unit-sources: vmm/lib/sha256.c */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lib/sha256.h"

static const char *hex(const uint8_t d[SHA256_DIGEST_SIZE])
{
	static char s[2 * SHA256_DIGEST_SIZE + 1];
	unsigned int i;

	for (i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(s + 2 * i, 3, "%02x", d[i]);
	return s;
}

/* FIPS 180-4 examples. */
static const char *test_fips_vectors(void)
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_digest("", 0, d);
	CHECK_STR(hex(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_digest("abc", 3, d);
	CHECK_STR(hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	CHECK_STR(hex(d), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	return NULL;
}

/* A million 'a's fed in uneven pieces, so the partial-block path runs with every offset. */
static const char *test_million_a(void)
{
	static char a[1000];
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256 s;
	size_t done = 0, n = 1;

	memset(a, 'a', sizeof(a));
	sha256_init(&s);
	while (done < 1000000) {
		if (n > 1000000 - done)
			n = 1000000 - done;
		sha256_update(&s, a, n);
		done += n;
		n = n % 987 + 13;	/* 13..999, never more than a */
	}
	sha256_final(&s, d);
	CHECK_STR(hex(d), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	return NULL;
}

/* Lengths around the padding boundaries (55/56 bytes, one and two blocks); digests from sha256sum. */
static const char *test_padding_boundaries(void)
{
	static const struct {
		size_t len;
		const char *digest;
	} v[] = {
		{ 55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b" },
		{ 56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27" },
		{ 63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055" },
		{ 64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241" },
		{ 65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e" },
		{ 119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e" },
		{ 120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5" },
		{ 1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371" },
	};
	uint8_t buf[1000], d[SHA256_DIGEST_SIZE];
	struct sha256 s;
	size_t i, j;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256_digest(buf, v[i].len, d);
		CHECK_STR(hex(d), v[i].digest);
		/* byte by byte gives the same */
		sha256_init(&s);
		for (j = 0; j < v[i].len; j++)
			sha256_update(&s, buf + j, 1);
		sha256_final(&s, d);
		CHECK_STR(hex(d), v[i].digest);
	}
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "sha256-fips-vectors", test_fips_vectors },
		{ "sha256-million-a", test_million_a },
		{ "sha256-padding-boundaries", test_padding_boundaries },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
