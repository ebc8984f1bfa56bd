#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "virtio/mmio.h"

_Static_assert(STATS_MAX_DEVICES >= VIRTIO_MMIO_MAX_DEVICES, "every device needs a counter slot");

/* Register offsets of the version 2 (virtio 1.x) layout. */
#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEVICE_FEATURES	0x010
#define REG_DEVICE_FEATURES_SEL	0x014
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_CONFIG_GENERATION	0x0fc

#define MAGIC			0x74726976	/* "virt" */
#define VERSION			2
#define VENDOR_ID		0x4b525348	/* "SHRK" */

/*
 * The ISA IRQs no emulated device uses (0-2 are timer, keyboard and cascade, 4 COM1, 8 the RTC), then the pins
 * above the ISA range but 16, the GED's (fw/acpi.h). The first eight keep the slots they had before pins 17-23
 * were added, so a guest's devices keep their interrupts.
 */
const unsigned int virtio_mmio_irqs[VIRTIO_MMIO_MAX_DEVICES] = {
	5, 6, 7, 9, 10, 11, 12, 14, 17, 18, 19, 20, 21, 22, 23,
};

static uint64_t offered_features(const struct virtio_dev *dev)
{
	return dev->ops->features | VIRTIO_F_VERSION_1;
}

void virtio_mmio_interrupt(struct virtio_dev *dev, uint32_t why)
{
	dev->interrupt_status |= why;
	/*
	 * Every pin is described as edge-triggered, active high (virtio_mmio_irqs): a pulse per event. The driver
	 * reads InterruptStatus and then looks at the whole used ring, so an edge that arrives while it is still
	 * busy loses nothing. An irqfd pulses too.
	 */
	if (dev->irq_fd >= 0) {
		uint64_t one = 1;

		if (write(dev->irq_fd, &one, sizeof(one)) == sizeof(one))
			return;
	}
	vm_irq_line(dev->vm, dev->irq, 1);
	vm_irq_line(dev->vm, dev->irq, 0);
}

