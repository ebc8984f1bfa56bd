#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "cmd.h"
#include "config/check.h"
#include "conn.h"
#include "console.h"
#include "http.h"
#include "json.h"
#include "lib/file.h"
#include "lib/size.h"

struct verb {
	const char *name;
	int min, max;		/* positional arguments after the verb */
	int (*run)(const struct opts *o, char **args, int nargs);
	const char *usage;
	const char *flag;	/* the one option the verb takes, if any */
};

static void uptime_str(unsigned long long ms, char *out, size_t size)
{
	unsigned long long s = ms / 1000;

	if (!ms)
		snprintf(out, size, "-");
	else if (s < 60)
		snprintf(out, size, "%llus", s);
	else if (s < 3600)
		snprintf(out, size, "%llum %02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, size, "%lluh %02llum", s / 3600, s / 60 % 60);
	else
		snprintf(out, size, "%llud %02lluh", s / 86400, s / 3600 % 24);
}

/* GET path, expecting 200: with --json (or raw) the body as is; else parsed into *j. 0, or the exit status. */
static int get(const struct opts *o, const char *what, const char *path, struct api_reply *r, struct json *j)
{
	int rc;

	if (api_call(o, NULL, "GET", path, NULL, NULL, 0, r))
		return 1;
	if (r->status != 200) {
		rc = api_fail(o, what, r);
		api_reply_free(r);
		return rc;
	}
	if (o->json || !j) {
		api_write_all(STDOUT_FILENO, r->body, r->len);
		if (o->json && r->len && r->body[r->len - 1] != '\n')
			api_write_all(STDOUT_FILENO, "\n", 1);
		api_reply_free(r);
		return -1;	/* done */
	}
	if (json_parse(j, r->body, r->len)) {
		fprintf(stderr, "shrikectl: %s: the answer is not JSON: %.80s\n", what, r->body);
		api_reply_free(r);
		return 1;
	}
	return 0;
}

static int done(int rc)
{
	return rc < 0 ? 0 : rc;
}

static int is_active(const char *state)
{
	return strcmp(state, "stopped") && strcmp(state, "crashed");
}

static int cmd_list(const struct opts *o, char **args, int nargs)
{
	char name[64], state[32], mem[32], up[32];
	struct api_reply r;
	struct json j;
	int all = 0, i, g, width = 4, rc;

	for (i = 0; i < nargs; i++) {
		if (strcmp(args[i], "--all")) {
			fprintf(stderr, "shrikectl: list: unknown argument %s\nusage: shrikectl list [--all]\n", args[i]);
			return 2;
		}
		all = 1;
	}
	rc = get(o, "list", "/v1/guests", &r, &j);
	if (rc)
		return done(rc);
	for (g = json_first(&j, json_get(&j, 0, "guests")); g >= 0; g = json_next(&j, json_get(&j, 0, "guests"), g)) {
		int n = (int)strlen(json_str(&j, json_get(&j, g, "name"), name, sizeof(name)));

		if (n > width)
			width = n;
	}
	printf(" %-*s  %-9s  %5s  %10s  %-9s  %-8s  %s\n", width, "Name", "State", "vCPUs", "Memory", "Autostart",
	       "Uptime", "Restarts");
	printf("%.*s\n", width + 66, "--------------------------------------------------------------------------------"
	       "--------------------------------------------------------------------------------");
	for (g = json_first(&j, json_get(&j, 0, "guests")); g >= 0; g = json_next(&j, json_get(&j, 0, "guests"), g)) {
		json_str(&j, json_get(&j, g, "state"), state, sizeof(state));
		if (!all && !is_active(state))
			continue;
		snprintf(mem, sizeof(mem), "%llu MiB", json_uint(&j, json_get(&j, g, "memory_mib"), 0));
		uptime_str(json_uint(&j, json_get(&j, g, "uptime_ms"), 0), up, sizeof(up));
		printf(" %-*s  %-9s  %5llu  %10s  %-9s  %-8s  %llu\n", width,
		       json_str(&j, json_get(&j, g, "name"), name, sizeof(name)), state,
		       json_uint(&j, json_get(&j, g, "vcpus"), 0), mem,
		       json_bool(&j, json_get(&j, g, "autostart")) == 1 ? "yes" : "no", up,
		       json_uint(&j, json_get(&j, g, "restarts"), 0));
	}
	api_reply_free(&r);
	return 0;
}

static void row(const char *label, const char *value)
{
	printf("%-17s %s\n", label, value);
}

static void row_u(const char *label, unsigned long long v, const char *unit)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%llu%s%s", v, *unit ? " " : "", unit);
	row(label, buf);
}

