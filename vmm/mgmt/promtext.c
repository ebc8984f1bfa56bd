#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/promtext.h"

void promtext_emit(struct promtext *o, const char *fmt, ...)
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

void promtext_family(struct promtext *o, const char *name, const char *type, const char *help)
{
	promtext_emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Guest names are [A-Za-z0-9_.-] (proto_check()), device names are ours: no label value needs escaping. */
static uint64_t field(const void *base, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)base + offset, sizeof(v));
	return v;
}

/* A family with one series per guest: the uint64_t at offset in its info, times scale. */
static void guest_family(struct promtext *o, const struct proto_guest_list *list, const char *name,
			 const char *type, const char *help, size_t offset, uint64_t scale)
{
	uint32_t i;

	promtext_family(o, name, type, help);
	for (i = 0; i < list->count; i++)
		promtext_emit(o, "%s{guest=\"%s\"} %llu\n", name, list->guests[i].name,
			      (unsigned long long)(field(&list->guests[i], offset) * scale));
}

/* Milliseconds as seconds, exactly. */
static void seconds_family(struct promtext *o, const struct proto_guest_list *list, const char *name,
			   const char *type, const char *help, size_t offset)
{
	uint64_t ms;
	uint32_t i;

	promtext_family(o, name, type, help);
	for (i = 0; i < list->count; i++) {
		ms = field(&list->guests[i], offset);
		promtext_emit(o, "%s{guest=\"%s\"} %llu.%03llu\n", name, list->guests[i].name,
			      (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
	}
}

/*
 * The VMM's counters (docs/vmm.md, Counters) come only from guests whose VMM wrote some: a guest never started
 * has no such series rather than a flat 0. Disk n is vd('a' + n), NIC n is eth<n>, as in the JSON answers.
 */
static void disk_family(struct promtext *o, const struct proto_guest_list *list, const char *name,
			const char *help, size_t offset)
{
	const struct proto_guest_info *g;
	uint32_t i, d;

	promtext_family(o, name, "counter", help);
	for (i = 0; i < list->count; i++)
		for (g = &list->guests[i], d = 0; d < g->ndisks; d++)
			promtext_emit(o, "%s{guest=\"%s\",disk=\"vd%c\"} %llu\n", name, g->name, 'a' + (int)d,
				      (unsigned long long)field(&g->disks[d], offset));
}

static void nic_family(struct promtext *o, const struct proto_guest_list *list, const char *name,
		       const char *help, size_t offset)
{
	const struct proto_guest_info *g;
	uint32_t i, n;

	promtext_family(o, name, "counter", help);
	for (i = 0; i < list->count; i++)
		for (g = &list->guests[i], n = 0; n < g->nnics; n++)
			promtext_emit(o, "%s{guest=\"%s\",nic=\"eth%u\"} %llu\n", name, g->name, n,
				      (unsigned long long)field(&g->nics[n], offset));
}

static void needs_reset(struct promtext *o, const struct proto_guest_list *list)
{
	static const char name[] = "shrike_guest_virtio_needs_reset_total";
	const struct proto_guest_info *g;
	uint32_t i, k;

	promtext_family(o, name, "counter",
			"Times a virtio device stopped until its driver resets it (the driver broke the rules).");
	for (i = 0; i < list->count; i++) {
		g = &list->guests[i];
		for (k = 0; k < g->ndisks; k++)
			promtext_emit(o, "%s{guest=\"%s\",device=\"vd%c\"} %llu\n", name, g->name, 'a' + (int)k,
				      (unsigned long long)g->disks[k].needs_reset);
		for (k = 0; k < g->nnics; k++)
			promtext_emit(o, "%s{guest=\"%s\",device=\"eth%u\"} %llu\n", name, g->name, k,
				      (unsigned long long)g->nics[k].needs_reset);
		for (k = 0; g->has_counters && k < PROTO_DEVICE_COUNT; k++)
			promtext_emit(o, "%s{guest=\"%s\",device=\"%s\"} %llu\n", name, g->name, proto_device_name(k),
				      (unsigned long long)g->needs_reset[k]);
	}
}

static void vmm_counters(struct promtext *o, const struct proto_guest_list *list)
{
	const struct proto_guest_info *g;
	uint32_t i, k;

	promtext_family(o, "shrike_guest_vcpu_exits_total", "counter", "VM exits of the guest's vCPUs, by reason.");
	for (i = 0; i < list->count; i++)
		for (g = &list->guests[i], k = 0; g->has_counters && k < PROTO_EXIT_COUNT; k++)
			promtext_emit(o, "shrike_guest_vcpu_exits_total{guest=\"%s\",reason=\"%s\"} %llu\n", g->name,
				      proto_exit_name(k), (unsigned long long)g->exits[k]);
	disk_family(o, list, "shrike_guest_disk_read_bytes_total", "Bytes the guest read from the disk.",
		    offsetof(struct proto_disk_stats, read_bytes));
	disk_family(o, list, "shrike_guest_disk_written_bytes_total", "Bytes the guest wrote to the disk.",
		    offsetof(struct proto_disk_stats, write_bytes));
	disk_family(o, list, "shrike_guest_disk_reads_completed_total", "Read requests served.",
		    offsetof(struct proto_disk_stats, read_ops));
	disk_family(o, list, "shrike_guest_disk_writes_completed_total", "Write requests served.",
		    offsetof(struct proto_disk_stats, write_ops));
	disk_family(o, list, "shrike_guest_disk_flush_requests_total", "Flush requests served.",
		    offsetof(struct proto_disk_stats, flushes));
	nic_family(o, list, "shrike_guest_net_receive_bytes_total", "Bytes delivered to the guest.",
		   offsetof(struct proto_nic_stats, rx_bytes));
	nic_family(o, list, "shrike_guest_net_receive_packets_total", "Frames delivered to the guest.",
		   offsetof(struct proto_nic_stats, rx_packets));
	nic_family(o, list, "shrike_guest_net_receive_drop_total", "Frames for the guest that were dropped.",
		   offsetof(struct proto_nic_stats, rx_dropped));
	nic_family(o, list, "shrike_guest_net_transmit_bytes_total", "Bytes sent by the guest.",
		   offsetof(struct proto_nic_stats, tx_bytes));
	nic_family(o, list, "shrike_guest_net_transmit_packets_total", "Frames sent by the guest.",
		   offsetof(struct proto_nic_stats, tx_packets));
	nic_family(o, list, "shrike_guest_net_transmit_drop_total", "Frames from the guest that were dropped.",
		   offsetof(struct proto_nic_stats, tx_dropped));
	needs_reset(o, list);
	promtext_family(o, "shrike_guest_vmm_console_dropped_bytes_total", "counter",
			"Console output the VMM dropped because PID 1 read it too slowly.");
	for (i = 0; i < list->count; i++)
		if (list->guests[i].has_counters)
			promtext_emit(o, "shrike_guest_vmm_console_dropped_bytes_total{guest=\"%s\"} %llu\n",
				      list->guests[i].name,
				      (unsigned long long)list->guests[i].vmm_console_dropped_bytes);
	promtext_family(o, "shrike_guest_balloon_actual_bytes", "gauge",
			"Memory the guest has given back through its balloon.");
	for (i = 0; i < list->count; i++)
		if (list->guests[i].has_counters)
			promtext_emit(o, "shrike_guest_balloon_actual_bytes{guest=\"%s\"} %llu\n", list->guests[i].name,
				      (unsigned long long)list->guests[i].balloon_actual_mib << 20);
}

void promtext_guests(struct promtext *o, const struct proto_guest_list *list)
{
	uint32_t i, s;

	promtext_family(o, "shrike_guest_state", "gauge", "1 for the state the guest is in, 0 for the others.");
	for (i = 0; i < list->count; i++)
		for (s = 0; s < PROTO_STATE_COUNT; s++)
			promtext_emit(o, "shrike_guest_state{guest=\"%s\",state=\"%s\"} %d\n", list->guests[i].name,
				      proto_state_name(s), list->guests[i].state == s);
	promtext_family(o, "shrike_guest_vcpus", "gauge", "Virtual CPUs of the guest.");
	for (i = 0; i < list->count; i++)
		promtext_emit(o, "shrike_guest_vcpus{guest=\"%s\"} %u\n", list->guests[i].name, list->guests[i].vcpus);
	guest_family(o, list, "shrike_guest_memory_bytes", "gauge", "Memory of the guest.",
		     offsetof(struct proto_guest_info, memory_mib), 1 << 20);
	guest_family(o, list, "shrike_guest_balloon_target_bytes", "gauge",
		     "Memory the guest is asked to keep through its balloon, 0 for no request.",
		     offsetof(struct proto_guest_info, balloon_mib), 1 << 20);
	seconds_family(o, list, "shrike_guest_uptime_seconds", "gauge", "Time since the guest was last started.",
		       offsetof(struct proto_guest_info, uptime_ms));
	promtext_family(o, "shrike_guest_restarts_total", "counter", "Restarts of the guest since boot.");
	for (i = 0; i < list->count; i++)
		promtext_emit(o, "shrike_guest_restarts_total{guest=\"%s\"} %u\n", list->guests[i].name,
			      list->guests[i].restarts);
	seconds_family(o, list, "shrike_guest_cpu_seconds_total", "counter",
		       "CPU time (user and system) of the guest's VMM process, its vCPUs included; 0 while none runs.",
		       offsetof(struct proto_guest_info, cpu_ms));
	guest_family(o, list, "shrike_guest_vmm_memory_bytes", "gauge",
		     "Memory the guest's VMM holds besides the guest's RAM; 0 while none runs.",
		     offsetof(struct proto_guest_info, vmm_memory_kib), 1024);
	guest_family(o, list, "shrike_guest_ram_resident_bytes", "gauge",
		     "The guest's RAM that the host backs with memory now; 0 while no VMM runs.",
		     offsetof(struct proto_guest_info, ram_resident_kib), 1024);
	guest_family(o, list, "shrike_guest_console_dropped_bytes_total", "counter",
		     "Console output older than what PID 1's history ring keeps.",
		     offsetof(struct proto_guest_info, console_dropped_bytes), 1);
	guest_family(o, list, "shrike_guest_watchdog_resets_total", "counter",
		     "Times the guest's watchdog expired and its VMM ended to restart it.",
		     offsetof(struct proto_guest_info, watchdog_resets), 1);
	vmm_counters(o, list);
}
