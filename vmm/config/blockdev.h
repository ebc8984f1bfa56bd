#ifndef SHRIKE_CONFIG_BLOCKDEV_H
#define SHRIKE_CONFIG_BLOCKDEV_H

#include <stddef.h>
#include <stdint.h>

/*
 * The little the config partition needs from a disk: positional reads and writes and a barrier. An ops table so
 * the power-loss tests can put a simulated disk underneath that loses writes at any byte.
 */
struct blockdev;

struct blockdev_ops {
	/* Transfer all len bytes at off or fail; 0 or -errno. The wrappers below have checked the range. */
	int (*pread)(struct blockdev *dev, void *buf, size_t len, uint64_t off);
	int (*pwrite)(struct blockdev *dev, const void *buf, size_t len, uint64_t off);
	int (*fsync)(struct blockdev *dev);
};

struct blockdev {
	const struct blockdev_ops *ops;
	uint64_t size;
	int fd;			/* for blockdev_init_fd() */
	void *priv;		/* for other implementations */
};

/* A file or block device already open (O_RDWR for writes); its size from fstat or BLKGETSIZE64. */
int blockdev_init_fd(struct blockdev *dev, int fd);

/* -EINVAL for a range beyond the device, else what the ops return. */
int blockdev_pread(struct blockdev *dev, void *buf, size_t len, uint64_t off);
int blockdev_pwrite(struct blockdev *dev, const void *buf, size_t len, uint64_t off);
int blockdev_fsync(struct blockdev *dev);

#endif