static int cmd_dominfo(const struct opts *o, char **args, int nargs)
{
	char path[128], buf[256], what[64];
	struct api_reply r;
	struct json j;
	unsigned long long balloon, cpu_ms;
	int rc, s;

	(void)nargs;
	snprintf(what, sizeof(what), "dominfo %.40s", args[0]);
	if (api_guest_path(path, sizeof(path), args[0], ""))
		return 2;
	rc = get(o, what, path, &r, &j);
	if (rc)
		return done(rc);
	row("Name:", json_str(&j, json_get(&j, 0, "name"), buf, sizeof(buf)));
	row("State:", json_str(&j, json_get(&j, 0, "state"), buf, sizeof(buf)));
	row_u("vCPUs:", json_uint(&j, json_get(&j, 0, "vcpus"), 0), "");
	row_u("Memory:", json_uint(&j, json_get(&j, 0, "memory_mib"), 0), "MiB");
	balloon = json_uint(&j, json_get(&j, 0, "balloon_mib"), 0);
	if (balloon)
		row_u("Balloon target:", balloon, "MiB");
	else
		row("Balloon target:", "-");
	row("Autostart:", json_bool(&j, json_get(&j, 0, "autostart")) == 1 ? "enable" : "disable");
	uptime_str(json_uint(&j, json_get(&j, 0, "uptime_ms"), 0), buf, sizeof(buf));
	row("Uptime:", buf);
	row_u("Restarts:", json_uint(&j, json_get(&j, 0, "restarts"), 0), "");
	s = json_get(&j, 0, "stats");
	cpu_ms = json_uint(&j, json_get(&j, s, "cpu_ms"), 0);
	snprintf(buf, sizeof(buf), "%llu.%01llus", cpu_ms / 1000, cpu_ms % 1000 / 100);
	row("CPU time:", buf);
	row_u("Used memory:", json_uint(&j, json_get(&j, s, "ram_resident_kib"), 0), "KiB");
	row_u("VMM memory:", json_uint(&j, json_get(&j, s, "vmm_memory_kib"), 0), "KiB");
	if (balloon)
		row_u("Balloon actual:", json_uint(&j, json_get(&j, s, "balloon_actual_mib"), 0), "MiB");
	row_u("vCPU exits:", json_uint(&j, json_get(&j, s, "vcpu_exits"), 0), "");
	row_u("Disk read:", json_uint(&j, json_get(&j, s, "disk_read_bytes"), 0), "bytes");
	row_u("Disk written:", json_uint(&j, json_get(&j, s, "disk_write_bytes"), 0), "bytes");
	row_u("Net received:", json_uint(&j, json_get(&j, s, "net_rx_bytes"), 0), "bytes");
	row_u("Net sent:", json_uint(&j, json_get(&j, s, "net_tx_bytes"), 0), "bytes");
	row_u("Console dropped:", json_uint(&j, json_get(&j, s, "console_dropped_bytes"), 0), "bytes");
	api_reply_free(&r);
	return 0;
}

static int cmd_dumpconfig(const struct opts *o, char **args, int nargs)
{
	char path[128], what[64], *config;
	struct api_reply r;
	struct json j;
	int rc;

	(void)nargs;
	snprintf(what, sizeof(what), "dumpconfig %.40s", args[0]);
	if (api_guest_path(path, sizeof(path), args[0], ""))
		return 2;
	rc = get(o, what, path, &r, &j);
	if (rc)
		return done(rc);
	config = json_strdup(&j, json_get(&j, 0, "config"));
	if (config) {
		fputs(config, stdout);
		if (*config && config[strlen(config) - 1] != '\n')
			putchar('\n');
	}
	free(config);
	api_reply_free(&r);
	return config ? 0 : 1;
}

