#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/le.h"
#include "lib/log.h"
#include "run/devices.h"
#include "virtio/console.h"

#define CONSOLE_DEVICE_ID	3
#define CONSOLE_QUEUE_NUM	64
#define CONSOLE_RX		0	/* receiveq0: host to guest */
#define CONSOLE_TX		1	/* transmitq0: guest to host */

#define CONSOLE_F_SIZE		(1ULL << 0)

/* Config space: le16 cols, le16 rows, le32 max_nr_ports (no multiport: unused), le32 emerg_wr (not offered). */
#define CONSOLE_CONFIG_SIZE	12

struct console {
	struct virtio_dev dev;
	void (*emit)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
	void (*wakeup)(void *opaque);
	void *wakeup_opaque;
	bool starved;			/* input was turned away since the guest last posted receive buffers */
	uint8_t fifo[VIRTIO_CONSOLE_FIFO];
	size_t fifo_head, fifo_count;
	uint8_t config[CONSOLE_CONFIG_SIZE];
};

static size_t fifo_put(struct console *c, const uint8_t *src, size_t len)
{
	size_t room = VIRTIO_CONSOLE_FIFO - c->fifo_count, tail, n, done = 0;

	if (len > room)
		len = room;
	while (done < len) {
		tail = (c->fifo_head + c->fifo_count) % VIRTIO_CONSOLE_FIFO;
		n = VIRTIO_CONSOLE_FIFO - tail;
		if (n > len - done)
			n = len - done;
		memcpy(c->fifo + tail, src + done, n);
		c->fifo_count += n;
		done += n;
	}
	return len;
}

static uint32_t fifo_get(struct console *c, uint8_t *dst, uint32_t len)
{
	uint32_t done = 0;
	size_t n;

	while (done < len && c->fifo_count) {
		n = VIRTIO_CONSOLE_FIFO - c->fifo_head;
		if (n > c->fifo_count)
			n = c->fifo_count;
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, c->fifo + c->fifo_head, n);
		c->fifo_head = (c->fifo_head + n) % VIRTIO_CONSOLE_FIFO;
		c->fifo_count -= n;
		done += (uint32_t)n;
	}
	return done;
}

/* Whether the driver has a live receive queue; a broken device touches no ring until the driver resets it. */
static bool rx_live(const struct virtio_dev *dev)
{
	return !dev->broken && (dev->status & VIRTIO_STATUS_DRIVER_OK) && dev->vqs[CONSOLE_RX].ready;
}

/*
 * Moves FIFO bytes into the receive buffers the guest posted. A chain is taken only when there is something to
 * put in it, since a taken chain cannot be put back. Returns whether a chain went back to the guest.
 */
static bool rx_drain(struct console *c)
{
	struct virtio_dev *dev = &c->dev;
	struct virtq *q = &dev->vqs[CONSOLE_RX];
	struct virtq_chain ch;
	bool used = false;
	uint32_t written;
	unsigned int i;
	char why[160];
	int ret;

	while (c->fifo_count && rx_live(dev)) {
		ret = virtq_pop(q, dev->vm, &ch, why, sizeof(why));
		if (!ret)
			break;
		if (ret > 0 && ch.nr_readable) {
			snprintf(why, sizeof(why), "receive chain from descriptor %u has a device-readable buffer",
				 ch.head);
			ret = -EINVAL;
		}
		if (ret < 0) {
			virtio_mmio_violation(dev, why);
			break;
		}
		written = 0;
		for (i = 0; i < ch.nr && c->fifo_count; i++)
			written += fifo_get(c, ch.bufs[i].host, ch.bufs[i].len);
		virtq_push(q, ch.head, written);
		used = true;
	}
	return used;
}

/* Each readable buffer goes to emit as it is; the transmit queue carries no header. */
static void tx_process(struct console *c)
{
	struct virtio_dev *dev = &c->dev;
	struct virtq *q = &dev->vqs[CONSOLE_TX];
	struct virtq_chain ch;
	bool used = false;
	unsigned int i;
	char why[160];
	int ret;

	while ((ret = virtq_pop(q, dev->vm, &ch, why, sizeof(why))) > 0) {
		if (ch.nr_readable != ch.nr) {
			snprintf(why, sizeof(why), "transmit chain from descriptor %u has a device-writable buffer",
				 ch.head);
			ret = -EINVAL;
			break;
		}
		for (i = 0; i < ch.nr; i++)
			c->emit(c->opaque, ch.bufs[i].host, ch.bufs[i].len);
		virtq_push(q, ch.head, 0);
		used = true;
	}
	if (used)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	if (ret < 0)
		virtio_mmio_violation(dev, why);
}

