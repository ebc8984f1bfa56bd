#include <errno.h>
#include <string.h>

#include "mgmt/proto.h"

_Static_assert(sizeof(struct proto_hdr) + sizeof(struct proto_guest_list) +
	       PROTO_MAX_LISTED * sizeof(struct proto_guest_info) <= PROTO_MSG_MAX, "a full guest list fits a message");

static const char *const state_names[PROTO_STATE_COUNT] = {
	"stopped", "starting", "running", "paused", "stopping", "crashed",
};

static const char *const action_names[PROTO_ACTION_COUNT] = {
	"start", "shutdown", "reboot", "destroy", "pause", "resume",
};

/* Label values in /metrics and keys in JSON. */
static const char *const exit_names[PROTO_EXIT_COUNT] = {
	"io", "mmio", "intr", "shutdown", "system_event", "fail_entry", "internal_error", "other",
};

static const char *const device_names[PROTO_DEVICE_COUNT] = {
	"rng", "balloon", "console",
};

/* The keys of PUT /v1/config's answer. */
static const char *const outcome_names[PROTO_CONFIG_OUTCOME_COUNT] = {
	"restarted", "started", "stopped", "unchanged", "updated",
};

const char *proto_config_outcome_name(uint32_t outcome)
{
	return outcome < PROTO_CONFIG_OUTCOME_COUNT ? outcome_names[outcome] : "unknown";
}

const char *proto_state_name(uint32_t state)
{
	return state < PROTO_STATE_COUNT ? state_names[state] : "unknown";
}

const char *proto_action_name(uint32_t action)
{
	return action < PROTO_ACTION_COUNT ? action_names[action] : "unknown";
}

const char *proto_exit_name(uint32_t exit)
{
	return exit < PROTO_EXIT_COUNT ? exit_names[exit] : "unknown";
}

const char *proto_device_name(uint32_t device)
{
	return device < PROTO_DEVICE_COUNT ? device_names[device] : "unknown";
}

int proto_action_parse(const char *name)
{
	int i;

	for (i = 0; i < PROTO_ACTION_COUNT; i++)
		if (!strcmp(name, action_names[i]))
			return i;
	return -EINVAL;
}

int proto_name_valid(const char *name)
{
	size_t i;

	if (name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i == PROTO_NAME_MAX - 1)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return 0;
	}
	return i > 0;
}

static int name_ok(const char name[PROTO_NAME_MAX])
{
	return memchr(name, '\0', PROTO_NAME_MAX) && proto_name_valid(name);
}

/* An exit reason: a lower-case word, or empty. */
static int exit_ok(const char last_exit[PROTO_EXIT_MAX])
{
	size_t i;

	for (i = 0; i < PROTO_EXIT_MAX && last_exit[i]; i++)
		if (last_exit[i] < 'a' || last_exit[i] > 'z')
			return 0;
	return i < PROTO_EXIT_MAX;
}

/* A counted payload: a fixed part, then `count` bytes that must end exactly at the end of the message. */
static int counted_ok(size_t payload, size_t fixed, uint64_t count)
{
	return payload >= fixed && payload - fixed == count;
}

static int data_ok(const void *p, size_t payload)
{
	const struct proto_data *d = p;

	return payload >= sizeof(*d) && !d->reserved && counted_ok(payload, sizeof(*d), d->len);
}

static int info_ok(const struct proto_guest_info *g)
{
	return name_ok(g->name) && g->state < PROTO_STATE_COUNT && g->autostart <= 1 && exit_ok(g->last_exit) &&
	       g->has_counters <= 1 && !g->reserved && g->ndisks <= PROTO_MAX_DISKS && g->nnics <= PROTO_MAX_NICS;
}

static int request_ok(uint16_t type, const unsigned char *p, size_t payload)
{
	switch (type) {
	case PROTO_HOST_INFO:
	case PROTO_GUEST_LIST:
	case PROTO_UNSUBSCRIBE:
	case PROTO_CONFIG_GET:
	case PROTO_EVENTS:
		return payload == 0;
	case PROTO_GUEST_GET:
	case PROTO_CONSOLE_READ:
	case PROTO_CONSOLE_FOLLOW:
		return payload == sizeof(struct proto_guest_ref) && name_ok((const char *)p);
	case PROTO_GUEST_ACTION: {
		const struct proto_guest_action *a = (const void *)p;

		return payload == sizeof(*a) && name_ok(a->name) && a->action < PROTO_ACTION_COUNT && !a->reserved;
	}
	case PROTO_GUEST_AUTOSTART: {
		const struct proto_guest_autostart *a = (const void *)p;

		return payload == sizeof(*a) && name_ok(a->name) && a->autostart <= 1 && !a->reserved;
	}
	case PROTO_GUEST_BALLOON:
		return payload == sizeof(struct proto_guest_balloon) && name_ok((const char *)p);
	case PROTO_CONSOLE_INPUT: {
		const struct proto_console_input *in = (const void *)p;

		return payload >= sizeof(*in) && name_ok(in->name) && !in->reserved && in->len <= PROTO_INPUT_MAX &&
		       counted_ok(payload, sizeof(*in), in->len);
	}
	case PROTO_CONFIG_PUT:
		return data_ok(p, payload);
	case PROTO_HOST_POWER: {
		const struct proto_host_power *h = (const void *)p;

		return payload == sizeof(*h) && h->action <= PROTO_POWER_POWEROFF && !h->reserved;
	}
	default:
		return 0;
	}
}

