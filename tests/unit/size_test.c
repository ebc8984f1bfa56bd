/* unit-sources: vmm/lib/size.c */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "lib/size.h"

static const char *test_units(void)
{
	uint64_t v = 0;

	CHECK_INT(size_parse("256M", 0, &v), 0);
	CHECK_INT(v, 256ULL << 20);
	CHECK_INT(size_parse("2g", 0, &v), 0);
	CHECK_INT(v, 2ULL << 30);
	CHECK_INT(size_parse("64K", 0, &v), 0);
	CHECK_INT(v, 65536);
	CHECK_INT(size_parse("1T", 0, &v), 0);
	CHECK_INT(v, 1ULL << 40);
	CHECK_INT(size_parse("0M", 0, &v), 0);
	CHECK_INT(v, 0);
	return NULL;
}

static const char *test_bare_numbers(void)
{
	uint64_t v = 0;

	CHECK_INT(size_parse("300", 1ULL << 20, &v), 0);
	CHECK_INT(v, 300ULL << 20);
	CHECK_INT(size_parse("300", 0, &v), -ENODATA);
	return NULL;
}

static const char *test_junk_and_overflow(void)
{
	uint64_t v = 7;

	CHECK_INT(size_parse("", 1, &v), -EINVAL);
	CHECK_INT(size_parse("M", 1, &v), -EINVAL);
	CHECK_INT(size_parse("-1M", 1, &v), -EINVAL);
	CHECK_INT(size_parse(" 1M", 1, &v), -EINVAL);
	CHECK_INT(size_parse("1MB", 1, &v), -EINVAL);
	CHECK_INT(size_parse("1X", 1, &v), -EINVAL);
	CHECK_INT(size_parse("16777216T", 1, &v), -EINVAL);		/* 2^64 */
	CHECK_INT(size_parse("99999999999999999999", 1, &v), -EINVAL);
	CHECK_INT(size_parse("18446744073709551615", 2, &v), -EINVAL);
	CHECK_INT(v, 7);						/* untouched on error */
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "size-units", test_units },
		{ "size-bare-numbers", test_bare_numbers },
		{ "size-junk-and-overflow", test_junk_and_overflow },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