/* Input turned away earlier may now fit: tell whoever holds it. */
static void wake_input(struct console *c)
{
	if (c->starved && c->wakeup && c->fifo_count < VIRTIO_CONSOLE_FIFO) {
		c->starved = false;
		c->wakeup(c->wakeup_opaque);
	}
}

static void console_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct console *c = (struct console *)dev;

	if (qi == CONSOLE_TX)
		tx_process(c);
	/*
	 * Any kick is a chance to deliver input: a driver may post its first receive buffers before DRIVER_OK, when
	 * the transport ignores the kick that would have told us.
	 */
	if (rx_drain(c))
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	wake_input(c);
}

/* Typed-ahead input belongs to the guest that is gone; the next boot starts with an empty FIFO. */
static void console_reset(struct virtio_dev *dev)
{
	struct console *c = (struct console *)dev;

	c->fifo_head = c->fifo_count = 0;
	wake_input(c);
}

static void console_destroy(struct virtio_dev *dev)
{
	free((struct console *)dev);
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = CONSOLE_DEVICE_ID,
	.features = CONSOLE_F_SIZE,
	.nr_queues = 2,
	.queue_num_max = CONSOLE_QUEUE_NUM,
	.config_size = CONSOLE_CONFIG_SIZE,
	.notify = console_notify,
	.reset = console_reset,
	.destroy = console_destroy,
};

size_t virtio_console_input(struct virtio_dev *dev, const uint8_t *buf, size_t len)
{
	struct console *c = (struct console *)dev;
	size_t taken = 0, n;
	bool used = false;

	pthread_mutex_lock(&dev->lock);
	/* The FIFO is the one path, so bytes reach the guest in order; draining makes room for more. */
	do {
		n = fifo_put(c, buf + taken, len - taken);
		taken += n;
		used |= rx_drain(c);
	} while (n && taken < len);
	if (taken < len)
		c->starved = true;
	if (used)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	pthread_mutex_unlock(&dev->lock);
	return taken;
}

void virtio_console_set_wakeup(struct virtio_dev *dev, void (*fn)(void *opaque), void *opaque)
{
	struct console *c = (struct console *)dev;

	pthread_mutex_lock(&dev->lock);
	c->wakeup = fn;
	c->wakeup_opaque = opaque;
	pthread_mutex_unlock(&dev->lock);
}

void virtio_console_set_size(struct virtio_dev *dev, uint16_t cols, uint16_t rows)
{
	struct console *c = (struct console *)dev;

	pthread_mutex_lock(&dev->lock);
	le_put16(c->config, cols);
	le_put16(c->config + 2, rows);
	dev->config_generation++;
	/* A driver that is not running yet reads the size when it starts. */
	if ((dev->status & VIRTIO_STATUS_DRIVER_OK) && !dev->broken)
		virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
	pthread_mutex_unlock(&dev->lock);
}

int virtio_console_create(struct vm *vm, void (*emit)(void *opaque, const uint8_t *buf, size_t len), void *opaque,
			  struct virtio_dev **out)
{
	struct console *c;
	int ret;

	if (!emit)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("virtio-console: out of memory");
		return -ENOMEM;
	}
	c->emit = emit;
	c->opaque = opaque;
	ret = virtio_mmio_init(&c->dev, vm, &console_ops, c->config);
	if (ret < 0) {
		free(c);
		return ret;
	}
	*out = &c->dev;
	return 0;
}

/* With --console virtio: the terminal's input goes to hvc0, its output to run's console. */
static int console_run_create(struct run_device_env *env)
{
	int ret;

	if (!env->opts->virtio_console)
		return 0;
	ret = virtio_console_create(env->vm, env->console_emit, env->console_opaque, &env->console);
	if (ret == 0)
		run_devices_add(env, env->console);
	return ret;
}

RUN_DEVICE(virtio_console, "virtio-console", 50, console_run_create);