static int reply_ok(uint16_t type, int32_t status, const unsigned char *p, size_t payload)
{
	uint32_t i;

	if (status > 0)
		return 0;
	if (status < 0)		/* an error: nothing, or the text explaining it */
		return payload == 0 || data_ok(p, payload);
	switch (type) {
	case PROTO_HOST_INFO: {
		const struct proto_host_info *h = (const void *)p;

		return payload == sizeof(*h) && memchr(h->version, 0, sizeof(h->version)) &&
		       memchr(h->board, 0, sizeof(h->board)) && memchr(h->cpu_model, 0, sizeof(h->cpu_model)) &&
		       memchr(h->kernel, 0, sizeof(h->kernel));
	}
	case PROTO_GUEST_LIST: {
		const struct proto_guest_list *l = (const void *)p;

		if (payload < sizeof(*l) || l->count > PROTO_MAX_LISTED || l->reserved ||
		    !counted_ok(payload, sizeof(*l), (uint64_t)l->count * sizeof(l->guests[0])))
			return 0;
		for (i = 0; i < l->count; i++)
			if (!info_ok(&l->guests[i]))
				return 0;
		return 1;
	}
	case PROTO_GUEST_GET: {
		const struct proto_guest_detail *d = (const void *)p;

		return payload >= sizeof(*d) && info_ok(&d->info) && !d->reserved &&
		       counted_ok(payload, sizeof(*d), d->config_len);
	}
	case PROTO_CONSOLE_READ:
	case PROTO_CONSOLE_FOLLOW:
	case PROTO_CONFIG_GET:
		return data_ok(p, payload);
	case PROTO_CONFIG_PUT: {
		const struct proto_config_result *r = (const void *)p;

		if (payload < sizeof(*r) || r->count > PROTO_MAX_GUESTS || r->reboot_required > 1 ||
		    !counted_ok(payload, sizeof(*r), (uint64_t)r->count * sizeof(r->guests[0])))
			return 0;
		for (i = 0; i < r->count; i++)
			if (!name_ok(r->guests[i].name) || r->guests[i].outcome >= PROTO_CONFIG_OUTCOME_COUNT ||
			    r->guests[i].reserved)
				return 0;
		return 1;
	}
	case PROTO_GUEST_ACTION:
	case PROTO_GUEST_AUTOSTART:
	case PROTO_GUEST_BALLOON:
	case PROTO_CONSOLE_INPUT:
	case PROTO_EVENTS:
	case PROTO_HOST_POWER:
		return payload == 0;
	default:
		return 0;
	}
}

static int event_ok(uint16_t type, const unsigned char *p, size_t payload)
{
	switch (type) {
	case PROTO_EVT_CONSOLE:
		return data_ok(p, payload);
	case PROTO_EVT_STATE: {
		const struct proto_state_event *e = (const void *)p;

		return payload == sizeof(*e) && name_ok(e->name) && e->state < PROTO_STATE_COUNT &&
		       exit_ok(e->last_exit);
	}
	case PROTO_EVT_END:
		return payload == 0;
	default:
		return 0;
	}
}

int proto_check(const void *msg, size_t n, int from_pid1)
{
	const struct proto_hdr *h = msg;
	const unsigned char *p = (const unsigned char *)msg + sizeof(*h);
	size_t payload;
	int ok;

	if (n < sizeof(*h) || n > PROTO_MSG_MAX || h->len != n || h->reserved)
		return -EBADMSG;
	payload = n - sizeof(*h);
	if (!from_pid1)
		ok = !h->status && request_ok(h->type, p, payload);
	else if (h->type & PROTO_REPLY)
		ok = reply_ok((uint16_t)(h->type & ~PROTO_REPLY), h->status, p, payload);
	else
		ok = !h->status && event_ok(h->type, p, payload);
	return ok ? 0 : -EBADMSG;
}
