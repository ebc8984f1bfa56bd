#ifndef SHRIKE_MGMT_PROMTEXT_H
#define SHRIKE_MGMT_PROMTEXT_H

#include <stddef.h>

#include "mgmt/proto.h"

/*
 * The Prometheus text exposition format (0.0.4) for GET /metrics: a writer into a fixed buffer, and the families
 * of PID 1's guest list (docs/api.md). The mgmt process's own counters are in metrics.c.
 */
struct promtext {
	char *buf;
	size_t size, len;
	int overflow;		/* set once something did not fit; nothing more is written */
};

void promtext_emit(struct promtext *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The # HELP and # TYPE lines of a family; its samples follow. */
void promtext_family(struct promtext *o, const char *name, const char *type, const char *help);
/* Every guest family, one series per guest (per disk, NIC, exit reason or device where labelled so). */
void promtext_guests(struct promtext *o, const struct proto_guest_list *list);

#endif
