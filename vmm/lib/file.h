#ifndef SHRIKE_LIB_FILE_H
#define SHRIKE_LIB_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads all of a regular file into a new buffer of *len + 1 bytes, NUL-terminated so text can be used as a
 * string. Returns 0, or -errno: -EINVAL if path is not a regular file, -EFBIG if it holds more than max bytes,
 * -EIO if it shrank while being read. On error *data is NULL.
 */
int file_read(const char *path, size_t max, uint8_t **data, size_t *len);

#endif
