#include <errno.h>
#include <stdlib.h>

#include "lib/size.h"

int size_parse(const char *s, uint64_t bare_unit, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': mul = 1ULL << 10; break;
	case 'M': case 'm': mul = 1ULL << 20; break;
	case 'G': case 'g': mul = 1ULL << 30; break;
	case 'T': case 't': mul = 1ULL << 40; break;
	case '\0':
		if (!bare_unit)
			return -ENODATA;
		mul = bare_unit;
		end--;		/* no unit character to step over */
		break;
	default:
		return -EINVAL;
	}
	if (end[1] || v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}
