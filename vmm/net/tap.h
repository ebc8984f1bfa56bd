#ifndef SHRIKE_NET_TAP_H
#define SHRIKE_NET_TAP_H

#include "net/backend.h"

/*
 * A tap device as a NIC backend: opens /dev/net/tun and attaches to the tap called name, creating it if it does
 * not exist (it then goes away with the VMM). The caller (the supervisor, or the operator) brings it up and puts
 * it into a bridge. Returns 0 or -errno, logged with the name. Built with CONFIG_VIRTIO_NET, its only user.
 */
int net_tap_open(const char *name, struct net_backend **out);

#endif