static int cmd_host(const struct opts *o, char **args, int nargs)
{
	char buf[256], model[128];
	struct api_reply r;
	struct json j;
	int rc, cpu, mem, kvm;

	(void)args;
	(void)nargs;
	rc = get(o, "host", "/v1/host", &r, &j);
	if (rc)
		return done(rc);
	cpu = json_get(&j, 0, "cpu");
	mem = json_get(&j, 0, "memory");
	kvm = json_get(&j, 0, "kvm");
	row("Version:", json_str(&j, json_get(&j, 0, "version"), buf, sizeof(buf)));
	row("Board:", json_str(&j, json_get(&j, 0, "board"), buf, sizeof(buf)));
	row("Kernel:", json_str(&j, json_get(&j, 0, "kernel"), buf, sizeof(buf)));
	uptime_str(json_uint(&j, json_get(&j, 0, "uptime_ms"), 0), buf, sizeof(buf));
	row("Uptime:", buf);
	snprintf(buf, sizeof(buf), "%s, %llu CPUs", json_str(&j, json_get(&j, cpu, "model"), model, sizeof(model)),
		 json_uint(&j, json_get(&j, cpu, "count"), 0));
	row("CPU:", buf);
	snprintf(buf, sizeof(buf), "%llu MiB, %llu MiB free", json_uint(&j, json_get(&j, mem, "total_kib"), 0) >> 10,
		 json_uint(&j, json_get(&j, mem, "free_kib"), 0) >> 10);
	row("Memory:", buf);
	snprintf(buf, sizeof(buf), "%s (API version %llu)",
		 json_bool(&j, json_get(&j, kvm, "usable")) == 1 ? "usable" : "not usable",
		 json_uint(&j, json_get(&j, kvm, "api_version"), 0));
	row("KVM:", buf);
	row_u("Guests:", json_uint(&j, json_get(&j, 0, "guests"), 0), "");
	api_reply_free(&r);
	return 0;
}

/* A request that changes something: 2xx prints message (or the JSON), anything else is the server's error. */
static int change(const struct opts *o, const char *what, const char *method, const char *path, const char *ctype,
		  const char *body, size_t len, const char *message)
{
	struct api_reply r;
	int rc = 0;

	if (api_call(o, NULL, method, path, ctype, body, len, &r))
		return 1;
	if (r.status < 200 || r.status > 299)
		rc = api_fail(o, what, &r);
	else if (o->json)
		printf("%s%s", r.body, r.len && r.body[r.len - 1] == '\n' ? "" : "\n");
	else
		printf("%s\n", message);
	api_reply_free(&r);
	return rc;
}

static int cmd_action(const struct opts *o, const char *action, const char *name)
{
	char path[128], what[64], message[128], tail[32];

	snprintf(tail, sizeof(tail), "/%s", action);
	if (api_guest_path(path, sizeof(path), name, tail))
		return 2;
	snprintf(what, sizeof(what), "%s %.40s", action, name);
	snprintf(message, sizeof(message), "Guest %s: %s requested", name, action);
	return change(o, what, "POST", path, NULL, NULL, 0, message);
}

