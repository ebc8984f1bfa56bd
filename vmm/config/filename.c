#include <string.h>

#include "config/config.h"
#include "config/filename.h"

bool filename_valid(const char *name, size_t len)
{
	unsigned char c;
	size_t i;

	if (len == 0 || len > CONFIG_FILE_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		/* A backslash is refused too: the host tool may unpack on a system where it separates paths. */
		if (c <= ' ' || c > '~' || c == '/' || c == '\\')
			return false;
		if (name[i] == '.' && i + 1 < len && name[i + 1] == '.')
			return false;
	}
	return true;
}
