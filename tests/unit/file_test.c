/* unit-sources: vmm/lib/file.c */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lib/file.h"

static const char *test_reads_whole_file(void)
{
	char path[] = "/tmp/shrike-file-test-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *data;
	size_t len = 99;

	CHECK(fd >= 0);
	CHECK_INT(write(fd, "hello", 5), 5);
	close(fd);
	CHECK_INT(file_read(path, 5, &data, &len), 0);
	CHECK_INT(len, 5);
	CHECK_STR((char *)data, "hello");		/* NUL-terminated */
	free(data);
	/* one byte over the limit */
	CHECK_INT(file_read(path, 4, &data, &len), -EFBIG);
	CHECK(data == NULL);
	unlink(path);
	return NULL;
}

static const char *test_not_a_file(void)
{
	uint8_t *data = (uint8_t *)"x";
	size_t len;

	CHECK_INT(file_read("/tmp", 100, &data, &len), -EINVAL);
	CHECK(data == NULL);
	CHECK_INT(file_read("/nonexistent/shrike", 100, &data, &len), -ENOENT);
	CHECK(data == NULL);
	return NULL;
}

static const char *test_empty_file(void)
{
	char path[] = "/tmp/shrike-file-test-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *data;
	size_t len = 99;

	CHECK(fd >= 0);
	close(fd);
	CHECK_INT(file_read(path, 100, &data, &len), 0);
	CHECK_INT(len, 0);
	CHECK_INT(data[0], 0);
	free(data);
	unlink(path);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "file-reads-whole-file", test_reads_whole_file },
		{ "file-not-a-file", test_not_a_file },
		{ "file-empty", test_empty_file },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
