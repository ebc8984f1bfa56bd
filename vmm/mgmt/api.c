#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/api.h"
#include "mgmt/json.h"
#include "mgmt/metrics.h"
#include "mgmt/tls.h"

#define JSON_TYPE "application/json"

/* Large enough for a guest's config section escaped at worst (6 bytes per byte) or 64 guests' metrics. */
static char body[8 * PROTO_MSG_MAX];
static union {
	struct proto_hdr hdr;
	unsigned char bytes[PROTO_MSG_MAX];
} msg;

static void respond(struct api_result *res, int status, const char *type, const char *text, size_t len)
{
	res->status = status;
	res->content_type = type;
	res->body = text;
	res->body_len = len;
}

void api_error(int status, const char *message, struct api_result *res)
{
	struct json_writer w;
	int len;

	json_init(&w, body, sizeof(body));
	json_object_begin(&w);
	json_key(&w, "status");
	json_int(&w, status);
	json_key(&w, "error");
	json_string(&w, message);
	json_object_end(&w);
	len = json_finish(&w);
	respond(res, status, JSON_TYPE, body, len < 0 ? 0 : (size_t)len);
}

/* Sends the rendered JSON, or a 500 if it did not fit (which would be a bug in the sizes above). */
static void respond_json(struct api_result *res, int status, struct json_writer *w)
{
	int len = json_finish(w);

	if (len < 0)
		api_error(500, "answer too large", res);
	else
		respond(res, status, JSON_TYPE, body, (size_t)len);
}

/* Starts a message for PID 1 with room for payload bytes; returns the payload. */
static void *forward(struct api_result *res, int kind, uint16_t type, size_t payload)
{
	memset(&msg.hdr, 0, sizeof(msg.hdr) + payload);
	msg.hdr.type = type;
	msg.hdr.len = (uint32_t)(sizeof(msg.hdr) + payload);
	res->status = 0;
	res->kind = kind;
	res->msg = &msg.hdr;
	return msg.bytes + sizeof(msg.hdr);
}

static void forward_name(struct api_result *res, int kind, uint16_t type, const char *name)
{
	struct proto_guest_ref *ref = forward(res, kind, type, sizeof(*ref));

	strcpy(ref->name, name);	/* proto_name_valid() bounded it */
}

static int want_json_body(const struct http_request *req, struct api_result *res)
{
	if (!req->body_len) {
		api_error(400, "a JSON body is required", res);
		return 0;
	}
	if (json_validate(req->body, req->body_len)) {
		api_error(400, "the body is not valid JSON", res);
		return 0;
	}
	return 1;
}

