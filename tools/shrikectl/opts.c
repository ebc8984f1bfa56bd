#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

#define DEFAULT_TIMEOUT_S 30

/* Settings as one source gives them, before they are merged; empty strings and 0 are "not given". */
struct source {
	char host[300];
	char cert[OPTS_PATH_MAX], key[OPTS_PATH_MAX], ca[OPTS_PATH_MAX];
	char server_name[256];
	int timeout_s;
};

void opts_usage(void)
{
	fputs("usage: shrikectl [OPTIONS] VERB [ARGS]\n"
	      "\n"
	      "Guests:\n"
	      "  list [--all]               guests (running ones; --all: every configured guest)\n"
	      "  dominfo NAME               state, resources and counters of a guest\n"
	      "  dumpconfig NAME            the guest's section of the config\n"
	      "  start|shutdown|reboot|destroy|pause|resume NAME\n"
	      "  autostart NAME on|off      start the guest at boot or not\n"
	      "  setmem NAME SIZE           balloon target (256M, 1G; a bare number is MiB)\n"
	      "  console NAME [--no-follow] the console: the recent output, then follow it; on a terminal what\n"
	      "                             you type goes to the guest, ctrl-] quits\n"
	      "Appliance:\n"
	      "  host                       version, uptime, CPU, memory, KVM\n"
	      "  metrics                    the Prometheus metrics\n"
	      "  events                     follow guest state changes\n"
	      "  config get                 print the active config\n"
	      "  config put FILE            replace the config (validated and applied by the appliance)\n"
	      "  config check FILE          validate a config here, like `shrike check`, without connecting\n"
	      "\n"
	      "Options (also after the verb):\n"
	      "  -H, --host HOST[:PORT]     the appliance (port " OPTS_DEFAULT_PORT " if left out)   env SHRIKE_HOST\n"
	      "      --cert FILE            client certificate, PEM; may hold the key   env SHRIKE_CERT\n"
	      "      --key FILE             client key, PEM, if not in --cert           env SHRIKE_KEY\n"
	      "      --ca FILE              CA the server certificate must chain to     env SHRIKE_CA\n"
	      "      --server-name NAME     verify the server certificate for NAME, not HOST   env SHRIKE_SERVER_NAME\n"
	      "      --timeout SECONDS      for connecting and each read (default 30)\n"
	      "      --config FILE          settings file (default ~/.config/shrike/shrikectl.conf)\n"
	      "      --json                 print the server's JSON as it is\n"
	      "  -h, --help, -V, --version\n"
	      "\n"
	      "Exit status: 0 done, 1 refused by the server or no connection, 2 usage error.\n", stderr);
}

static int copy(char *dst, size_t size, const char *src, const char *what)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "shrikectl: %s is too long\n", what);
		return 2;
	}
	strcpy(dst, src);
	return 0;
}

static int parse_timeout(const char *s, int *out, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 3600) {
		fprintf(stderr, "shrikectl: %s: '%s' is not a number of seconds from 1 to 3600\n", what, s);
		return 2;
	}
	*out = (int)v;
	return 0;
}

/* A path from the config file: "~/..." is under $HOME, a relative one next to the config file. */
static int config_path(char *dst, size_t size, const char *val, const char *file)
{
	const char *home = getenv("HOME"), *slash = strrchr(file, '/');
	int n;

	if (val[0] == '~' && val[1] == '/' && home)
		n = snprintf(dst, size, "%s%s", home, val + 1);
	else if (val[0] != '/' && slash)
		n = snprintf(dst, size, "%.*s/%s", (int)(slash - file), file, val);
	else
		n = snprintf(dst, size, "%s", val);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "shrikectl: %s: path too long: %s\n", file, val);
		return 2;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* key = value lines, '#' starts a comment line. A missing default file is no error; a missing --config is. */
