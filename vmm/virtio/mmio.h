#ifndef SHRIKE_VIRTIO_MMIO_H
#define SHRIKE_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/vm.h"
#include "lib/evloop.h"
#include "run/stats.h"
#include "virtio/queue.h"

/*
 * The virtio-mmio transport, virtio 1.x register layout version 2. Each device set up on a VM takes the VM's next
 * slot: slot n is a 0x200-byte window at VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_STRIDE in the 32-bit MMIO hole and
 * IOAPIC pin virtio_mmio_irqs[n]. The guest learns both from the DSDT or from "virtio_mmio.device=0x200@ADDR:IRQ"
 * on its command line (virtio_mmio_cmdline()).
 *
 * A device is a private struct embedding struct virtio_dev and a static const struct virtio_dev_ops. Register
 * accesses come from vCPU threads; the transport holds dev->lock around every one, so the ops run under it too.
 */
#define VIRTIO_MMIO_BASE	0xd0000000ULL
#define VIRTIO_MMIO_STRIDE	0x1000ULL
#define VIRTIO_MMIO_SIZE	0x200
#define VIRTIO_MMIO_CONFIG	0x100
#define VIRTIO_MMIO_MAX_DEVICES	15	/* the IOAPIC pins no legacy device and not the GED has */
#define VIRTIO_MAX_QUEUES	3

#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_VERSION_1		(1ULL << 32)

#define VIRTIO_MMIO_INT_VRING		0x1
#define VIRTIO_MMIO_INT_CONFIG		0x2

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;		/* in log lines: "virtio-rng" */
	uint32_t device_id;
	uint64_t features;		/* besides VIRTIO_F_VERSION_1, which the transport always offers */
	unsigned int nr_queues;		/* at most VIRTIO_MAX_QUEUES */
	uint16_t queue_num_max;		/* at most VIRTQ_NUM_MAX */
	uint32_t config_size;		/* bytes of config space at dev->config, at most 0x100 */
	/* The driver made buffers available on queue q (ready, DRIVER_OK set, device not broken). */
	void (*notify)(struct virtio_dev *dev, unsigned int q);
	/* The driver wrote Status 0: forget everything in flight. May be NULL. */
	void (*reset)(struct virtio_dev *dev);
	/* Frees the containing device; the transport is no longer in use. */
	void (*destroy)(struct virtio_dev *dev);
};

/* A queue's kick as an ioeventfd: the guest's QueueNotify write wakes the event thread, not a VMM exit. */
struct virtio_kick {
	struct evloop_watch watch;	/* fd -1: notifications come as MMIO exits */
	struct virtio_dev *dev;
	unsigned int queue;
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	struct vm *vm;
	uint64_t base;
	unsigned int irq;
	pthread_mutex_t lock;
	uint8_t *config;		/* ops->config_size bytes the driver reads from 0x100; the device fills them */
	uint32_t status;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t interrupt_status;
	uint32_t config_generation;
	bool broken;			/* NEEDS_RESET is set: no queue is processed until the driver resets */
	bool violation_logged;		/* a hostile guest gets one log line per device, not a flood */
	struct virtq vqs[VIRTIO_MAX_QUEUES];
	struct virtio_kick kicks[VIRTIO_MAX_QUEUES];
	struct evloop *loop;		/* where the kicks are watched, NULL without */
	int irq_fd;			/* KVM irqfd for the pin, -1: KVM_IRQ_LINE */
	struct stats_device *stats;	/* the device's counters, in its slot of the guest's (run/stats.h) */
};

/* The IOAPIC pin of slot n; the MP table and the DSDT describe each one as edge-triggered, active high. */
extern const unsigned int virtio_mmio_irqs[VIRTIO_MMIO_MAX_DEVICES];

/*
 * Sets up dev in the next free slot of vm and registers its MMIO window. Returns 0, -ENOSPC when vm has no slot
 * left, or another -errno; each logged.
 */
int virtio_mmio_init(struct virtio_dev *dev, struct vm *vm, const struct virtio_dev_ops *ops, uint8_t *config);

/*
 * Moves dev's queue processing off the vCPU threads: each queue's QueueNotify becomes an ioeventfd watched on
 * loop (the handler takes dev->lock and calls ops->notify there), and interrupts go through an irqfd. Where KVM
 * refuses either, that part stays as it was (an MMIO exit, KVM_IRQ_LINE), logged once. Returns 0.
 */
int virtio_mmio_use_eventfds(struct virtio_dev *dev, struct evloop *loop);
/* Closes what virtio_mmio_use_eventfds() opened; the event thread must be stopped. */
void virtio_mmio_close_eventfds(struct virtio_dev *dev);

/* Appends " virtio_mmio.device=..." for dev to the NUL-terminated cmdline of size bytes; -ENOSPC if it is full. */
int virtio_mmio_cmdline(const struct virtio_dev *dev, char *cmdline, size_t size);

/* For devices, under dev->lock: whether queue q may be used (DRIVER_OK, the queue ready, no violation pending). */
bool virtio_mmio_queue_live(const struct virtio_dev *dev, unsigned int q);

/* For devices, under dev->lock: tell the driver about used buffers (VIRTIO_MMIO_INT_VRING) or a config change. */
void virtio_mmio_interrupt(struct virtio_dev *dev, uint32_t why);

/*
 * For devices and the transport, under dev->lock: the driver broke the rules (why says how). Sets NEEDS_RESET,
 * stops all queue processing until a reset, raises a config-change interrupt and logs once per device.
 */
void virtio_mmio_violation(struct virtio_dev *dev, const char *why);

#endif
