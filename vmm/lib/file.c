#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"

int file_read(const char *path, size_t max, uint8_t **data, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	*data = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = -EFBIG;
		goto out;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len + 1);
	if (!*data) {
		ret = -ENOMEM;
		goto out;
	}
	while (got < *len) {
		n = read(fd, *data + got, *len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	(*data)[*len] = '\0';
out:
	if (ret < 0) {
		free(*data);
		*data = NULL;
	}
	close(fd);
	return ret;
}