static int load_file(const char *path, int must_exist, struct source *s)
{
	char line[OPTS_PATH_MAX + 64], *key, *val, *eq;
	unsigned int lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "shrikectl: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			fprintf(stderr, "shrikectl: %s:%u: expected key = value\n", path, lineno);
			rc = 2;
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (!strcmp(key, "host"))
			rc = copy(s->host, sizeof(s->host), val, "host");
		else if (!strcmp(key, "cert"))
			rc = config_path(s->cert, sizeof(s->cert), val, path);
		else if (!strcmp(key, "key"))
			rc = config_path(s->key, sizeof(s->key), val, path);
		else if (!strcmp(key, "ca"))
			rc = config_path(s->ca, sizeof(s->ca), val, path);
		else if (!strcmp(key, "server-name"))
			rc = copy(s->server_name, sizeof(s->server_name), val, "server-name");
		else if (!strcmp(key, "timeout"))
			rc = parse_timeout(val, &s->timeout_s, path);
		else {
			fprintf(stderr, "shrikectl: %s:%u: unknown key '%s' (host, cert, key, ca, server-name, timeout)\n",
				path, lineno, key);
			rc = 2;
		}
		if (rc)
			fprintf(stderr, "shrikectl: in %s:%u\n", path, lineno);
	}
	fclose(f);
	return rc;
}

static int load_env(struct source *s)
{
	static const struct {
		const char *name;
		size_t off, size;
	} vars[] = {
		{ "SHRIKE_HOST", offsetof(struct source, host), sizeof(((struct source *)0)->host) },
		{ "SHRIKE_CERT", offsetof(struct source, cert), OPTS_PATH_MAX },
		{ "SHRIKE_KEY", offsetof(struct source, key), OPTS_PATH_MAX },
		{ "SHRIKE_CA", offsetof(struct source, ca), OPTS_PATH_MAX },
		{ "SHRIKE_SERVER_NAME", offsetof(struct source, server_name), sizeof(((struct source *)0)->server_name) },
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = getenv(vars[i].name);
		if (v && *v && copy((char *)s + vars[i].off, vars[i].size, v, vars[i].name))
			return 2;
	}
	return 0;
}

/* The later source wins for every setting it gives. */
static void merge(struct source *to, const struct source *from)
{
	if (from->host[0])
		strcpy(to->host, from->host);
	if (from->cert[0])
		strcpy(to->cert, from->cert);
	if (from->key[0])
		strcpy(to->key, from->key);
	if (from->ca[0])
		strcpy(to->ca, from->ca);
	if (from->server_name[0])
		strcpy(to->server_name, from->server_name);
	if (from->timeout_s)
		to->timeout_s = from->timeout_s;
}

/* HOST, HOST:PORT, [V6]:PORT, [V6], or a bare IPv6 address */
static int split_host(const char *in, struct opts *o)
{
	const char *colon = strrchr(in, ':'), *port = NULL;
	size_t hlen;
	char *end;
	long p;

	if (in[0] == '[') {
		const char *close = strchr(in, ']');

		if (!close || (close[1] && close[1] != ':'))
			goto bad;
		hlen = (size_t)(close - in - 1);
		in++;
		port = close[1] ? close + 2 : NULL;
	} else if (colon && strchr(in, ':') == colon) {
		hlen = (size_t)(colon - in);
		port = colon + 1;
	} else {
		hlen = strlen(in);
	}
	if (!hlen || hlen >= sizeof(o->host))
		goto bad;
	memcpy(o->host, in, hlen);
	o->host[hlen] = '\0';
	if (!port) {
		strcpy(o->port, OPTS_DEFAULT_PORT);
		return 0;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || end == port || *end || p < 1 || p > 65535)
		goto bad;
	snprintf(o->port, sizeof(o->port), "%ld", p);
	return 0;
bad:
	fprintf(stderr, "shrikectl: bad host '%s': expected HOST[:PORT] or [IPV6]:PORT\n", in);
	return 2;
}

/* --opt VALUE or --opt=VALUE (or -HVALUE); returns the value and advances *i, or NULL if argv[*i] is not opt */
static const char *opt_value(int argc, char **argv, int *i, const char *longname, const char *shortname, int *err)
{
	const char *a = argv[*i];
	size_t n = strlen(longname);

	if (!strncmp(a, longname, n) && a[n] == '=')
		return a + n + 1;
	if (shortname && !strncmp(a, shortname, 2) && a[2])
		return a + 2;
	if (strcmp(a, longname) && (!shortname || strcmp(a, shortname)))
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "shrikectl: %s needs a value\n", a);
		*err = 2;
		return NULL;
	}
	return argv[++*i];
}

