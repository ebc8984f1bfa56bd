#ifndef SHRIKE_LIB_UTF8_H
#define SHRIKE_LIB_UTF8_H

#include <stddef.h>

/*
 * UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF. The JSON writer uses it
 * to pass through what is valid, the JSON reader to refuse what is not and to encode \u escapes.
 */

/* The length (1 to 4) of the well-formed sequence at the start of s[0..n), or 0 if there is none; n >= 1. */
size_t utf8_len(const unsigned char *s, size_t n);

/* Writes code point cp (at most U+10FFFF, not a surrogate) into out[0..4); returns the bytes written. */
size_t utf8_encode(unsigned int cp, char *out);

#endif
