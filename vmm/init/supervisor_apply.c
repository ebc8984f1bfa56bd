#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "init/bootconf.h"
#include "init/supervisor_internal.h"
#include "lib/log.h"

/* A new configuration (PUT /v1/config): the plan, the stops it needs, then the switch once they are down. */

static bool has_bridge_nic(const struct config_guest *c)
{
	unsigned int i;

	for (i = 0; i < c->nnics; i++)
		if (c->nics[i].kind == CONFIG_NIC_BRIDGE)
			return true;
	return false;
}

void supervisor_plan(const struct config *old, const enum guest_state *state, const struct config *next,
		     struct supervisor_plan *plan)
{
	enum config_guest_diff diff;
	unsigned int i, j;
	bool running;

	memset(plan, 0, sizeof(*plan));
	plan->old_count = old->nguests;
	plan->new_count = next->nguests;
	for (i = 0; i < old->nguests; i++) {
		plan->removed[i] = plan->retire[i] = true;
		memcpy(plan->old_names[i], old->guests[i].name, sizeof(plan->old_names[i]));
	}
	for (j = 0; j < next->nguests; j++) {
		const struct config_guest *c = &next->guests[j];

		plan->from[j] = -1;
		for (i = 0; i < old->nguests; i++)
			if (!strcmp(old->guests[i].name, c->name))
				plan->from[j] = (int)i;
		if (plan->from[j] < 0) {
			plan->step[j] = c->autostart ? STEP_START : STEP_UPDATE;
			continue;
		}
		i = (unsigned int)plan->from[j];
		plan->removed[i] = false;
		diff = config_guest_diff(&old->guests[i], c);
		if (diff != CONFIG_GUEST_CHANGED && (i == j || !has_bridge_nic(c))) {
			plan->step[j] = STEP_KEEP;
			plan->retire[i] = false;
			continue;
		}
		/* Waiting to be restarted by its policy counts as running: the operator expects it back. */
		running = state[i] == GUEST_RUNNING || state[i] == GUEST_BACKOFF;
		plan->step[j] = running ? STEP_RESTART : STEP_UPDATE;
	}
	plan->reboot_required = !config_host_equal(old, next);
}

/* The switch: the next configuration's guests take over the state of the ones with their names. */
static void apply_switch(struct supervisor *sv)
{
	static struct guest old_guests[CONFIG_MAX_GUESTS];	/* 300 KiB: not on the stack */
	static struct config old_cfg;
	const struct supervisor_plan *p = &sv->plan;
	struct epoll_event ev = { .events = EPOLLIN };
	const struct partition_file *text;
	int map[CONFIG_MAX_GUESTS];
	unsigned int i, j, n = 0;
	char list[512];

	/* The open console line belongs to a guest slot that may hold another guest after this. */
	conout_break(sv->con);
	memcpy(old_guests, sv->guests, sizeof(old_guests));
	old_cfg = sv->cfg;
	for (i = 0; i < p->old_count; i++) {
		old_guests[i].cfg = &old_cfg.guests[i];
		map[i] = -1;
	}
	sv->cfg = *sv->next_cfg;
	free(sv->next_cfg);
	sv->next_cfg = NULL;
	partition_release(&sv->part);
	sv->part = sv->next_part;
	memset(&sv->next_part, 0, sizeof(sv->next_part));
	text = partition_find(&sv->part, PARTITION_CONFIG_FILE);
	sv->config_text = text ? (const char *)text->data : NULL;
	sv->config_len = text ? text->len : 0;

	for (j = 0; j < CONFIG_MAX_GUESTS; j++) {
		struct guest *g = &sv->guests[j];

		if (j < p->new_count && p->from[j] >= 0) {
			/* Its console history, counters and, if it is kept, its running VMM and pipes move along. */
			*g = old_guests[p->from[j]];
			map[p->from[j]] = (int)j;
			if (p->step[j] != STEP_KEEP)
				restart_reset(&g->failures);	/* a new configuration starts with a clean slate */
		} else {
			memset(g, 0, sizeof(*g));
			g->out_fd = g->err_fd = g->in_fd = -1;
		}
		if (j >= p->new_count)
			continue;
		g->cfg = &sv->cfg.guests[j];
		g->index = j;
		if (p->from[j] == (int)j)
			continue;
		ev.data.u64 = j + 1;
		if ((g->out_fd >= 0 && epoll_ctl(sv->epoll_fd, EPOLL_CTL_MOD, g->out_fd, &ev) < 0) ||
		    (g->err_fd >= 0 && epoll_ctl(sv->epoll_fd, EPOLL_CTL_MOD, g->err_fd, &ev) < 0))
			log_error("guest %s: epoll_ctl: %s; its output is lost", g->cfg->name, strerror(errno));
	}
	for (i = 0; i < p->old_count; i++) {
		if (!p->removed[i])
			continue;
		log_info("guest %s: removed by the new configuration", old_guests[i].cfg->name);
		ring_free(&old_guests[i].history);
		statsmap_release(&old_guests[i].stats);
	}
	sv->norder = config_start_order(&sv->cfg, sv->order);
	if (sv->watch && sv->watch->reindex)
		sv->watch->reindex(sv->watch_opaque, map, p->old_count);

	list[0] = '\0';
	for (i = 0; i < sv->norder; i++) {
		struct guest *g = &sv->guests[sv->order[i]];
		enum supervisor_step step = p->step[sv->order[i]];

		if (step != STEP_RESTART && step != STEP_START)
			continue;
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, " %s", g->cfg->name);
		if (!sv->shutting_down)
			supervisor_guest_start(sv, g);
	}
	log_info("config: the new configuration is in force%s%s", list[0] ? "; started:" : "", list);
	if (p->reboot_required)
		log_info("config: [host], [mgmt] or bridges changed; they take effect at the next boot");
}

