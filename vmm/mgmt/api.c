#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/api.h"
#include "mgmt/json.h"
#include "mgmt/jsonread.h"
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
static void *forward(struct api_result *res, uint16_t type, size_t payload)
{
	memset(&msg.hdr, 0, sizeof(msg.hdr) + payload);
	msg.hdr.type = type;
	msg.hdr.len = (uint32_t)(sizeof(msg.hdr) + payload);
	res->status = 0;
	res->msg = &msg.hdr;
	return msg.bytes + sizeof(msg.hdr);
}

static void forward_name(struct api_result *res, uint16_t type, const char *name)
{
	struct proto_guest_ref *ref = forward(res, type, sizeof(*ref));

	strcpy(ref->name, name);	/* the router checked it with proto_name_valid() */
}

static int want_json_body(const struct http_request *req, struct jsonread *doc, struct api_result *res)
{
	if (!req->body_len) {
		api_error(400, "a JSON body is required", res);
		return 0;
	}
	if (jsonread_open(doc, req->body, req->body_len)) {
		api_error(400, "the body is not valid JSON", res);
		return 0;
	}
	return 1;
}

/*
 * Handlers: a routed request becomes a message for PID 1 (forward()) or an answer at once (api_error()). The
 * router has checked the method, the role and every path parameter; params[] holds the parameters' values in the
 * order of the path.
 */
struct api_call {
	const struct http_request *req;
	const char *params[HTTP_MAX_SEGMENTS];
};

static void host_get(const struct api_call *call, struct api_result *res)
{
	(void)call;
	forward(res, PROTO_HOST_INFO, 0);
}

static void host_power(const struct api_call *call, struct api_result *res)
{
	struct proto_host_power *p = forward(res, PROTO_HOST_POWER, sizeof(*p));

	p->action = strcmp(call->req->segments[2], "reboot") ? PROTO_POWER_POWEROFF : PROTO_POWER_REBOOT;
}

static void guests_get(const struct api_call *call, struct api_result *res)
{
	(void)call;
	forward(res, PROTO_GUEST_LIST, 0);
}

static void guest_get(const struct api_call *call, struct api_result *res)
{
	forward_name(res, PROTO_GUEST_GET, call->params[0]);
}

/* POST /v1/guests/NAME/ACTION: the action is the path's last segment, one of proto.c's action names. */
static void guest_action(const struct api_call *call, struct api_result *res)
{
	struct proto_guest_action *a = forward(res, PROTO_GUEST_ACTION, sizeof(*a));

	strcpy(a->name, call->params[0]);
	a->action = (uint32_t)proto_action_parse(call->req->segments[3]);
}

static void guest_autostart(const struct api_call *call, struct api_result *res)
{
	struct proto_guest_autostart *a;
	struct jsonread doc;
	size_t at;
	int b;

	if (!want_json_body(call->req, &doc, res))
		return;
	if (jsonread_member(&doc, 0, "autostart", &at) || jsonread_bool(&doc, at, &b)) {
		api_error(400, "expected {\"autostart\": true|false}", res);
		return;
	}
	a = forward(res, PROTO_GUEST_AUTOSTART, sizeof(*a));
	strcpy(a->name, call->params[0]);
	a->autostart = (uint32_t)b;
}

static void guest_balloon(const struct api_call *call, struct api_result *res)
{
	struct proto_guest_balloon *bl;
	struct jsonread doc;
	long long n;
	size_t at;
	int rc;

	if (!want_json_body(call->req, &doc, res))
		return;
	rc = jsonread_member(&doc, 0, "target_mib", &at);
	if (!rc)
		rc = jsonread_int(&doc, at, 1, 1 << 24, &n);
	if (rc) {
		api_error(400, rc == -ERANGE ? "target_mib must be between 1 and 16777216" :
			  "expected {\"target_mib\": N}", res);
		return;
	}
	bl = forward(res, PROTO_GUEST_BALLOON, sizeof(*bl));
	strcpy(bl->name, call->params[0]);
	bl->target_mib = (uint64_t)n;
}

static void console_get(const struct api_call *call, struct api_result *res)
{
	char follow[8];
	int rc = http_query_get(call->req, "follow", follow, sizeof(follow));

	if (rc >= 0 && strcmp(follow, "0") && strcmp(follow, "false"))
		forward_name(res, PROTO_CONSOLE_FOLLOW, call->params[0]);
	else
		forward_name(res, PROTO_CONSOLE_READ, call->params[0]);
}

