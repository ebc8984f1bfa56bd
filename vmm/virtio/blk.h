#ifndef SHRIKE_VIRTIO_BLK_H
#define SHRIKE_VIRTIO_BLK_H

#include <stdbool.h>

#include "kvm/vm.h"
#include "virtio/mmio.h"

/*
 * virtio-blk (device ID 2) on a raw image file or a block device: the guest's /dev/vdX. read_only opens it
 * O_RDONLY and offers VIRTIO_BLK_F_RO. Creates the device in vm's next virtio-mmio slot. Returns 0 with the
 * device in *out, or -errno (logged, naming the path). `run` makes one per --disk (its entry in the device table,
 * run/devices.h); a build without CONFIG_VIRTIO_BLK refuses --disk.
 */
int virtio_blk_create(struct vm *vm, const char *path, bool read_only, struct virtio_dev **out);

#endif
