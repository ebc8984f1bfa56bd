#ifndef SHRIKE_LIB_SIZE_H
#define SHRIKE_LIB_SIZE_H

#include <stdint.h>

/*
 * "256M", "2G", "65536K", "1T" (binary units, either case). A bare number is taken in bare_unit bytes (MiB for
 * --mem, as with lkvm -m and qemu -m), or refused with -ENODATA when bare_unit is 0. Other junk, and sizes that
 * overflow 64 bits, are -EINVAL.
 */
int size_parse(const char *s, uint64_t bare_unit, uint64_t *out);

#endif
