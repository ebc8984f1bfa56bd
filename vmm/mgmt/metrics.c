#include <errno.h>
#include <stdint.h>

#include "mgmt/metrics.h"
#include "mgmt/promtext.h"
#include "mgmt/tls.h"

static uint64_t requests[600];			/* by status code */
static uint64_t handshake_failures[TLS_FAIL_COUNT];
static uint64_t handshakes, evicted;
static int connections;

void metrics_request(int status)
{
	if (status >= 100 && status < 600)
		requests[status]++;
}

void metrics_handshake_failure(int reason)
{
	if (reason >= 0 && reason < TLS_FAIL_COUNT)
		handshake_failures[reason]++;
}

void metrics_handshake_ok(void)
{
	handshakes++;
}

void metrics_connections(int open)
{
	connections = open;
}

void metrics_evicted(void)
{
	evicted++;
}

int metrics_render(char *buf, size_t size, const struct proto_guest_list *list)
{
	struct promtext o = { buf, size, 0, 0 };
	uint32_t i;
	int code;

	if (list)
		promtext_guests(&o, list);
	promtext_family(&o, "shrike_mgmt_supervisor_up", "gauge", "Whether PID 1 answered this scrape.");
	promtext_emit(&o, "shrike_mgmt_supervisor_up %d\n", list != NULL);
	promtext_family(&o, "shrike_api_requests_total", "counter", "API requests answered, by HTTP status.");
	for (code = 100; code < 600; code++)
		if (requests[code])
			promtext_emit(&o, "shrike_api_requests_total{code=\"%d\"} %llu\n", code,
				      (unsigned long long)requests[code]);
	promtext_family(&o, "shrike_tls_handshakes_total", "counter",
			"TLS handshakes completed with a verified client.");
	promtext_emit(&o, "shrike_tls_handshakes_total %llu\n", (unsigned long long)handshakes);
	promtext_family(&o, "shrike_tls_handshake_failures_total", "counter", "TLS handshakes refused, by reason.");
	for (i = 0; i < TLS_FAIL_COUNT; i++)
		promtext_emit(&o, "shrike_tls_handshake_failures_total{reason=\"%s\"} %llu\n",
			      tls_fail_name((int)i), (unsigned long long)handshake_failures[i]);
	promtext_family(&o, "shrike_mgmt_connections", "gauge", "Open connections to the management port.");
	promtext_emit(&o, "shrike_mgmt_connections %d\n", connections);
	promtext_family(&o, "shrike_mgmt_connections_evicted_total", "counter",
			"Connections closed to make room at the connection cap.");
	promtext_emit(&o, "shrike_mgmt_connections_evicted_total %llu\n", (unsigned long long)evicted);
	return o.overflow ? -ENOSPC : (int)o.len;
}
