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
 * device takes ownership of be. Weak, so a build without CONFIG_VIRTIO_NET links (the symbol is then NULL).
 */
int virtio_net_create(struct vm *vm, unsigned int index, struct evloop *loop, struct net_backend *be,
		      const uint8_t mac[VIRTIO_NET_MAC_LEN], struct virtio_dev **out) __attribute__((weak));

#endif
