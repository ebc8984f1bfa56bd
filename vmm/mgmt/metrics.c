#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/metrics.h"
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

struct out {
	char *buf;
	size_t size, len;
	int overflow;
};

static void __attribute__((format(printf, 2, 3))) emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->overflow = 1;
	else
		o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One per-guest counter family. Guest names are [A-Za-z0-9_.-] (proto_check()), so they need no escaping. */
static void guest_family(struct out *o, const struct proto_guest_list *list, const char *name, const char *help,
			 size_t offset)
{
	uint32_t i;
	uint64_t v;

	family(o, name, "counter", help);
	for (i = 0; i < list->count; i++) {
		memcpy(&v, (const char *)&list->guests[i] + offset, sizeof(v));
		emit(o, "%s{guest=\"%s\"} %llu\n", name, list->guests[i].name, (unsigned long long)v);
	}
}

int metrics_render(char *buf, size_t size, const struct proto_guest_list *list)
{
	struct out o = { buf, size, 0, 0 };
	uint32_t i, s;
	int code;

	if (list) {
		family(&o, "shrike_guest_state", "gauge", "1 for the state the guest is in, 0 for the others.");
		for (i = 0; i < list->count; i++)
			for (s = 0; s < PROTO_STATE_COUNT; s++)
				emit(&o, "shrike_guest_state{guest=\"%s\",state=\"%s\"} %d\n", list->guests[i].name,
				     proto_state_name(s), list->guests[i].state == s);
		family(&o, "shrike_guest_vcpus", "gauge", "Virtual CPUs of the guest.");
		for (i = 0; i < list->count; i++)
			emit(&o, "shrike_guest_vcpus{guest=\"%s\"} %u\n", list->guests[i].name, list->guests[i].vcpus);
		family(&o, "shrike_guest_memory_bytes", "gauge", "Memory of the guest.");
		for (i = 0; i < list->count; i++)
			emit(&o, "shrike_guest_memory_bytes{guest=\"%s\"} %llu\n", list->guests[i].name,
			     (unsigned long long)list->guests[i].memory_mib << 20);
		family(&o, "shrike_guest_uptime_seconds", "gauge", "Time since the guest was last started.");
		for (i = 0; i < list->count; i++)
			emit(&o, "shrike_guest_uptime_seconds{guest=\"%s\"} %llu.%03llu\n", list->guests[i].name,
			     (unsigned long long)list->guests[i].uptime_ms / 1000,
			     (unsigned long long)list->guests[i].uptime_ms % 1000);
		family(&o, "shrike_guest_restarts_total", "counter", "Restarts of the guest since boot.");
		for (i = 0; i < list->count; i++)
			emit(&o, "shrike_guest_restarts_total{guest=\"%s\"} %u\n", list->guests[i].name,
			     list->guests[i].restarts);
		guest_family(&o, list, "shrike_guest_vcpu_exits_total", "VM exits of all vCPUs of the guest.",
			     offsetof(struct proto_guest_info, vcpu_exits));
		guest_family(&o, list, "shrike_guest_disk_read_bytes_total", "Bytes the guest read from its disks.",
			     offsetof(struct proto_guest_info, disk_read_bytes));
		guest_family(&o, list, "shrike_guest_disk_written_bytes_total", "Bytes the guest wrote to its disks.",
			     offsetof(struct proto_guest_info, disk_write_bytes));
		guest_family(&o, list, "shrike_guest_net_receive_bytes_total", "Bytes delivered to the guest.",
			     offsetof(struct proto_guest_info, net_rx_bytes));
		guest_family(&o, list, "shrike_guest_net_transmit_bytes_total", "Bytes sent by the guest.",
			     offsetof(struct proto_guest_info, net_tx_bytes));
		guest_family(&o, list, "shrike_guest_console_dropped_bytes_total",
			     "Console output lost because the ring or a reader was too slow.",
			     offsetof(struct proto_guest_info, console_dropped_bytes));
		guest_family(&o, list, "shrike_guest_watchdog_resets_total",
			     "Times the guest's watchdog expired and its VMM ended to restart it.",
			     offsetof(struct proto_guest_info, watchdog_resets));
	}
	family(&o, "shrike_mgmt_supervisor_up", "gauge", "Whether PID 1 answered this scrape.");
	emit(&o, "shrike_mgmt_supervisor_up %d\n", list != NULL);
	family(&o, "shrike_api_requests_total", "counter", "API requests answered, by HTTP status.");
	for (code = 100; code < 600; code++)
		if (requests[code])
			emit(&o, "shrike_api_requests_total{code=\"%d\"} %llu\n", code,
			     (unsigned long long)requests[code]);
	family(&o, "shrike_tls_handshakes_total", "counter", "TLS handshakes completed with a verified client.");
	emit(&o, "shrike_tls_handshakes_total %llu\n", (unsigned long long)handshakes);
	family(&o, "shrike_tls_handshake_failures_total", "counter", "TLS handshakes refused, by reason.");
	for (i = 0; i < TLS_FAIL_COUNT; i++)
		emit(&o, "shrike_tls_handshake_failures_total{reason=\"%s\"} %llu\n", tls_fail_name((int)i),
		     (unsigned long long)handshake_failures[i]);
	family(&o, "shrike_mgmt_connections", "gauge", "Open connections to the management port.");
	emit(&o, "shrike_mgmt_connections %d\n", connections);
	family(&o, "shrike_mgmt_connections_evicted_total", "counter",
	       "Connections closed to make room at the connection cap.");
	emit(&o, "shrike_mgmt_connections_evicted_total %llu\n", (unsigned long long)evicted);
	return o.overflow ? -ENOSPC : (int)o.len;
}
