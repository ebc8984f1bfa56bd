#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/le.h"
#include "lib/log.h"
#include "run/devices.h"
#include "virtio/balloon.h"

#define BALLOON_DEVICE_ID	5
#define BALLOON_QUEUE_NUM	64
#define BALLOON_INFLATE		0
#define BALLOON_DEFLATE		1
#define BALLOON_STATS		2

#define BALLOON_F_STATS_VQ	(1ULL << 1)
#define BALLOON_F_DEFLATE_ON_OOM (1ULL << 2)

/*
 * Config space: le32 num_pages (the target, ours to write) and le32 actual. The transport drops config writes,
 * so the actual the driver writes never arrives; the device keeps its own count from the page numbers it is
 * handed, which is what the guest would report anyway, and shows it there.
 */
#define BALLOON_CONFIG_SIZE	8

#define BALLOON_PFN_SIZE	4
#define BALLOON_STAT_SIZE	10	/* le16 tag, le64 value, packed */
/* Statistics past this many entries are ignored: Linux sends 16, a hostile guest cannot make us read megabytes. */
#define BALLOON_STATS_MAX	64

struct balloon {
	struct virtio_dev dev;
	uint32_t target;		/* pages */
	uint64_t actual;		/* pages inflated minus pages deflated */
	bool stats_held;		/* the driver's statistics buffer is ours until we ask for fresh ones */
	uint16_t stats_head;
	uint64_t stats_updates;
	uint32_t stats_valid;
	uint64_t stats[VIRTIO_BALLOON_S_NR];
	bool madvise_logged;
	uint8_t config[BALLOON_CONFIG_SIZE];
};

static void balloon_release(struct balloon *b, uint8_t *host, uint64_t len)
{
	/* Guest RAM is private anonymous memory: the pages go back to the host and read as zeros if touched again. */
	if (len && madvise(host, len, MADV_DONTNEED) < 0 && !b->madvise_logged) {
		log_error("virtio-balloon: releasing guest pages: %s (logged once)", strerror(errno));
		b->madvise_logged = true;
	}
}

/*
 * Takes one page number: checks it against guest RAM and, when inflating, adds it to the run of host-contiguous
 * pages that one madvise() releases.
 */
static int pfn_take(struct balloon *b, uint32_t pfn, bool inflate, uint8_t **run, uint64_t *run_len, char *why,
		    size_t why_size)
{
	/* A 32-bit page number times 4 KiB stays below 2^44: no overflow in 64 bits. */
	uint64_t gpa = (uint64_t)pfn * VIRTIO_BALLOON_PAGE;
	uint8_t *host = vm_gpa_to_host(b->dev.vm, gpa, VIRTIO_BALLOON_PAGE);

	if (!host) {
		snprintf(why, why_size, "%s page number 0x%x (0x%llx) is not guest RAM", inflate ? "inflate" : "deflate",
			 pfn, (unsigned long long)gpa);
		return -EINVAL;
	}
	if (!inflate) {
		/* Nothing to do: a released page comes back by itself, zero-filled, when the guest touches it. */
		if (b->actual)
			b->actual--;
		return 0;
	}
	b->actual++;
	if (*run && *run + *run_len == host) {
		*run_len += VIRTIO_BALLOON_PAGE;
		return 0;
	}
	balloon_release(b, *run, *run_len);
	*run = host;
	*run_len = VIRTIO_BALLOON_PAGE;
	return 0;
}

/* The chain's readable bytes are an array of le32 page numbers; one may straddle two buffers. */
static int pfns_apply(struct balloon *b, const struct virtq_chain *ch, bool inflate, char *why, size_t why_size)
{
	uint8_t part[BALLOON_PFN_SIZE], *run = NULL;
	uint64_t run_len = 0;
	uint32_t off, n, total = 0;
	unsigned int i, have = 0;
	int ret = 0;

	for (i = 0; i < ch->nr && !ret; i++) {
		total += ch->bufs[i].len;
		for (off = 0; off < ch->bufs[i].len && !ret; off += n) {
			n = BALLOON_PFN_SIZE - have;
			if (n > ch->bufs[i].len - off)
				n = ch->bufs[i].len - off;
			memcpy(part + have, ch->bufs[i].host + off, n);
			have += n;
			if (have < BALLOON_PFN_SIZE)
				continue;
			have = 0;
			ret = pfn_take(b, le_get32(part), inflate, &run, &run_len, why, why_size);
		}
	}
	balloon_release(b, run, run_len);
	if (!ret && have) {
		snprintf(why, why_size, "page number array of %u bytes is not whole 4-byte entries", total);
		ret = -EINVAL;
	}
	return ret;
}

static void stats_parse(struct balloon *b, const struct virtq_chain *ch)
{
	uint8_t buf[BALLOON_STATS_MAX * BALLOON_STAT_SIZE];
	uint32_t len = 0, n, off;
	unsigned int i;
	uint16_t tag;

	for (i = 0; i < ch->nr && len < sizeof(buf); i++) {
		n = ch->bufs[i].len < sizeof(buf) - len ? ch->bufs[i].len : (uint32_t)sizeof(buf) - len;
		memcpy(buf + len, ch->bufs[i].host, n);
		len += n;
	}
	b->stats_valid = 0;
	for (off = 0; off + BALLOON_STAT_SIZE <= len; off += BALLOON_STAT_SIZE) {
		tag = le_get16(buf + off);
		if (tag >= VIRTIO_BALLOON_S_NR)
			continue;	/* a tag newer than this VMM: not an error */
		b->stats[tag] = le_get64(buf + off + 2);
		b->stats_valid |= 1U << tag;
	}
	b->stats_updates++;
}

