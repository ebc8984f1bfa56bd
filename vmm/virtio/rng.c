#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "lib/log.h"
#include "run/devices.h"
#include "virtio/rng.h"

#define RNG_DEVICE_ID	4
#define RNG_QUEUE_NUM	64

struct rng {
	struct virtio_dev dev;
};

/* Fills the writable buffers of each chain; getrandom() never blocks once the host's pool is initialised. */
static void rng_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct virtq *q = &dev->vqs[qi];
	struct virtq_chain c;
	uint32_t written;
	unsigned int i;
	char why[160];
	bool used = false;
	ssize_t n;
	int ret;

	while ((ret = virtq_pop(q, dev->vm, &c, why, sizeof(why))) > 0) {
		written = 0;
		for (i = c.nr_readable; i < c.nr; i++) {
			n = getrandom(c.bufs[i].host, c.bufs[i].len, 0);
			if (n <= 0)
				break;
			written += (uint32_t)n;
			if ((uint32_t)n < c.bufs[i].len)
				break;
		}
		virtq_push(q, c.head, written);
		used = true;
	}
	if (used)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	if (ret < 0)
		virtio_mmio_violation(dev, why);
}

static void rng_destroy(struct virtio_dev *dev)
{
	free((struct rng *)dev);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = RNG_DEVICE_ID,
	.nr_queues = 1,
	.queue_num_max = RNG_QUEUE_NUM,
	.notify = rng_notify,
	.destroy = rng_destroy,
};

int virtio_rng_create(struct vm *vm, struct virtio_dev **out)
{
	struct rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		log_error("virtio-rng: out of memory");
		return -ENOMEM;
	}
	ret = virtio_mmio_init(&r->dev, vm, &rng_ops, NULL);
	if (ret < 0) {
		free(r);
		return ret;
	}
	*out = &r->dev;
	return 0;
}

static int rng_run_create(struct run_device_env *env)
{
	struct virtio_dev *dev;
	int ret = virtio_rng_create(env->vm, &dev);

	if (ret == 0)
		run_devices_add(env, dev);
	return ret;
}

RUN_DEVICE(virtio_rng, "virtio-rng", 10, rng_run_create);