static void console_post(const struct api_call *call, struct api_result *res)
{
	const struct http_request *req = call->req;
	struct proto_console_input *in;

	if (req->body_len > PROTO_INPUT_MAX) {
		api_error(413, "console input is limited to 4096 bytes per request", res);
		return;
	}
	in = forward(res, PROTO_CONSOLE_INPUT, sizeof(*in) + req->body_len);
	strcpy(in->name, call->params[0]);
	in->len = (uint32_t)req->body_len;
	memcpy(in->data, req->body, req->body_len);
}

static void config_get(const struct api_call *call, struct api_result *res)
{
	(void)call;
	forward(res, PROTO_CONFIG_GET, 0);
}

static void config_put(const struct api_call *call, struct api_result *res)
{
	const struct http_request *req = call->req;
	struct proto_data *d;

	if (req->body_len > PROTO_DATA_MAX) {
		api_error(413, "config too large", res);
		return;
	}
	d = forward(res, PROTO_CONFIG_PUT, sizeof(*d) + req->body_len);
	d->len = (uint32_t)req->body_len;
	memcpy(d->data, req->body, req->body_len);
}

static void events_get(const struct api_call *call, struct api_result *res)
{
	(void)call;
	forward(res, PROTO_EVENTS, 0);
}

/* /metrics asks PID 1 for the guests' figures; the mgmt process adds its own. */
static void metrics_get(const struct api_call *call, struct api_result *res)
{
	(void)call;
	forward(res, PROTO_GUEST_LIST, 0);
}