/* Whether the device may touch queue qi: the driver is running it and has not broken the rules. */
static bool queue_live(const struct virtio_dev *dev, unsigned int qi)
{
	return !dev->broken && (dev->status & VIRTIO_STATUS_DRIVER_OK) && dev->vqs[qi].ready;
}

static void balloon_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct balloon *b = (struct balloon *)dev;
	struct virtq *q = &dev->vqs[qi];
	struct virtq_chain ch;
	bool used = false;
	char why[160];
	int ret;

	while ((ret = virtq_pop(q, dev->vm, &ch, why, sizeof(why))) > 0) {
		if (ch.nr_readable != ch.nr) {
			snprintf(why, sizeof(why), "queue %u: chain from descriptor %u has a device-writable buffer", qi,
				 ch.head);
			ret = -EINVAL;
			break;
		}
		if (qi != BALLOON_STATS) {
			ret = pfns_apply(b, &ch, qi == BALLOON_INFLATE, why, sizeof(why));
			if (ret < 0)
				break;
			virtq_push(q, ch.head, 0);
			used = true;
			continue;
		}
		stats_parse(b, &ch);
		/* The protocol has one buffer in flight; a second means the driver gave up on the first: return it. */
		if (b->stats_held) {
			virtq_push(q, b->stats_head, 0);
			used = true;
		}
		b->stats_head = ch.head;
		b->stats_held = true;
	}
	le_put32(b->config + 4, b->actual > UINT32_MAX ? UINT32_MAX : (uint32_t)b->actual);
	stats_set(&dev->stats->balloon.actual_bytes, b->actual * VIRTIO_BALLOON_PAGE);
	if (used)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	if (ret < 0)
		virtio_mmio_violation(dev, why);
}

/*
 * After a reset the guest starts over with an empty balloon (its pages come back as it touches them) and no
 * statistics buffer; the host's target stays for the next driver to read.
 */
static void balloon_reset(struct virtio_dev *dev)
{
	struct balloon *b = (struct balloon *)dev;

	b->actual = 0;
	le_put32(b->config + 4, 0);
	stats_set(&dev->stats->balloon.actual_bytes, 0);
	b->stats_held = false;
	b->stats_valid = 0;
}

static void balloon_destroy(struct virtio_dev *dev)
{
	free((struct balloon *)dev);
}

static const struct virtio_dev_ops balloon_ops = {
	.name = "virtio-balloon",
	.device_id = BALLOON_DEVICE_ID,
	.features = BALLOON_F_STATS_VQ | BALLOON_F_DEFLATE_ON_OOM,
	.nr_queues = 3,
	.queue_num_max = BALLOON_QUEUE_NUM,
	.config_size = BALLOON_CONFIG_SIZE,
	.notify = balloon_notify,
	.reset = balloon_reset,
	.destroy = balloon_destroy,
};

int virtio_balloon_set_target(struct virtio_dev *dev, uint64_t target_bytes)
{
	struct balloon *b = (struct balloon *)dev;
	uint64_t pages = target_bytes / VIRTIO_BALLOON_PAGE;

	if (target_bytes > dev->vm->ram_size || pages > UINT32_MAX)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	b->target = (uint32_t)pages;
	le_put32(b->config, b->target);
	stats_set(&dev->stats->balloon.target_bytes, (uint64_t)b->target * VIRTIO_BALLOON_PAGE);
	dev->config_generation++;
	/* A driver that is not running yet reads the target when it starts. */
	if ((dev->status & VIRTIO_STATUS_DRIVER_OK) && !dev->broken)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int virtio_balloon_get(struct virtio_dev *dev, struct virtio_balloon_info *info)
{
	struct balloon *b = (struct balloon *)dev;

	pthread_mutex_lock(&dev->lock);
	info->target_pages = b->target;
	info->actual_pages = b->actual;
	info->stats_updates = b->stats_updates;
	info->stats_valid = b->stats_valid;
	memcpy(info->stats, b->stats, sizeof(info->stats));
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int virtio_balloon_request_stats(struct virtio_dev *dev)
{
	struct balloon *b = (struct balloon *)dev;
	int ret = -EAGAIN;

	pthread_mutex_lock(&dev->lock);
	/*
	 * Linux primes the statistics queue and kicks it before it sets DRIVER_OK, and the transport ignores a kick
	 * that early: the first buffer may still wait in the available ring.
	 */
	if (!b->stats_held && queue_live(dev, BALLOON_STATS))
		balloon_notify(dev, BALLOON_STATS);
	if (b->stats_held && queue_live(dev, BALLOON_STATS)) {
		virtq_push(&dev->vqs[BALLOON_STATS], b->stats_head, 0);
		b->stats_held = false;
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
		ret = 0;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int virtio_balloon_create(struct vm *vm, struct virtio_dev **out)
{
	struct balloon *b = calloc(1, sizeof(*b));
	int ret;

	if (!b) {
		log_error("virtio-balloon: out of memory");
		return -ENOMEM;
	}
	ret = virtio_mmio_init(&b->dev, vm, &balloon_ops, b->config);
	if (ret < 0) {
		free(b);
		return ret;
	}
	*out = &b->dev;
	return 0;
}

/* Every guest gets one; the control socket sets its target. */
static int balloon_run_create(struct run_device_env *env)
{
	int ret = virtio_balloon_create(env->vm, &env->balloon);

	if (ret == 0)
		run_devices_add(env, env->balloon);
	return ret;
}

RUN_DEVICE(virtio_balloon, "virtio-balloon", 40, balloon_run_create);
