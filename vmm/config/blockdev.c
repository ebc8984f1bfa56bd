#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/blockdev.h"

static int range_ok(const struct blockdev *dev, size_t len, uint64_t off)
{
	return off <= dev->size && len <= dev->size - off;
}

int blockdev_pread(struct blockdev *dev, void *buf, size_t len, uint64_t off)
{
	if (!range_ok(dev, len, off))
		return -EINVAL;
	return dev->ops->pread(dev, buf, len, off);
}

int blockdev_pwrite(struct blockdev *dev, const void *buf, size_t len, uint64_t off)
{
	if (!range_ok(dev, len, off))
		return -EINVAL;
	return dev->ops->pwrite(dev, buf, len, off);
}

int blockdev_fsync(struct blockdev *dev)
{
	return dev->ops->fsync(dev);
}

static int fd_pread(struct blockdev *dev, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = pread(dev->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* the device shrank under us */
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

static int fd_pwrite(struct blockdev *dev, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = pwrite(dev->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

static int fd_fsync(struct blockdev *dev)
{
	return fsync(dev->fd) ? -errno : 0;
}

static const struct blockdev_ops fd_ops = {
	.pread = fd_pread,
	.pwrite = fd_pwrite,
	.fsync = fd_fsync,
};

int blockdev_init_fd(struct blockdev *dev, int fd)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size))
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		return -ENOTBLK;
	}
	*dev = (struct blockdev){ .ops = &fd_ops, .size = size, .fd = fd };
	return 0;
}