int opts_parse(int argc, char **argv, struct opts *o)
{
	struct source cl = { 0 }, merged = { 0 }, tmp = { 0 };
	char config[OPTS_PATH_MAX] = "";
	const char *v, *xdg, *home;
	int i, err = 0, rest = 0;

	memset(o, 0, sizeof(*o));
	o->args = calloc((size_t)argc + 1, sizeof(*o->args));
	if (!o->args) {
		perror("shrikectl");
		return 2;
	}
	for (i = 1; i < argc && !err; i++) {
		const char *a = argv[i];

		if (rest || a[0] != '-' || !a[1]) {
			o->args[o->nargs++] = argv[i];
		} else if (!strcmp(a, "--")) {
			rest = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			opts_usage();
			exit(0);
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("shrikectl %s\n", SHRIKECTL_VERSION);
			exit(0);
		} else if (!strcmp(a, "--json")) {
			o->json = 1;
		} else if ((v = opt_value(argc, argv, &i, "--host", "-H", &err))) {
			err = copy(cl.host, sizeof(cl.host), v, "--host");
		} else if (!err && (v = opt_value(argc, argv, &i, "--cert", NULL, &err))) {
			err = copy(cl.cert, sizeof(cl.cert), v, "--cert");
		} else if (!err && (v = opt_value(argc, argv, &i, "--key", NULL, &err))) {
			err = copy(cl.key, sizeof(cl.key), v, "--key");
		} else if (!err && (v = opt_value(argc, argv, &i, "--ca", NULL, &err))) {
			err = copy(cl.ca, sizeof(cl.ca), v, "--ca");
		} else if (!err && (v = opt_value(argc, argv, &i, "--server-name", NULL, &err))) {
			err = copy(cl.server_name, sizeof(cl.server_name), v, "--server-name");
		} else if (!err && (v = opt_value(argc, argv, &i, "--timeout", NULL, &err))) {
			err = parse_timeout(v, &cl.timeout_s, "--timeout");
		} else if (!err && (v = opt_value(argc, argv, &i, "--config", NULL, &err))) {
			err = copy(config, sizeof(config), v, "--config");
		} else if (!err) {
			o->args[o->nargs++] = argv[i];	/* the verb's own option, or unknown: the verb says */
		}
	}
	if (err)
		return err;

	if (config[0]) {
		err = load_file(config, 1, &merged);
	} else {
		xdg = getenv("XDG_CONFIG_HOME");
		home = getenv("HOME");
		if (xdg && *xdg)
			snprintf(config, sizeof(config), "%s/shrike/shrikectl.conf", xdg);
		else if (home && *home)
			snprintf(config, sizeof(config), "%s/.config/shrike/shrikectl.conf", home);
		if (config[0])
			err = load_file(config, 0, &merged);
	}
	if (err || (err = load_env(&tmp)))
		return err;
	merge(&merged, &tmp);
	merge(&merged, &cl);

	if (merged.host[0] && (err = split_host(merged.host, o)))
		return err;
	strcpy(o->cert, merged.cert);
	strcpy(o->key, merged.key);
	strcpy(o->ca, merged.ca);
	strcpy(o->server_name, merged.server_name);
	o->timeout_s = merged.timeout_s ? merged.timeout_s : DEFAULT_TIMEOUT_S;
	return 0;
}

int opts_require_server(const struct opts *o)
{
	const char *missing = !o->host[0] ? "no appliance: give -H HOST[:PORT], SHRIKE_HOST or host = in the config file"
			    : !o->cert[0] ? "no client certificate: give --cert FILE, SHRIKE_CERT or cert = in the config file"
			    : !o->ca[0] ? "no CA for the server certificate: give --ca FILE, SHRIKE_CA or ca = in the config file"
			    : NULL;

	if (!missing)
		return 0;
	fprintf(stderr, "shrikectl: %s\n", missing);
	return 2;
}

void opts_where(const struct opts *o, char *out, size_t size)
{
	snprintf(out, size, strchr(o->host, ':') ? "[%s]:%s" : "%s:%s", o->host, o->port);
}
