#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/le.h"
#include "lib/log.h"
#include "run/devices.h"
#include "virtio/blk.h"

#define BLK_DEVICE_ID		2
#define BLK_QUEUE_NUM		128
#define BLK_SECTOR		512ULL

#define BLK_F_SEG_MAX		(1ULL << 2)
#define BLK_F_RO		(1ULL << 5)
#define BLK_F_FLUSH		(1ULL << 9)

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8

#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_S_UNSUPP		2

#define BLK_HEADER_SIZE		16	/* le32 type, le32 reserved, le64 sector */
#define BLK_ID_SIZE		20

/* Config space: le64 capacity in sectors, le32 size_max (not offered), le32 seg_max. */
#define BLK_CONFIG_SIZE		16

struct blk {
	struct virtio_dev dev;
	struct virtio_dev_ops ops;	/* the shared ops plus this disk's features (RO or not) */
	int fd;
	bool read_only;
	uint64_t size;			/* bytes the guest may use: whole sectors of the file or device */
	char id[BLK_ID_SIZE];
	uint8_t config[BLK_CONFIG_SIZE];
};

static int pio_full(int fd, uint8_t *buf, uint64_t len, uint64_t off, bool to_disk)
{
	ssize_t n;

	while (len) {
		n = to_disk ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;	/* 0: the file shrank under us */
		buf += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Moves len bytes between the disk at off and the chain's readable (to_disk) or writable buffers, skipping the
 * first skip bytes of those buffers (the request header).
 */
static int blk_transfer(struct blk *b, const struct virtq_chain *c, uint64_t skip, uint64_t len, uint64_t off,
			bool to_disk)
{
	unsigned int i = to_disk ? 0 : c->nr_readable, end = to_disk ? c->nr_readable : c->nr;
	uint64_t n;
	int ret;

	for (; i < end && len; i++) {
		if (skip >= c->bufs[i].len) {
			skip -= c->bufs[i].len;
			continue;
		}
		n = c->bufs[i].len - skip;
		if (n > len)
			n = len;
		ret = pio_full(b->fd, c->bufs[i].host + skip, n, off, to_disk);
		if (ret < 0)
			return ret;
		skip = 0;
		len -= n;
		off += n;
	}
	return 0;
}

/* Copies the first len readable bytes of the chain to dst; false if there are fewer. */
static bool chain_read(const struct virtq_chain *c, uint8_t *dst, uint64_t len)
{
	unsigned int i;
	uint64_t n;

	for (i = 0; i < c->nr_readable && len; i++) {
		n = c->bufs[i].len < len ? c->bufs[i].len : len;
		memcpy(dst, c->bufs[i].host, n);
		dst += n;
		len -= n;
	}
	return !len;
}

static uint64_t chain_bytes(const struct virtq_chain *c, bool writable)
{
	unsigned int i = writable ? c->nr_readable : 0, end = writable ? c->nr : c->nr_readable;
	uint64_t total = 0;

	for (; i < end; i++)
		total += c->bufs[i].len;
	return total;
}

/* Whether [sector, sector + len bytes) lies within the disk; never overflows, whatever the guest sends. */
static bool blk_range_ok(const struct blk *b, uint64_t sector, uint64_t len, uint64_t *off)
{
	if (len % BLK_SECTOR || sector > b->size / BLK_SECTOR)
		return false;
	*off = sector * BLK_SECTOR;
	return len <= b->size - *off;
}

/*
 * Serves one request; returns the status byte and sets *written to the data bytes given to the guest. Only what
 * succeeded counts.
 */
static uint8_t blk_request(struct blk *b, const struct virtq_chain *c, uint64_t *written)
{
	struct stats_blk *st = &b->dev.stats->blk;
	uint8_t header[BLK_HEADER_SIZE];
	uint64_t sector, in_len, out_len, off;
	uint32_t type, id_len;

	*written = 0;
	if (!chain_read(c, header, sizeof(header)))
		return BLK_S_IOERR;
	type = le_get32(header);
	sector = le_get64(header + 8);
	out_len = chain_bytes(c, false) - BLK_HEADER_SIZE;
	in_len = chain_bytes(c, true) - 1;	/* the last writable byte is the status */
	switch (type) {
	case BLK_T_IN:
		if (!blk_range_ok(b, sector, in_len, &off))
			return BLK_S_IOERR;
		if (blk_transfer(b, c, 0, in_len, off, false) < 0)
			return BLK_S_IOERR;
		*written = in_len;
		stats_add(&st->read_bytes, in_len);
		stats_add(&st->read_ops, 1);
		return BLK_S_OK;
	case BLK_T_OUT:
		if (b->read_only || !blk_range_ok(b, sector, out_len, &off))
			return BLK_S_IOERR;
		if (blk_transfer(b, c, BLK_HEADER_SIZE, out_len, off, true) < 0)
			return BLK_S_IOERR;
		stats_add(&st->write_bytes, out_len);
		stats_add(&st->write_ops, 1);
		return BLK_S_OK;
	case BLK_T_FLUSH:
		if (!b->read_only && fsync(b->fd) < 0)
			return BLK_S_IOERR;
		stats_add(&st->flushes, 1);
		return BLK_S_OK;
	case BLK_T_GET_ID:
		/* The guest's buffer is at least BLK_ID_SIZE; the ID is NUL-padded, not terminated, when it fills it. */
		if (in_len < BLK_ID_SIZE)
			return BLK_S_IOERR;
		id_len = c->bufs[c->nr_readable].len < BLK_ID_SIZE ? c->bufs[c->nr_readable].len : BLK_ID_SIZE;
		memcpy(c->bufs[c->nr_readable].host, b->id, id_len);
		*written = id_len;
		return BLK_S_OK;
	default:
		return BLK_S_UNSUPP;
	}
}

static void blk_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct blk *b = (struct blk *)dev;
	struct virtq *q = &dev->vqs[qi];
	struct virtq_chain c;
	const struct virtq_buf *last;
	bool used = false;
	uint64_t written;
	char why[160];
	int ret;

	while ((ret = virtq_pop(q, dev->vm, &c, why, sizeof(why))) > 0) {
		/* Without a writable byte for the status there is no way to answer: the driver broke the protocol. */
		if (c.nr == c.nr_readable || chain_bytes(&c, false) < BLK_HEADER_SIZE) {
			snprintf(why, sizeof(why), "request at descriptor %u has no header or no status byte", c.head);
			ret = -EINVAL;
			break;
		}
		last = &c.bufs[c.nr - 1];
		last->host[last->len - 1] = blk_request(b, &c, &written);
		virtq_push(q, c.head, (uint32_t)written + 1);
		used = true;
	}
	if (used)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	if (ret < 0)
		virtio_mmio_violation(dev, why);
}

static void blk_destroy(struct virtio_dev *dev)
{
	struct blk *b = (struct blk *)dev;

	close(b->fd);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = BLK_DEVICE_ID,
	.features = BLK_F_SEG_MAX | BLK_F_FLUSH,
	.nr_queues = 1,
	.queue_num_max = BLK_QUEUE_NUM,
	.config_size = BLK_CONFIG_SIZE,
	.notify = blk_notify,
	.destroy = blk_destroy,
};

/* The usable size of an image file or a block device, in whole sectors' worth of bytes. */
static int disk_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		return -EINVAL;
	}
	*size -= *size % BLK_SECTOR;
	return 0;
}

