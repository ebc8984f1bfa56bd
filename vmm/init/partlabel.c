#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init/partlabel.h"

/* A uevent file is a handful of KEY=value lines; a partition's is well under this. */
#define UEVENT_MAX 1024

/* The value of key in uevent text, copied into out; false if absent or too long. */
static bool uevent_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), vlen;
	const char *line = text, *end;

	for (; *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if ((size_t)(end - line) <= klen || strncmp(line, key, klen) || line[klen] != '=')
			continue;
		vlen = (size_t)(end - line) - klen - 1;
		if (vlen >= size)
			return false;
		memcpy(out, line + klen + 1, vlen);
		out[vlen] = '\0';
		return true;
	}
	return false;
}

static int read_uevent(int dir_fd, const char *name, char *buf, size_t size)
{
	char path[300];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/uevent", name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int partlabel_find(const char *sysfs_dir, const char *label, char *dev, size_t size, unsigned int *duplicates)
{
	char uevent[UEVENT_MAX], partname[128], devname[64];
	struct dirent *e;
	bool found = false;
	int ret = -ENOENT;
	DIR *dir;

	*duplicates = 0;
	dir = opendir(sysfs_dir);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		if (read_uevent(dirfd(dir), e->d_name, uevent, sizeof(uevent)) < 0)
			continue;
		if (!uevent_value(uevent, "PARTNAME", partname, sizeof(partname)) || strcmp(partname, label))
			continue;
		if (!uevent_value(uevent, "DEVNAME", devname, sizeof(devname)) || strchr(devname, '/'))
			continue;
		if (found) {
			(*duplicates)++;
			continue;
		}
		if ((size_t)snprintf(dev, size, "/dev/%s", devname) >= size) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		found = true;
		ret = 0;
	}
out:
	closedir(dir);
	return ret;
}
