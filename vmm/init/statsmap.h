#ifndef SHRIKE_INIT_STATSMAP_H
#define SHRIKE_INIT_STATSMAP_H

#include "mgmt/proto.h"

/*
 * PID 1's end of a guest's counters (run/stats.h, docs/vmm.md): a memfd made for each start of the guest's VMM and
 * kept mapped read-only here. Reading never waits for the VMM, and the values of its last run stay readable after
 * it ended, until the next start replaces them.
 */
struct statsmap {
	const void *area;	/* STATS_SIZE bytes, NULL before the first start */
};

/*
 * A fresh area of zeros for the VMM about to start, in place of the last one (which is gone even on failure, so
 * that old values never pass for new ones). Returns the memfd to hand over, close-on-exec and for the caller to
 * close once the VMM has it, or -errno (logged with the guest's name).
 */
int statsmap_create(struct statsmap *m, const char *guest);

void statsmap_release(struct statsmap *m);

/*
 * Fills info's VMM counters from the area: has_counters, exits, disks and NICs (in device order: the config's),
 * balloon, needs_reset and the VMM's console drops. Leaves them 0 (has_counters too) when no VMM marked the area
 * valid yet, or one marked it with another layout.
 */
void statsmap_read(const struct statsmap *m, struct proto_guest_info *info);

#endif
