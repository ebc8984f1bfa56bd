#ifndef SHRIKE_VIRTIO_RNG_H
#define SHRIKE_VIRTIO_RNG_H

#include "kvm/vm.h"
#include "virtio/mmio.h"

/*
 * virtio-rng (device ID 4): the guest's /dev/hwrng, filled from the host's getrandom(). Creates the device in
 * vm's next virtio-mmio slot. Returns 0 with the device in *out, or -errno (logged). Every guest of `run` gets
 * one (its entry in the device table, run/devices.h).
 */
int virtio_rng_create(struct vm *vm, struct virtio_dev **out);

#endif