int virtio_blk_create(struct vm *vm, const char *path, bool read_only, struct virtio_dev **out)
{
	struct blk *b = calloc(1, sizeof(*b));
	const char *base;
	int ret;

	if (!b) {
		log_error("virtio-blk: out of memory");
		return -ENOMEM;
	}
	b->read_only = read_only;
	b->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		ret = -errno;
		log_error("disk %s: %s", path, strerror(errno));
		goto out;
	}
	ret = disk_size(b->fd, &b->size);
	if (ret < 0) {
		log_error("disk %s: %s", path, ret == -EINVAL ? "not a regular file or block device" :
			  strerror(-ret));
		goto out;
	}
	/* The serial number the guest sees (/sys/block/vdX/serial): the file name, cut to fit. */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	memcpy(b->id, base, strnlen(base, sizeof(b->id)));
	le_put64(b->config, b->size / BLK_SECTOR);
	/* A request is a header and a status besides its data, and a chain is no longer than the queue. */
	le_put32(b->config + 12, BLK_QUEUE_NUM - 2);
	b->ops = blk_ops;
	if (read_only)
		b->ops.features |= BLK_F_RO;
	ret = virtio_mmio_init(&b->dev, vm, &b->ops, b->config);
	if (ret < 0)
		goto out;
	*out = &b->dev;
	return 0;
out:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return ret;
}

/* One per --disk, in the order given: the first is the guest's /dev/vda. */
static int blk_run_create(struct run_device_env *env)
{
	const struct run_opts *o = env->opts;
	struct virtio_dev *dev;
	unsigned int i;
	int ret;

	for (i = 0; i < o->nr_disks; i++) {
		ret = virtio_blk_create(env->vm, o->disks[i].path, o->disks[i].read_only, &dev);
		if (ret < 0)
			return ret;
		run_devices_add(env, dev);
	}
	return 0;
}

RUN_DEVICE(virtio_blk, "virtio-blk", 20, blk_run_create);
