#ifndef SHRIKE_LIB_JSONSTR_H
#define SHRIKE_LIB_JSONSTR_H

#include <stddef.h>

/*
 * A JSON string from any bytes, for every JSON the firmware writes (the management API, the guests' metadata
 * service): the quotes around it, '"' and '\' escaped, \n \r \t as such, other control characters and DEL as
 * \u00XX, valid UTF-8 as it is, and U+FFFD for each byte that starts no valid UTF-8 sequence, so the result is
 * valid JSON whatever the bytes were. put receives the output piece by piece.
 */
void jsonstr_write(const char *s, size_t len, void (*put)(void *ctx, const char *p, size_t n), void *ctx);

#endif
