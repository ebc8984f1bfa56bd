#include <stdio.h>

#include "init/guestinfo.h"
#include "init/procscan.h"
#include "init/supervisor_internal.h"

uint32_t guestinfo_state(const struct guest *g)
{
	switch (g->state) {
	case GUEST_RUNNING:
		return PROTO_STATE_RUNNING;
	case GUEST_STOPPING:
		return PROTO_STATE_STOPPING;
	case GUEST_BACKOFF:
	case GUEST_FAILED:
		return PROTO_STATE_CRASHED;
	default:
		return PROTO_STATE_STOPPED;
	}
}

_Static_assert(CONFIG_MAX_GUESTS <= PROTO_MAX_LISTED && GUEST_MAX_DISKS <= PROTO_MAX_DISKS &&
	       GUEST_MAX_NICS <= PROTO_MAX_NICS, "every guest, disk and NIC of a config has its place in the answers");

void guestinfo_fill(const struct guest *g, struct proto_guest_info *info)
{
	struct procscan_memory mem;
	long long cpu_ms;

	snprintf(info->name, sizeof(info->name), "%s", g->cfg->name);
	info->state = guestinfo_state(g);
	info->vcpus = g->cfg->vcpus;
	info->memory_mib = g->cfg->memory >> 20;
	info->autostart = g->cfg->autostart;
	info->restarts = g->restarts;
	info->uptime_ms = g->pid ? supervisor_now_ms() - g->started_ms : 0;
	info->console_dropped_bytes = g->history.buf ? ring_start(&g->history) : 0;
	info->watchdog_resets = g->exits[RESTART_EXIT_WATCHDOG];
	if (g->has_exited)
		snprintf(info->last_exit, sizeof(info->last_exit), "%s", restart_exit_name(g->last_exit));
	statsmap_read(&g->stats, info);
	if (g->pid <= 0)
		return;
	cpu_ms = procscan_cpu_ms("/proc", g->pid);
	info->cpu_ms = cpu_ms > 0 ? (uint64_t)cpu_ms : 0;
	if (procscan_vmm_memory("/proc", g->pid, g->cfg->memory, &mem) == 0) {
		info->vmm_memory_kib = mem.vmm_kib;
		info->ram_resident_kib = mem.guest_kib;
	}
}