#define ACTION(verb) \
	static int cmd_##verb(const struct opts *o, char **args, int nargs) \
	{ \
		(void)nargs; \
		return cmd_action(o, #verb, args[0]); \
	}
ACTION(start)
ACTION(shutdown)
ACTION(reboot)
ACTION(destroy)
ACTION(pause)
ACTION(resume)

static int cmd_autostart(const struct opts *o, char **args, int nargs)
{
	char path[128], what[64], message[128];
	int on;

	(void)nargs;
	if (!strcmp(args[1], "on")) {
		on = 1;
	} else if (!strcmp(args[1], "off")) {
		on = 0;
	} else {
		fprintf(stderr, "shrikectl: autostart: '%s' is neither on nor off\n", args[1]);
		return 2;
	}
	if (api_guest_path(path, sizeof(path), args[0], "/autostart"))
		return 2;
	snprintf(what, sizeof(what), "autostart %.40s", args[0]);
	snprintf(message, sizeof(message), "Guest %s %s", args[0],
		 on ? "marked as autostarted" : "unmarked as autostarted");
	return change(o, what, "PUT", path, "application/json", on ? "{\"autostart\": true}" : "{\"autostart\": false}",
		      on ? 19 : 20, message);
}

static int cmd_setmem(const struct opts *o, char **args, int nargs)
{
	char path[128], what[64], message[128], body[64];
	uint64_t bytes;

	(void)nargs;
	if (size_parse(args[1], 1 << 20, &bytes) || bytes < (1 << 20) || bytes % (1 << 20)) {
		fprintf(stderr, "shrikectl: setmem: '%s' is not a size in whole MiB (96, 96M, 1G)\n", args[1]);
		return 2;
	}
	if (api_guest_path(path, sizeof(path), args[0], "/balloon"))
		return 2;
	snprintf(what, sizeof(what), "setmem %.40s", args[0]);
	snprintf(body, sizeof(body), "{\"target_mib\": %llu}", (unsigned long long)(bytes >> 20));
	snprintf(message, sizeof(message), "Guest %s: balloon target %llu MiB requested", args[0],
		 (unsigned long long)(bytes >> 20));
	return change(o, what, "PUT", path, "application/json", body, strlen(body), message);
}

static int cmd_console(const struct opts *o, char **args, int nargs)
{
	int follow = 1, i;
	const char *name = NULL;

	for (i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "--no-follow"))
			follow = 0;
		else if (args[i][0] == '-' || name)
			goto usage;
		else
			name = args[i];
	}
	if (!name)
		goto usage;
	return console_run(o, name, follow);
usage:
	fprintf(stderr, "usage: shrikectl console NAME [--no-follow]\n");
	return 2;
}

static int cmd_metrics(const struct opts *o, char **args, int nargs)
{
	struct api_reply r;

	(void)args;
	(void)nargs;
	return done(get(o, "metrics", "/metrics", &r, NULL));
}

/* Each event line as it comes: raw with --json, else "web: running (restarts 0)". */
struct events {
	const struct opts *o;
	char line[1024];
	size_t len;
};

static int event_line(struct events *e)
{
	char name[64], state[32];
	struct json j;

	e->line[e->len] = '\0';
	if (e->o->json || json_parse(&j, e->line, e->len)) {
		printf("%s\n", e->line);
	} else {
		printf("%s: %s (restarts %llu)\n", json_str(&j, json_get(&j, 0, "guest"), name, sizeof(name)),
		       json_str(&j, json_get(&j, 0, "state"), state, sizeof(state)),
		       json_uint(&j, json_get(&j, 0, "restarts"), 0));
	}
	fflush(stdout);
	e->len = 0;
	return 0;
}

static int event_bytes(void *arg, const char *data, size_t len)
{
	struct events *e = arg;

	for (; len; data++, len--) {
		if (*data == '\n')
			event_line(e);
		else if (e->len < sizeof(e->line) - 1)
			e->line[e->len++] = *data;	/* an absurdly long line is cut, not fatal */
	}
	return 0;
}

static int cmd_events(const struct opts *o, char **args, int nargs)
{
	struct events e = { .o = o };
	struct http_response resp;
	struct api_reply r = { 0 };
	struct conn c;
	int rc;

	(void)args;
	(void)nargs;
	if (conn_open(&c, o))
		return 1;
	/* keep-alive, not Connection: close: shrike mgmt ends a stream after its first chunk when asked to close */
	if (http_send(&c, "GET", "/v1/events", NULL, NULL, 0, 1) || http_read_head(&c, &resp)) {
		conn_close(&c);
		return 1;
	}
	if (resp.status != 200) {
		rc = 1;
		r.status = resp.status;
		if (!http_read_body(&c, &resp, &r.body, &r.len))
			rc = api_fail(o, "events", &r);
		api_reply_free(&r);
		conn_close(&c);
		return rc;
	}
	conn_read_timeout(&c, 0);	/* events come when they come */
	do
		rc = http_body_step(&c, &resp, event_bytes, &e);
	while (!rc);
	conn_close(&c);
	return rc == 1 ? 0 : 1;
}