/* Waits for the retired guests to be down, then switches. */
void supervisor_apply_step(struct supervisor *sv)
{
	unsigned int i;

	for (i = 0; i < sv->plan.old_count; i++)
		if (sv->plan.retire[i] && supervisor_guest_alive(&sv->guests[i]))
			return;
	apply_switch(sv);
}

static void apply_begin(struct supervisor *sv)
{
	unsigned int i;
	uint64_t now = supervisor_now_ms();

	for (i = 0; i < sv->plan.old_count; i++) {
		struct guest *g = &sv->guests[i];

		if (!sv->plan.retire[i])
			continue;
		/* A reboot under way would start it again with the old configuration. */
		g->start_after_stop = false;
		if (g->state == GUEST_BACKOFF || g->state == GUEST_FAILED)
			supervisor_set_state(sv, g, GUEST_STOPPED);
		else if (g->state == GUEST_RUNNING) {
			log_info("guest %s: %s by the new configuration", g->cfg->name,
				 sv->plan.removed[i] ? "removed" : "changed");
			supervisor_request_stop(sv, g, now);
		}
	}
	supervisor_after_event(sv);
}

int supervisor_config_put(struct supervisor *sv, const char *text, size_t len, struct config_errors *errs,
			  struct supervisor_plan *plan, uint64_t *generation)
{
	enum guest_state state[CONFIG_MAX_GUESTS];
	struct config *next;
	unsigned int i;
	int ret;

	if (!sv->configured || !sv->config_dev[0])
		return -ENODEV;
	if (sv->next_cfg || sv->shutting_down)
		return -EBUSY;
	next = calloc(1, sizeof(*next));
	if (!next)
		return -ENOMEM;
	ret = config_load(PARTITION_CONFIG_FILE, text, len, bootconf_host_memory(), next, errs);
	if (bootconf_check_refs(next, &sv->part, errs) < 0)
		ret = -EINVAL;
	if (ret < 0) {
		log_error("config: a new configuration refused with %u error%s", errs->count,
			  errs->count == 1 ? "" : "s");
		goto fail;
	}
	ret = bootconf_write(sv->config_dev, &sv->part, next, text, len, &sv->next_part, generation);
	if (ret < 0) {
		ret = -EIO;
		goto fail;
	}
	for (i = 0; i < sv->cfg.nguests; i++)
		state[i] = sv->guests[i].state;
	supervisor_plan(&sv->cfg, state, next, &sv->plan);
	if (sv->plan.reboot_required)
		sv->reboot_required = true;
	*plan = sv->plan;
	sv->next_cfg = next;
	apply_begin(sv);
	return 0;
fail:
	free(next);
	return ret;
}

int supervisor_set_autostart(struct supervisor *sv, const char *name, bool autostart, struct config_errors *errs)
{
	struct supervisor_plan plan;
	struct guest *g = sv->configured ? supervisor_guest_find(sv, name) : NULL;
	uint64_t generation;
	size_t len;
	char *text;
	int ret;

	if (!g)
		return -ENOENT;
	if (!sv->config_text || sv->next_cfg)
		return sv->config_text ? -EBUSY : -ENODEV;
	if (g->cfg->autostart == autostart)
		return 0;	/* nothing to write: a generation is not spent on it */
	ret = config_set_autostart(sv->config_text, sv->config_len, &sv->cfg, g->index, autostart, &text, &len);
	if (ret < 0)
		return ret;
	ret = supervisor_config_put(sv, text, len, errs, &plan, &generation);
	free(text);
	if (!ret)
		log_info("guest %s: autostart = %s (generation %llu)", name, autostart ? "yes" : "no",
			 (unsigned long long)generation);
	return ret;
}
