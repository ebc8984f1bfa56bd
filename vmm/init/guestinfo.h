#ifndef SHRIKE_INIT_GUESTINFO_H
#define SHRIKE_INIT_GUESTINFO_H

#include <stdint.h>

#include "init/supervisor.h"
#include "mgmt/proto.h"

/* A guest as the API shows it: its state in the protocol's terms. */
uint32_t guestinfo_state(const struct guest *g);

/*
 * Fills a zeroed info with the guest's configuration, state and history, its VMM's counters (init/statsmap.h)
 * and, while a VMM runs, its CPU time and memory from /proc. Never blocks on the VMM.
 */
void guestinfo_fill(const struct guest *g, struct proto_guest_info *info);

#endif