/* Why the guest's VMM last ended, null before it ever did. */
static void last_exit_json(struct json_writer *w, const char *last_exit)
{
	json_key(w, "last_exit");
	if (last_exit[0])
		json_string(w, last_exit);
	else
		json_null(w);
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
	uint_field(w, "watchdog_resets", g->watchdog_resets);
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
	last_exit_json(w, g->last_exit);
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

static void reply_error(const struct proto_hdr *reply, struct api_result *res)
{
	const struct proto_data *d = (const void *)(reply + 1);
	uint16_t type = (uint16_t)(reply->type & ~PROTO_REPLY);
	int status = errno_status(reply->status);
	int config = type == PROTO_CONFIG_PUT || type == PROTO_GUEST_AUTOSTART;
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

/*
 * Answers: PID 1's reply to a forwarded request becomes the response. An error reply never gets here (see
 * api_reply()), except for /metrics.
 */
static void host_answer(const struct proto_hdr *reply, struct api_result *res)
{
	struct json_writer w;

	json_init(&w, body, sizeof(body));
	host_json(&w, (const void *)(reply + 1));
	respond_json(res, 200, &w);
}

static void guests_answer(const struct proto_hdr *reply, struct api_result *res)
{
	const struct proto_guest_list *l = (const void *)(reply + 1);
	struct json_writer w;
	uint32_t i;

	json_init(&w, body, sizeof(body));
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
}

static void guest_answer(const struct proto_hdr *reply, struct api_result *res)
{
	const struct proto_guest_detail *d = (const void *)(reply + 1);
	struct json_writer w;

	json_init(&w, body, sizeof(body));
	json_object_begin(&w);
	guest_json(&w, &d->info);
	json_key(&w, "config");
	json_string_len(&w, d->config, d->config_len);
	json_object_end(&w);
	respond_json(res, 200, &w);
}

static void result_json(struct api_result *res, int status, const char *result)
{
	struct json_writer w;

	json_init(&w, body, sizeof(body));
	json_object_begin(&w);
	json_key(&w, "status");
	json_int(&w, status);
	json_key(&w, "result");
	json_string(&w, result);
	json_object_end(&w);
	respond_json(res, status, &w);
}

/* PID 1 carries it out (a shutdown takes as long as the guest takes): watch /v1/events. */
static void accepted_answer(const struct proto_hdr *reply, struct api_result *res)
{
	(void)reply;
	result_json(res, 202, "accepted");
}

static void saved_answer(const struct proto_hdr *reply, struct api_result *res)
{
	(void)reply;
	result_json(res, 200, "saved");
}

static void config_put_answer(const struct proto_hdr *reply, struct api_result *res)
{
	struct json_writer w;

	json_init(&w, body, sizeof(body));
	config_result_json(&w, (const void *)(reply + 1));
	respond_json(res, 200, &w);
}

/* Raw bytes: a console is whatever the guest wrote; a follow goes on as a stream of api_event() pieces. */
static void console_answer(const struct proto_hdr *reply, struct api_result *res)
{
	const struct proto_data *d = (const void *)(reply + 1);

	respond(res, 200, "application/octet-stream", d->data, d->len);
	res->stream = (reply->type & ~PROTO_REPLY) == PROTO_CONSOLE_FOLLOW;
}

/* A config is a text file to save and edit. */
static void config_answer(const struct proto_hdr *reply, struct api_result *res)
{
	const struct proto_data *d = (const void *)(reply + 1);

	respond(res, 200, "text/plain; charset=utf-8", d->data, d->len);
}

static void events_answer(const struct proto_hdr *reply, struct api_result *res)
{
	(void)reply;
	respond(res, 200, "application/x-ndjson", "", 0);
	res->stream = 1;
}

/* Without PID 1's figures (an error reply) the mgmt process's own are still worth scraping. */
static void metrics_answer(const struct proto_hdr *reply, struct api_result *res)
{
	int len = metrics_render(body, sizeof(body), reply->status < 0 ? NULL : (const void *)(reply + 1));

	if (len < 0)
		api_error(500, "metrics too large", res);
	else
		respond(res, 200, "text/plain; version=0.0.4; charset=utf-8", body, (size_t)len);
}

/*
 * The API: adding an endpoint is a row here plus its handler and answer (docs/api.md, "Adding an endpoint").
 * A GET row answers HEAD too. role is the least role that may call it; a path is literal segments and {parameters}
 * (see params[] below). tests/mgmt/run checks this table (shrike mgmt --routes) against docs/openapi.yaml.
 */
struct api_route {
	enum http_method method;
	const char *path;
	int role;				/* enum tls_role */
	void (*handle)(const struct api_call *call, struct api_result *res);
	void (*answer)(const struct proto_hdr *reply, struct api_result *res);
};

static const struct api_route routes[] = {
	{ HTTP_GET,  "/v1/host",                    TLS_ROLE_READER, host_get,        host_answer },
	{ HTTP_POST, "/v1/host/reboot",             TLS_ROLE_ADMIN,  host_power,      accepted_answer },
	{ HTTP_POST, "/v1/host/poweroff",           TLS_ROLE_ADMIN,  host_power,      accepted_answer },
	{ HTTP_GET,  "/v1/guests",                  TLS_ROLE_READER, guests_get,      guests_answer },
	{ HTTP_GET,  "/v1/guests/{name}",           TLS_ROLE_READER, guest_get,       guest_answer },
	{ HTTP_POST, "/v1/guests/{name}/start",     TLS_ROLE_ADMIN,  guest_action,    accepted_answer },
	{ HTTP_POST, "/v1/guests/{name}/shutdown",  TLS_ROLE_ADMIN,  guest_action,    accepted_answer },
	{ HTTP_POST, "/v1/guests/{name}/reboot",    TLS_ROLE_ADMIN,  guest_action,    accepted_answer },
	{ HTTP_POST, "/v1/guests/{name}/destroy",   TLS_ROLE_ADMIN,  guest_action,    accepted_answer },
	{ HTTP_POST, "/v1/guests/{name}/pause",     TLS_ROLE_ADMIN,  guest_action,    accepted_answer },
	{ HTTP_POST, "/v1/guests/{name}/resume",    TLS_ROLE_ADMIN,  guest_action,    accepted_answer },
	{ HTTP_PUT,  "/v1/guests/{name}/autostart", TLS_ROLE_ADMIN,  guest_autostart, saved_answer },
	{ HTTP_PUT,  "/v1/guests/{name}/balloon",   TLS_ROLE_ADMIN,  guest_balloon,   accepted_answer },
	{ HTTP_GET,  "/v1/guests/{name}/console",   TLS_ROLE_READER, console_get,     console_answer },
	{ HTTP_POST, "/v1/guests/{name}/console",   TLS_ROLE_ADMIN,  console_post,    accepted_answer },
	{ HTTP_GET,  "/v1/config",                  TLS_ROLE_READER, config_get,      config_answer },
	{ HTTP_PUT,  "/v1/config",                  TLS_ROLE_ADMIN,  config_put,      config_put_answer },
	{ HTTP_GET,  "/v1/events",                  TLS_ROLE_READER, events_get,      events_answer },
	{ HTTP_GET,  "/metrics",                    TLS_ROLE_READER, metrics_get,     metrics_answer },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The path parameters, each checked as soon as a request's path reaches it: a bad value is a 404 of its own. */
static const struct {
	const char *name;
	int (*valid)(const char *value);
	const char *unknown;
} params[] = {
	{ "{name}", proto_name_valid, "no such guest" },
};

/*
 * Whether req's path is the pattern, with the parameters' values into call->params. A parameter value that is not
 * valid ends the match; the message for the leftmost one any pattern met is left in *unknown (at segment *where).
 */
static int match(const char *pattern, const struct http_request *req, struct api_call *call, const char **unknown,
		 unsigned int *where)
{
	const char *p = pattern, *end;
	unsigned int i, k, n = 0;
	size_t len;

	for (i = 0; *p == '/'; i++, p = end) {
		end = strchrnul(++p, '/');
		len = (size_t)(end - p);
		if (i == req->nsegments)
			return 0;
		if (*p != '{') {
			if (strlen(req->segments[i]) != len || memcmp(req->segments[i], p, len))
				return 0;
			continue;
		}
		for (k = 0; k < sizeof(params) / sizeof(params[0]); k++)
			if (strlen(params[k].name) == len && !memcmp(params[k].name, p, len))
				break;
		if (k == sizeof(params) / sizeof(params[0]))
			return 0;
		if (!params[k].valid(req->segments[i])) {
			if (!*unknown || i < *where) {
				*unknown = params[k].unknown;
				*where = i;
			}
			return 0;
		}
		call->params[n++] = req->segments[i];
	}
	return i == req->nsegments;
}

void api_handle(const struct http_request *req, int role, struct api_result *res)
{
	enum http_method method = req->method == HTTP_HEAD ? HTTP_GET : req->method;
	struct api_call call = { .req = req };
	const char *unknown = NULL;
	unsigned int where = 0;
	int path_found = 0;
	size_t i;

	memset(res, 0, sizeof(*res));
	if (role == TLS_ROLE_NONE) {
		api_error(403, "the client certificate's O= must be admin or reader", res);
		return;
	}
	for (i = 0; i < NROUTES; i++) {
		if (!match(routes[i].path, req, &call, &unknown, &where))
			continue;
		path_found = 1;
		if (routes[i].method == method)
			break;
	}
	if (i == NROUTES) {
		if (path_found)
			api_error(405, "method not allowed here", res);
		else
			api_error(404, unknown ? unknown : "no such endpoint", res);
		return;
	}
	/* roles are ordered: an admin may do what a reader may */
	if (role < routes[i].role) {
		api_error(403, "this certificate may only read (O=reader)", res);
		return;
	}
	res->route = &routes[i];
	routes[i].handle(&call, res);
}

void api_reply(const struct api_route *route, const struct proto_hdr *reply, struct api_result *res)
{
	memset(res, 0, sizeof(*res));
	res->route = route;
	if (reply->status < 0 && route->answer != metrics_answer)
		reply_error(reply, res);
	else
		route->answer(reply, res);
}

size_t api_event(const struct proto_hdr *evt, char *out, size_t size)
{
	const struct proto_data *d = (const void *)(evt + 1);
	const struct proto_state_event *e = (const void *)(evt + 1);
	struct json_writer w;
	int len;

	if (evt->type == PROTO_EVT_CONSOLE) {
		if (d->len > size)
			return 0;
		memcpy(out, d->data, d->len);
		return d->len;
	}
	if (evt->type == PROTO_EVT_STATE) {
		json_init(&w, out, size);
		json_object_begin(&w);
		json_key(&w, "guest");
		json_string(&w, e->name);
		json_key(&w, "state");
		json_string(&w, proto_state_name(e->state));
		json_key(&w, "restarts");
		json_uint(&w, e->restarts);
		last_exit_json(&w, e->last_exit);
		json_object_end(&w);
		len = json_finish(&w);
		if (len < 0 || (size_t)len + 1 >= size)
			return 0;
		out[len] = '\n';
		return (size_t)len + 1;
	}
	return 0;
}

void api_print_routes(void)
{
	size_t i;

	for (i = 0; i < NROUTES; i++)
		printf("%-4s %-28s %s\n", http_method_name(routes[i].method), routes[i].path,
		       routes[i].role == TLS_ROLE_ADMIN ? "admin" : "reader");
}
