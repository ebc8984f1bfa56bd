#ifndef SHRIKE_MGMT_JSONREAD_H
#define SHRIKE_MGMT_JSONREAD_H

#include <stddef.h>

/*
 * The JSON reader of the management port (request bodies) and of shrikectl (the port's answers). Strict: invalid
 * UTF-8, raw control characters, lone surrogates, leading zeros, trailing garbage and nesting deeper than
 * JSONREAD_MAX_DEPTH are refused, and so is a member name twice in the object it is looked up in (parsers disagree
 * on which copy wins).
 *
 * jsonread_open() checks the whole document once; nothing is copied or allocated. A value is then named by its
 * offset in the text; white space before it is skipped, so offset 0 names the top-level value. The functions
 * below take only offsets that 0 or another of them gave.
 */

#define JSONREAD_MAX_DEPTH 16

enum jsonread_type {
	JSONREAD_OBJECT = 1,
	JSONREAD_ARRAY,
	JSONREAD_STRING,
	JSONREAD_NUMBER,
	JSONREAD_TRUE,
	JSONREAD_FALSE,
	JSONREAD_NULL,
};

struct jsonread {
	const char *text;
	size_t len;
};

/* 0 if text is exactly one JSON value (white space around it allowed), else -EINVAL. */
int jsonread_open(struct jsonread *doc, const char *text, size_t len);

/* The enum jsonread_type of the value at offset at. */
int jsonread_type(const struct jsonread *doc, size_t at);

/* The value of member key of the object at obj: 0, -ENOENT if absent, -EINVAL if obj is no object or has key twice. */
int jsonread_member(const struct jsonread *doc, size_t obj, const char *key, size_t *at);

/* The elements of the array at arr: jsonread_first(), then jsonread_next() on the same *at; -ENOENT after the last. */
int jsonread_first(const struct jsonread *doc, size_t arr, size_t *at);
int jsonread_next(const struct jsonread *doc, size_t *at);

/*
 * The string at offset at, decoded into buf (NUL-terminated; NULL with size 0 to only measure) and its decoded
 * length into *len. -EINVAL if it is no string or holds \u0000 (it would cut a C string short); -ENOSPC if it
 * needs more than size - 1 bytes: buf then holds as many whole characters as fit.
 */
int jsonread_string(const struct jsonread *doc, size_t at, char *buf, size_t size, size_t *len);

/* The number at offset at if it is an integer in [min, max]: 0, -EINVAL (no integer) or -ERANGE. */
int jsonread_int(const struct jsonread *doc, size_t at, long long min, long long max, long long *out);
int jsonread_uint(const struct jsonread *doc, size_t at, unsigned long long max, unsigned long long *out);

/* true or false: 0, else -EINVAL. */
int jsonread_bool(const struct jsonread *doc, size_t at, int *out);

#endif
