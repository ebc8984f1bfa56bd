#ifndef SHRIKE_VIRTIO_NET_H
#define SHRIKE_VIRTIO_NET_H

#include <stdint.h>

#include "kvm/vm.h"
#include "lib/evloop.h"
#include "net/backend.h"
#include "virtio/mmio.h"

#define VIRTIO_NET_MAC_LEN	6

/*
 * virtio-net (device ID 1): one receive and one transmit queue, a MAC address and link status, no offloads. Frames
 * from the guest go to the backend from the vCPU thread that kicked the queue (the backends never block); frames
 * from the backend go to the guest on the event loop thread, straight into the guest's receive buffers. The
 * device takes ownership of be, and takes vm's next virtio-mmio slot. `run` makes one per --net (its entry in
 * the device table, run/devices.h), on a tap or the user network.
 */
int virtio_net_create(struct vm *vm, struct evloop *loop, struct net_backend *be,
		      const uint8_t mac[VIRTIO_NET_MAC_LEN], struct virtio_dev **out);

#endif
