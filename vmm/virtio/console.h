#ifndef SHRIKE_VIRTIO_CONSOLE_H
#define SHRIKE_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "kvm/vm.h"
#include "virtio/mmio.h"

/* Host input the device holds while the guest has no receive buffer posted (before boot, or a busy guest). */
#define VIRTIO_CONSOLE_FIFO	1024

/*
 * virtio-console (device ID 3), one port, no multiport: the guest's /dev/hvc0. Creates the device in vm's next
 * virtio-mmio slot. Returns 0 with the device in *out, or -errno (logged). `run` makes it for --console virtio
 * (its entry in the device table, run/devices.h).
 *
 * What the guest transmits goes to emit(opaque, buf, len). emit runs on the vCPU thread that kicked the queue,
 * under dev->lock, with buf pointing into guest memory: it must copy the bytes before it returns, must not block
 * (queue them for the event thread) and must not call back into this device.
 *
 * The other three functions are weak, so that run's console input links in a build without
 * CONFIG_VIRTIO_CONSOLE; it only calls them on the device the table made.
 */
int virtio_console_create(struct vm *vm, void (*emit)(void *opaque, const uint8_t *buf, size_t len), void *opaque,
			  struct virtio_dev **out);

/*
 * Host keyboard input, from any thread but a vCPU's: copies what fits into the receive buffers the guest has
 * posted and into the device's FIFO, and returns the bytes taken. The caller keeps the rest and offers it again
 * once the wakeup below fires.
 */
size_t virtio_console_input(struct virtio_dev *dev, const uint8_t *buf, size_t len) __attribute__((weak));

/*
 * fn(opaque) is called when the guest posts receive buffers after virtio_console_input() took less than it was
 * offered, so the caller need not poll. It runs on a vCPU thread under dev->lock: it must not block and must not
 * call back into this device (write an eventfd). fn may be NULL to stop the calls.
 */
void virtio_console_set_wakeup(struct virtio_dev *dev, void (*fn)(void *opaque), void *opaque)
	__attribute__((weak));

/* The terminal size the guest sees (VIRTIO_CONSOLE_F_SIZE), e.g. after a SIGWINCH; 0 x 0 means unknown. */
void virtio_console_set_size(struct virtio_dev *dev, uint16_t cols, uint16_t rows) __attribute__((weak));

#endif
