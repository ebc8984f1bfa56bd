#ifndef SHRIKE_INIT_HOSTNET_H
#define SHRIKE_INIT_HOSTNET_H

#include "config/config.h"

/*
 * The host's own network, as far as it goes so far: loopback, and the management NIC with the static address and
 * default route of [host]. Bridges, taps and DHCP are not done yet: `address = dhcp` leaves the NIC down, saying
 * so. Returns 0 or -errno (logged).
 */
int hostnet_up(const struct config_host *h);

#endif
