#ifndef SHRIKE_VIRTIO_RNG_H
#define SHRIKE_VIRTIO_RNG_H

#include "kvm/vm.h"
#include "virtio/mmio.h"

/*
 * virtio-rng (device ID 4): the guest's /dev/hwrng, filled from the host's getrandom(). Creates the device as
 * virtio-mmio device number index. Returns 0 with the device in *out, or -errno (logged).
 *
 * Weak, so that a build without CONFIG_VIRTIO_RNG still links: the symbol is then NULL and run skips the device.
 */
int virtio_rng_create(struct vm *vm, unsigned int index, struct virtio_dev **out) __attribute__((weak));

#endif