static void guest_routes(const struct http_request *req, int writer, struct api_result *res)
{
	const char *name = req->segments[2], *sub = req->nsegments > 3 ? req->segments[3] : NULL;
	int action, rc, b;
	long long n;
	char follow[8];

	if (!proto_name_valid(name)) {
		api_error(404, "no such guest", res);
		return;
	}
	if (!sub) {
		if (req->method != HTTP_GET && req->method != HTTP_HEAD)
			goto not_allowed;
		forward_name(res, API_GUEST, PROTO_GUEST_GET, name);
		return;
	}
	if (req->nsegments > 4)
		goto not_found;
	if (!strcmp(sub, "console")) {
		if (req->method == HTTP_GET || req->method == HTTP_HEAD) {
			rc = http_query_get(req, "follow", follow, sizeof(follow));
			if (rc >= 0 && strcmp(follow, "0") && strcmp(follow, "false"))
				forward_name(res, API_CONSOLE_FOLLOW, PROTO_CONSOLE_FOLLOW, name);
			else
				forward_name(res, API_CONSOLE, PROTO_CONSOLE_READ, name);
		} else if (req->method == HTTP_POST) {
			struct proto_console_input *in;

			if (!writer)
				goto forbidden;
			if (req->body_len > PROTO_INPUT_MAX) {
				api_error(413, "console input is limited to 4096 bytes per request", res);
				return;
			}
			in = forward(res, API_CONSOLE_INPUT, PROTO_CONSOLE_INPUT, sizeof(*in) + req->body_len);
			strcpy(in->name, name);
			in->len = (uint32_t)req->body_len;
			memcpy(in->data, req->body, req->body_len);
		} else {
			goto not_allowed;
		}
		return;
	}
	if (!strcmp(sub, "autostart") || !strcmp(sub, "balloon")) {
		if (req->method != HTTP_PUT)
			goto not_allowed;
		if (!writer)
			goto forbidden;
		if (!want_json_body(req, res))
			return;
		if (sub[0] == 'a') {
			struct proto_guest_autostart *a;

			if (json_get_bool(req->body, req->body_len, "autostart", &b)) {
				api_error(400, "expected {\"autostart\": true|false}", res);
				return;
			}
			a = forward(res, API_AUTOSTART, PROTO_GUEST_AUTOSTART, sizeof(*a));
			strcpy(a->name, name);
			a->autostart = (uint32_t)b;
		} else {
			struct proto_guest_balloon *bl;

			rc = json_get_int(req->body, req->body_len, "target_mib", 1, 1 << 24, &n);
			if (rc) {
				api_error(400, rc == -ERANGE ? "target_mib must be between 1 and 16777216"
					  : "expected {\"target_mib\": N}", res);
				return;
			}
			bl = forward(res, API_BALLOON, PROTO_GUEST_BALLOON, sizeof(*bl));
			strcpy(bl->name, name);
			bl->target_mib = (uint64_t)n;
		}
		return;
	}
	action = proto_action_parse(sub);
	if (action >= 0) {
		struct proto_guest_action *a;

		if (req->method != HTTP_POST)
			goto not_allowed;
		if (!writer)
			goto forbidden;
		a = forward(res, API_ACTION, PROTO_GUEST_ACTION, sizeof(*a));
		strcpy(a->name, name);
		a->action = (uint32_t)action;
		return;
	}
not_found:
	api_error(404, "no such endpoint", res);
	return;
not_allowed:
	api_error(405, "method not allowed here", res);
	return;
forbidden:
	api_error(403, "this certificate may only read (O=reader)", res);
}

void api_handle(const struct http_request *req, int role, struct api_result *res)
{
	const char *const *s = req->segments;
	unsigned int n = req->nsegments;
	int get = req->method == HTTP_GET || req->method == HTTP_HEAD, writer = role == TLS_ROLE_ADMIN;

	memset(res, 0, sizeof(*res));
	if (role == TLS_ROLE_NONE) {
		api_error(403, "the client certificate's O= must be admin or reader", res);
		return;
	}
	if (n == 1 && !strcmp(s[0], "metrics")) {
		if (!get)
			goto not_allowed;
		forward(res, API_METRICS, PROTO_GUEST_LIST, 0);
		return;
	}
	if (n < 2 || strcmp(s[0], "v1"))
		goto not_found;
	if (!strcmp(s[1], "host")) {
		if (n == 2) {
			if (!get)
				goto not_allowed;
			forward(res, API_HOST, PROTO_HOST_INFO, 0);
			return;
		}
		if (n == 3 && (!strcmp(s[2], "reboot") || !strcmp(s[2], "poweroff"))) {
			struct proto_host_power *p;

			if (req->method != HTTP_POST)
				goto not_allowed;
			if (!writer)
				goto forbidden;
			p = forward(res, API_POWER, PROTO_HOST_POWER, sizeof(*p));
			p->action = s[2][0] == 'r' ? PROTO_POWER_REBOOT : PROTO_POWER_POWEROFF;
			return;
		}
		goto not_found;
	}
	if (!strcmp(s[1], "guests")) {
		if (n == 2) {
			if (!get)
				goto not_allowed;
			forward(res, API_GUESTS, PROTO_GUEST_LIST, 0);
			return;
		}
		guest_routes(req, writer, res);
		return;
	}
	if (n == 2 && !strcmp(s[1], "config")) {
		if (get) {
			forward(res, API_CONFIG_GET, PROTO_CONFIG_GET, 0);
		} else if (req->method == HTTP_PUT) {
			struct proto_data *d;

			if (!writer)
				goto forbidden;
			if (req->body_len > PROTO_DATA_MAX) {
				api_error(413, "config too large", res);
				return;
			}
			d = forward(res, API_CONFIG_PUT, PROTO_CONFIG_PUT, sizeof(*d) + req->body_len);
			d->len = (uint32_t)req->body_len;
			memcpy(d->data, req->body, req->body_len);
		} else {
			goto not_allowed;
		}
		return;
	}
	if (n == 2 && !strcmp(s[1], "events")) {
		if (!get)
			goto not_allowed;
		forward(res, API_EVENTS, PROTO_EVENTS, 0);
		return;
	}
not_found:
	api_error(404, "no such endpoint", res);
	return;
not_allowed:
	api_error(405, "method not allowed here", res);
	return;
forbidden:
	api_error(403, "this certificate may only read (O=reader)", res);
}