static int cmd_config(const struct opts *o, char **args, int nargs)
{
	struct api_reply r;
	uint8_t *text;
	size_t len;
	int rc;

	if (!strcmp(args[0], "get") && nargs == 1)
		return done(get(o, "config get", "/v1/config", &r, NULL));
	if (!strcmp(args[0], "put") && nargs == 2) {
		rc = file_read(!strcmp(args[1], "-") ? "/dev/stdin" : args[1], HTTP_BODY_MAX, &text, &len);
		if (rc) {
			fprintf(stderr, "shrikectl: config put: %s: %s\n", args[1],
				rc == -EFBIG ? "too large" : rc == -EINVAL ? "not a regular file" : strerror(-rc));
			return 1;
		}
		rc = change(o, "config put", "PUT", "/v1/config", "text/plain", (const char *)text, len,
			    "Config applied");
		free(text);
		return rc;
	}
	fprintf(stderr, "usage: shrikectl config get | config put FILE | config check FILE\n");
	return 2;
}

/* Local, like `shrike check`: the same parser and validation (vmm/config), no connection. */
static int cmd_config_check(const struct opts *o, char **args, int nargs)
{
	(void)o;
	(void)nargs;
	return check_file(args[1]);
}

static const struct verb verbs[] = {
	{ "list", 0, 1, cmd_list, "list [--all]", "--all" },
	{ "dominfo", 1, 1, cmd_dominfo, "dominfo NAME", NULL },
	{ "dumpconfig", 1, 1, cmd_dumpconfig, "dumpconfig NAME", NULL },
	{ "start", 1, 1, cmd_start, "start NAME", NULL },
	{ "shutdown", 1, 1, cmd_shutdown, "shutdown NAME", NULL },
	{ "reboot", 1, 1, cmd_reboot, "reboot NAME", NULL },
	{ "destroy", 1, 1, cmd_destroy, "destroy NAME", NULL },
	{ "pause", 1, 1, cmd_pause, "pause NAME", NULL },
	{ "resume", 1, 1, cmd_resume, "resume NAME", NULL },
	{ "autostart", 2, 2, cmd_autostart, "autostart NAME on|off", NULL },
	{ "setmem", 2, 2, cmd_setmem, "setmem NAME SIZE", NULL },
	{ "console", 1, 2, cmd_console, "console NAME [--no-follow]", "--no-follow" },
	{ "host", 0, 0, cmd_host, "host", NULL },
	{ "metrics", 0, 0, cmd_metrics, "metrics", NULL },
	{ "events", 0, 0, cmd_events, "events", NULL },
	{ "config", 1, 2, cmd_config, "config get | config put FILE | config check FILE", NULL },
};

int cmd_run(const struct opts *o)
{
	const struct verb *v = NULL;
	char **args = o->args + 1;
	int nargs = o->nargs - 1, rc;
	size_t i;

	if (!o->nargs) {
		opts_usage();
		return 2;
	}
	if (!strcmp(o->args[0], "config") && nargs == 2 && !strcmp(args[0], "check"))
		return cmd_config_check(o, args, nargs);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, o->args[0]))
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, "shrikectl: unknown verb '%s' (shrikectl --help lists them)\n", o->args[0]);
		return 2;
	}
	if (nargs < v->min || nargs > v->max) {
		fprintf(stderr, "usage: shrikectl %s\n", v->usage);
		return 2;
	}
	/* a stray option would otherwise be taken for a guest name */
	for (i = 0; i < (size_t)nargs; i++)
		if (args[i][0] == '-' && args[i][1] && (!v->flag || strcmp(args[i], v->flag))) {
			fprintf(stderr, "shrikectl: unknown option %s\nusage: shrikectl %s\n", args[i], v->usage);
			return 2;
		}
	rc = opts_require_server(o);
	if (rc)
		return rc;
	return conn_setup(o) ? 1 : v->run(o, args, nargs);
}