void virtio_mmio_violation(struct virtio_dev *dev, const char *why)
{
	if (!dev->violation_logged) {
		log_error("%s at 0x%llx: %s; the device needs a reset (logged once)", dev->ops->name,
			  (unsigned long long)dev->base, why);
		dev->violation_logged = true;
	}
	if (dev->broken)
		return;
	dev->broken = true;
	stats_add(&dev->stats->needs_reset, 1);
	dev->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* NEEDS_RESET is only seen by a driver that looks: a config-change interrupt makes it look. */
	virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

static void device_reset(struct virtio_dev *dev)
{
	unsigned int i;

	if (dev->ops->reset)
		dev->ops->reset(dev);
	dev->status = 0;
	dev->device_features_sel = dev->driver_features_sel = dev->queue_sel = 0;
	dev->driver_features = 0;
	dev->interrupt_status = 0;
	dev->broken = false;
	for (i = 0; i < dev->ops->nr_queues; i++)
		virtq_reset(&dev->vqs[i], dev->ops->queue_num_max);
}

/* The selected queue, or NULL if QueueSel names none (reads then give 0, writes are ignored, as the spec asks). */
static struct virtq *selected_queue(struct virtio_dev *dev)
{
	return dev->queue_sel < dev->ops->nr_queues ? &dev->vqs[dev->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_dev *dev, uint64_t off)
{
	struct virtq *q = selected_queue(dev);

	switch (off) {
	case REG_MAGIC:
		return MAGIC;
	case REG_VERSION:
		return VERSION;
	case REG_DEVICE_ID:
		return dev->ops->device_id;
	case REG_VENDOR_ID:
		return VENDOR_ID;
	case REG_DEVICE_FEATURES:
		if (dev->device_features_sel > 1)
			return 0;
		return (uint32_t)(offered_features(dev) >> (32 * dev->device_features_sel));
	case REG_QUEUE_NUM_MAX:
		return q ? q->num_max : 0;
	case REG_QUEUE_READY:
		return q ? q->ready : 0;
	case REG_INTERRUPT_STATUS:
		return dev->interrupt_status;
	case REG_STATUS:
		return dev->status;
	case REG_CONFIG_GENERATION:
		return dev->config_generation;
	default:
		return 0;
	}
}

/* FEATURES_OK sticks only for a subset of what we offer that includes VERSION_1; the driver reads it back. */
static void status_write(struct virtio_dev *dev, uint32_t v)
{
	char why[96];

	if (!v) {
		device_reset(dev);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(dev->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((dev->driver_features & ~offered_features(dev)) || !(dev->driver_features & VIRTIO_F_VERSION_1)))
		v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(dev->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(v & VIRTIO_STATUS_FEATURES_OK)) {
		snprintf(why, sizeof(why), "DRIVER_OK without FEATURES_OK (status 0x%x)", v);
		virtio_mmio_violation(dev, why);
		return;
	}
	/* NEEDS_RESET is the device's to set and only a reset clears it. */
	dev->status = (v & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET) | (dev->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* The 64-bit ring addresses arrive as two 32-bit register writes. */
static void set_half(uint64_t *reg, bool high, uint32_t v)
{
	if (high)
		*reg = (*reg & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*reg = (*reg & ~0xffffffffULL) | v;
}

/* Queue layout registers: the driver's to set up before DRIVER_OK and while the queue is not ready. */
static void queue_write(struct virtio_dev *dev, struct virtq *q, uint64_t off, uint32_t v)
{
	char why[160];

	if ((dev->status & VIRTIO_STATUS_DRIVER_OK) || (q->ready && off != REG_QUEUE_READY)) {
		snprintf(why, sizeof(why), "queue %u register 0x%03llx written while the queue is live", dev->queue_sel,
			 (unsigned long long)off);
		virtio_mmio_violation(dev, why);
		return;
	}
	switch (off) {
	case REG_QUEUE_NUM:
		if (!virtq_num_valid(q, v)) {
			snprintf(why, sizeof(why), "queue %u size %u is not a power of two up to %u", dev->queue_sel,
				 v, q->num_max);
			virtio_mmio_violation(dev, why);
			return;
		}
		q->num = (uint16_t)v;
		break;
	case REG_QUEUE_READY:
		if (!(v & 1)) {
			q->ready = false;
			return;
		}
		if (!q->ready && virtq_activate(q, dev->vm, why, sizeof(why)) < 0)
			virtio_mmio_violation(dev, why);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		set_half(&q->desc_gpa, off == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		set_half(&q->driver_gpa, off == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		set_half(&q->device_gpa, off == REG_QUEUE_DEVICE_HIGH, v);
		break;
	default:
		break;
	}
}

static void queue_notify(struct virtio_dev *dev, uint32_t index)
{
	char why[64];

	if (index >= dev->ops->nr_queues) {
		snprintf(why, sizeof(why), "notify of queue %u, the device has %u", index, dev->ops->nr_queues);
		virtio_mmio_violation(dev, why);
		return;
	}
	if (virtio_mmio_queue_live(dev, index))
		dev->ops->notify(dev, index);
}

/* Before DRIVER_OK or after a violation the device does not touch the rings. */
bool virtio_mmio_queue_live(const struct virtio_dev *dev, unsigned int q)
{
	return q < dev->ops->nr_queues && !dev->broken && (dev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       dev->vqs[q].ready;
}

static void reg_write(struct virtio_dev *dev, uint64_t off, uint32_t v)
{
	struct virtq *q = selected_queue(dev);
	uint64_t shift;

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		dev->device_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		if (dev->driver_features_sel > 1 || (dev->status & VIRTIO_STATUS_FEATURES_OK))
			break;
		shift = 32 * dev->driver_features_sel;
		dev->driver_features = (dev->driver_features & ~(0xffffffffULL << shift)) | (uint64_t)v << shift;
		break;
	case REG_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		dev->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
	case REG_QUEUE_READY:
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (q)
			queue_write(dev, q, off, v);
		break;
	case REG_QUEUE_NOTIFY:
		queue_notify(dev, v);
		break;
	case REG_INTERRUPT_ACK:
		dev->interrupt_status &= ~v;
		break;
	case REG_STATUS:
		status_write(dev, v);
		break;
	default:
		break;	/* read-only or unknown: ignored */
	}
}

/* Config space is bytes at any width; past its end reads are 0 and writes go nowhere (rng and blk are read-only). */
static void config_access(struct virtio_dev *dev, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	uint32_t i;

	if (is_write)
		return;
	for (i = 0; i < len; i++)
		data[i] = off + i < dev->ops->config_size ? dev->config[off + i] : 0;
}

static void mmio_access(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_dev *dev = opaque;
	uint64_t off = addr - dev->base;
	uint32_t v;

	pthread_mutex_lock(&dev->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_access(dev, off - VIRTIO_MMIO_CONFIG, data, len, is_write);
	} else if (len != 4 || (off & 3)) {
		/* The registers are 32-bit and aligned; anything else is ignored, reads see 0. */
		if (!is_write)
			memset(data, 0, len);
	} else if (is_write) {
		memcpy(&v, data, 4);
		reg_write(dev, off, v);
	} else {
		v = reg_read(dev, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&dev->lock);
}

int virtio_mmio_init(struct virtio_dev *dev, struct vm *vm, const struct virtio_dev_ops *ops, uint8_t *config)
{
	unsigned int q, slot = vm->virtio_slots;
	int ret;

	if (slot >= VIRTIO_MMIO_MAX_DEVICES) {
		log_error("%s: more than %d virtio devices", ops->name, VIRTIO_MMIO_MAX_DEVICES);
		return -ENOSPC;
	}
	dev->ops = ops;
	dev->vm = vm;
	dev->base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_STRIDE;
	dev->irq = virtio_mmio_irqs[slot];
	dev->config = config;
	dev->config_generation = 0;
	dev->violation_logged = false;
	dev->loop = NULL;
	dev->irq_fd = -1;
	dev->stats = stats_device(slot, ops->device_id);
	for (q = 0; q < VIRTIO_MAX_QUEUES; q++)
		dev->kicks[q].watch.fd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	device_reset(dev);
	ret = iotrap_register(&vm->io, IOTRAP_MMIO, dev->base, VIRTIO_MMIO_SIZE, mmio_access, dev);
	if (ret < 0) {
		log_error("%s: MMIO window at 0x%llx: %s", ops->name, (unsigned long long)dev->base,
			  strerror(-ret));
		return ret;
	}
	vm->virtio_slots++;
	return 0;
}

int virtio_mmio_cmdline(const struct virtio_dev *dev, char *cmdline, size_t size)
{
	size_t len = strlen(cmdline);
	int n;

	if (len >= size)
		return -ENOSPC;
	n = snprintf(cmdline + len, size - len, " virtio_mmio.device=0x%x@0x%llx:%u", VIRTIO_MMIO_SIZE,
		     (unsigned long long)dev->base, dev->irq);
	if (n < 0 || (size_t)n >= size - len) {
		cmdline[len] = '\0';
		return -ENOSPC;
	}
	return 0;
}

/* Event thread: the guest kicked a queue. Same checks as a kick through an MMIO exit. */
static void kick_ready(struct evloop_watch *w, uint32_t events)
{
	struct virtio_kick *k = w->opaque;
	struct virtio_dev *dev = k->dev;
	uint64_t n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&dev->lock);
	if (virtio_mmio_queue_live(dev, k->queue)) {
		virtq_batch_begin(&dev->vqs[k->queue]);
		dev->ops->notify(dev, k->queue);
		/* More than a queue's worth waiting: kick ourselves, so the other devices get their turn first. */
		if (virtq_batch_end(&dev->vqs[k->queue]) && !dev->broken) {
			n = 1;
			if (write(w->fd, &n, sizeof(n)) < 0)
				log_error("%s: requeueing a kick: %s", dev->ops->name, strerror(errno));
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

static int kick_assign(struct virtio_dev *dev, unsigned int q, int fd, bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = q,
		.addr = dev->base + REG_QUEUE_NOTIFY,
		.len = 4,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(dev->vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int virtio_mmio_use_eventfds(struct virtio_dev *dev, struct evloop *loop)
{
	static bool refused_logged;
	struct kvm_irqfd irqfd = { .gsi = dev->irq };
	unsigned int q;
	int fd, ret = 0;

	dev->loop = loop;
	for (q = 0; q < dev->ops->nr_queues && ret == 0; q++) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			ret = -errno;
			break;
		}
		ret = kick_assign(dev, q, fd, true);
		if (ret < 0) {
			close(fd);
			break;
		}
		dev->kicks[q] = (struct virtio_kick){
			.watch = { .fd = fd, .fn = kick_ready, .opaque = &dev->kicks[q] }, .dev = dev, .queue = q,
		};
		ret = evloop_add(loop, &dev->kicks[q].watch, EPOLLIN);
		if (ret < 0) {
			kick_assign(dev, q, fd, false);
			close(fd);
			dev->kicks[q].watch.fd = -1;
		}
	}
	fd = eventfd(0, EFD_CLOEXEC);
	irqfd.fd = (uint32_t)fd;
	if (fd >= 0 && ioctl(dev->vm->vm_fd, KVM_IRQFD, &irqfd) == 0) {
		dev->irq_fd = fd;
	} else {
		if (ret == 0)
			ret = -errno;
		if (fd >= 0)
			close(fd);
	}
	/* Queues left without an eventfd still work through MMIO exits, just on the vCPU thread. */
	if (ret < 0 && !refused_logged) {
		refused_logged = true;
		log_info("%s: KVM refused an ioeventfd or irqfd (%s); its queues stay on the vCPU threads",
			 dev->ops->name, strerror(-ret));
	}
	return 0;
}

void virtio_mmio_close_eventfds(struct virtio_dev *dev)
{
	unsigned int q;

	for (q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (dev->kicks[q].watch.fd < 0)
			continue;
		evloop_del(dev->loop, &dev->kicks[q].watch);
		kick_assign(dev, q, dev->kicks[q].watch.fd, false);
		close(dev->kicks[q].watch.fd);
		dev->kicks[q].watch.fd = -1;
	}
	if (dev->irq_fd >= 0) {
		struct kvm_irqfd irqfd = {
			.fd = (uint32_t)dev->irq_fd, .gsi = dev->irq, .flags = KVM_IRQFD_FLAG_DEASSIGN,
		};

		ioctl(dev->vm->vm_fd, KVM_IRQFD, &irqfd);
		close(dev->irq_fd);
		dev->irq_fd = -1;
	}
}