static void uint_field(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

/* The VMM's counters and its process's figures (docs/api.md, GET /v1/guests/{name}); the totals came first. */
static void stats_json(struct json_writer *w, const struct proto_guest_info *g)
{
	uint64_t disk_read = 0, disk_write = 0, net_rx = 0, net_tx = 0, exits = 0;
	char name[16];
	uint32_t i;

	for (i = 0; i < g->ndisks; i++) {
		disk_read += g->disks[i].read_bytes;
		disk_write += g->disks[i].write_bytes;
	}
	for (i = 0; i < g->nnics; i++) {
		net_rx += g->nics[i].rx_bytes;
		net_tx += g->nics[i].tx_bytes;
	}
	for (i = 0; i < PROTO_EXIT_COUNT; i++)
		exits += g->exits[i];
	json_key(w, "stats");
	json_object_begin(w);
	uint_field(w, "vcpu_exits", exits);
	uint_field(w, "disk_read_bytes", disk_read);
	uint_field(w, "disk_write_bytes", disk_write);
	uint_field(w, "net_rx_bytes", net_rx);
	uint_field(w, "net_tx_bytes", net_tx);
	uint_field(w, "console_dropped_bytes", g->console_dropped_bytes);
	uint_field(w, "vmm_console_dropped_bytes", g->vmm_console_dropped_bytes);
	uint_field(w, "cpu_ms", g->cpu_ms);
	uint_field(w, "vmm_memory_kib", g->vmm_memory_kib);
	uint_field(w, "ram_resident_kib", g->ram_resident_kib);
	uint_field(w, "balloon_actual_mib", g->balloon_actual_mib);
	json_key(w, "exits");
	json_object_begin(w);
	for (i = 0; i < PROTO_EXIT_COUNT; i++)
		uint_field(w, proto_exit_name(i), g->exits[i]);
	json_object_end(w);
	json_key(w, "disks");
	json_array_begin(w);
	for (i = 0; i < g->ndisks; i++) {
		const struct proto_disk_stats *d = &g->disks[i];

		json_object_begin(w);
		snprintf(name, sizeof(name), "vd%c", 'a' + (int)i);
		json_key(w, "name");
		json_string(w, name);
		uint_field(w, "read_bytes", d->read_bytes);
		uint_field(w, "read_ops", d->read_ops);
		uint_field(w, "write_bytes", d->write_bytes);
		uint_field(w, "write_ops", d->write_ops);
		uint_field(w, "flushes", d->flushes);
		uint_field(w, "needs_reset", d->needs_reset);
		json_object_end(w);
	}
	json_array_end(w);
	json_key(w, "nics");
	json_array_begin(w);
	for (i = 0; i < g->nnics; i++) {
		const struct proto_nic_stats *n = &g->nics[i];

		json_object_begin(w);
		snprintf(name, sizeof(name), "eth%u", i);
		json_key(w, "name");
		json_string(w, name);
		uint_field(w, "rx_bytes", n->rx_bytes);
		uint_field(w, "rx_packets", n->rx_packets);
		uint_field(w, "rx_dropped", n->rx_dropped);
		uint_field(w, "tx_bytes", n->tx_bytes);
		uint_field(w, "tx_packets", n->tx_packets);
		uint_field(w, "tx_dropped", n->tx_dropped);
		uint_field(w, "needs_reset", n->needs_reset);
		json_object_end(w);
	}
	json_array_end(w);
	json_key(w, "needs_reset");
	json_object_begin(w);
	for (i = 0; i < PROTO_DEVICE_COUNT; i++)
		uint_field(w, proto_device_name(i), g->needs_reset[i]);
	json_object_end(w);
	json_object_end(w);
}

static void guest_json(struct json_writer *w, const struct proto_guest_info *g)
{
	json_key(w, "name");
	json_string(w, g->name);
	json_key(w, "state");
	json_string(w, proto_state_name(g->state));
	json_key(w, "vcpus");
	json_uint(w, g->vcpus);
	json_key(w, "memory_mib");
	json_uint(w, g->memory_mib);
	json_key(w, "balloon_mib");
	json_uint(w, g->balloon_mib);
	json_key(w, "autostart");
	json_bool(w, (int)g->autostart);
	json_key(w, "uptime_ms");
	json_uint(w, g->uptime_ms);
	json_key(w, "restarts");
	json_uint(w, g->restarts);
	stats_json(w, g);
}

static void host_json(struct json_writer *w, const struct proto_host_info *h)
{
	json_object_begin(w);
	json_key(w, "version");
	json_string(w, h->version);
	json_key(w, "board");
	json_string(w, h->board);
	json_key(w, "kernel");
	json_string(w, h->kernel);
	json_key(w, "uptime_ms");
	json_uint(w, h->uptime_ms);
	json_key(w, "cpu");
	json_object_begin(w);
	json_key(w, "model");
	json_string(w, h->cpu_model);
	json_key(w, "count");
	json_uint(w, h->cpus);
	json_object_end(w);
	json_key(w, "memory");
	json_object_begin(w);
	json_key(w, "total_kib");
	json_uint(w, h->mem_total_kib);
	json_key(w, "free_kib");
	json_uint(w, h->mem_free_kib);
	json_object_end(w);
	json_key(w, "kvm");
	json_object_begin(w);
	json_key(w, "api_version");
	json_uint(w, h->kvm_api);
	json_key(w, "usable");
	json_bool(w, (int)h->kvm_ok);
	json_object_end(w);
	json_key(w, "guests");
	json_uint(w, h->guests);
	json_object_end(w);
}

static int errno_status(int status)
{
	switch (-status) {
	case ENOENT: return 404;
	case EALREADY:
	case EBUSY: return 409;
	case EINVAL: return 422;
	case EPERM:
	case EACCES: return 403;
	case ENOSYS:
	case EOPNOTSUPP: return 501;
	case EAGAIN: return 503;
	default: return 500;
	}
}

static const char *errno_message(int status)
{
	switch (-status) {
	case ENOENT: return "no such guest";
	case EALREADY: return "the guest is already in that state";
	case EBUSY: return "busy; try again";
	case EINVAL: return "refused";
	case EPERM:
	case EACCES: return "not permitted";
	case ENOSYS:
	case EOPNOTSUPP: return "not supported by this firmware";
	case EAGAIN: return "not available now; try again";
	default: return strerror(-status);
	}
}

static void reply_error(int kind, const struct proto_hdr *reply, struct api_result *res)
{
	const struct proto_data *d = (const void *)(reply + 1);
	int status = errno_status(reply->status);
	int config = kind == API_CONFIG_PUT || kind == API_AUTOSTART;
	const char *line, *end, *nl;
	struct json_writer w;

	json_init(&w, body, sizeof(body));
	json_object_begin(&w);
	json_key(&w, "status");
	json_int(&w, status);
	json_key(&w, "error");
	json_string(&w, config && reply->status == -EBUSY ? "a configuration is being applied; try again" :
		    errno_message(reply->status));
	if (reply->len > sizeof(*reply)) {
		/* e.g. a refused config's "file:line: message" lines */
		json_key(&w, "details");
		json_string_len(&w, d->data, d->len);
		if (config) {
			/* the same lines one by one, for scripts */
			json_key(&w, "errors");
			json_array_begin(&w);
			for (line = d->data, end = d->data + d->len; line < end; line = nl + 1) {
				nl = memchr(line, '\n', (size_t)(end - line));
				if (!nl)
					nl = end;
				if (nl > line)
					json_string_len(&w, line, (size_t)(nl - line));
			}
			json_array_end(&w);
		}
	}
	json_object_end(&w);
	respond_json(res, status, &w);
}

/* PUT /v1/config's answer: the generation written and what happens to each guest. */
static void config_result_json(struct json_writer *w, const struct proto_config_result *r)
{
	uint32_t outcome, i;

	json_object_begin(w);
	json_key(w, "status");
	json_int(w, 200);
	json_key(w, "result");
	json_string(w, "applied");
	json_key(w, "generation");
	json_uint(w, r->generation);
	for (outcome = 0; outcome < PROTO_CONFIG_OUTCOME_COUNT; outcome++) {
		json_key(w, proto_config_outcome_name(outcome));
		json_array_begin(w);
		for (i = 0; i < r->count; i++)
			if (r->guests[i].outcome == outcome)
				json_string(w, r->guests[i].name);
		json_array_end(w);
	}
	json_key(w, "reboot_required");
	json_bool(w, (int)r->reboot_required);
	json_object_end(w);
}

void api_reply(int kind, const struct proto_hdr *reply, struct api_result *res)
{
	const void *p = reply + 1;
	struct json_writer w;
	uint32_t i;
	int len;

	memset(res, 0, sizeof(*res));
	res->kind = kind;
	if (reply->status < 0 && kind != API_METRICS) {
		reply_error(kind, reply, res);
		return;
	}
	json_init(&w, body, sizeof(body));
	switch (kind) {
	case API_HOST:
		host_json(&w, p);
		respond_json(res, 200, &w);
		return;
	case API_GUESTS: {
		const struct proto_guest_list *l = p;

		json_object_begin(&w);
		json_key(&w, "guests");
		json_array_begin(&w);
		for (i = 0; i < l->count; i++) {
			json_object_begin(&w);
			guest_json(&w, &l->guests[i]);
			json_object_end(&w);
		}
		json_array_end(&w);
		json_object_end(&w);
		respond_json(res, 200, &w);
		return;
	}
	case API_GUEST: {
		const struct proto_guest_detail *d = p;

		json_object_begin(&w);
		guest_json(&w, &d->info);
		json_key(&w, "config");
		json_string_len(&w, d->config, d->config_len);
		json_object_end(&w);
		respond_json(res, 200, &w);
		return;
	}
	case API_CONFIG_PUT:
		config_result_json(&w, p);
		respond_json(res, 200, &w);
		return;
	case API_ACTION:
	case API_AUTOSTART:
	case API_BALLOON:
	case API_CONSOLE_INPUT:
	case API_POWER:
		/* accepted: PID 1 carries it out (a shutdown takes as long as the guest takes) */
		json_object_begin(&w);
		json_key(&w, "status");
		json_int(&w, kind == API_AUTOSTART ? 200 : 202);
		json_key(&w, "result");
		json_string(&w, kind == API_AUTOSTART ? "saved" : "accepted");
		json_object_end(&w);
		respond_json(res, kind == API_AUTOSTART ? 200 : 202, &w);
		return;
	case API_CONSOLE:
	case API_CONSOLE_FOLLOW:
	case API_CONFIG_GET: {
		const struct proto_data *d = p;

		/* raw bytes: a console is whatever the guest wrote, and a config is a text file to save and edit */
		respond(res, 200, kind == API_CONFIG_GET ? "text/plain; charset=utf-8" : "application/octet-stream",
			d->data, d->len);
		res->stream = kind == API_CONSOLE_FOLLOW;
		return;
	}
	case API_EVENTS:
		respond(res, 200, "application/x-ndjson", "", 0);
		res->stream = 1;
		return;
	case API_METRICS:
		len = metrics_render(body, sizeof(body), reply->status < 0 ? NULL : p);
		if (len < 0)
			api_error(500, "metrics too large", res);
		else
			respond(res, 200, "text/plain; version=0.0.4; charset=utf-8", body, (size_t)len);
		return;
	default:
		api_error(500, "unexpected reply", res);
	}
}

size_t api_event(int kind, const struct proto_hdr *evt, char *out, size_t size)
{
	const struct proto_data *d = (const void *)(evt + 1);
	const struct proto_state_event *e = (const void *)(evt + 1);
	struct json_writer w;
	int len;

	if (kind == API_CONSOLE_FOLLOW && evt->type == PROTO_EVT_CONSOLE) {
		if (d->len > size)
			return 0;
		memcpy(out, d->data, d->len);
		return d->len;
	}
	if (kind == API_EVENTS && evt->type == PROTO_EVT_STATE) {
		json_init(&w, out, size);
		json_object_begin(&w);
		json_key(&w, "guest");
		json_string(&w, e->name);
		json_key(&w, "state");
		json_string(&w, proto_state_name(e->state));
		json_key(&w, "restarts");
		json_uint(&w, e->restarts);
		json_object_end(&w);
		len = json_finish(&w);
		if (len < 0 || (size_t)len + 1 >= size)
			return 0;
		out[len] = '\n';
		return (size_t)len + 1;
	}
	return 0;
}
