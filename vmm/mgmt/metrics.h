#ifndef SHRIKE_MGMT_METRICS_H
#define SHRIKE_MGMT_METRICS_H

#include <stddef.h>

#include "mgmt/proto.h"

/*
 * The mgmt process's own counters, and GET /metrics in the Prometheus text exposition format (version 0.0.4):
 * these counters plus the per-guest figures PID 1 reports.
 */
void metrics_request(int status);
void metrics_handshake_failure(int reason);	/* enum tls_fail */
void metrics_handshake_ok(void);
void metrics_connections(int open);		/* the current number of connections */
void metrics_evicted(void);			/* closed to make room at the connection cap */

/* Renders everything into buf; returns the length or -ENOSPC. list may be NULL if PID 1 did not answer. */
int metrics_render(char *buf, size_t size, const struct proto_guest_list *list);

#endif
