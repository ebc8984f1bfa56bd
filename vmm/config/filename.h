#ifndef SHRIKE_CONFIG_FILENAME_H
#define SHRIKE_CONFIG_FILENAME_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The one rule for names of files in the config partition payload, shared by the parser (cert = ..., user-data
 * = ...), the partition reader and the host tool, which unpacks them into a directory: 1 to 63 printable ASCII
 * characters without blanks, no '/', no leading '.', no "..". Whatever passes is a plain file name in the
 * directory it is unpacked to, never a path out of it.
 */
bool filename_valid(const char *name, size_t len);

#endif
