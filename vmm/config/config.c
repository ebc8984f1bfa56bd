#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/parser.h"
#include "lib/addr.h"

/* The syntax of shrike.conf, line by line, into struct config. Cross references are validate.c's. */

struct key {
	const char *name;
	enum section section;
	bool repeatable;
	int (*set)(struct parser *p, const char *v);
};

void config_error(struct config_errors *errs, const char *file, unsigned int line, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int n;

	if (errs->count > CONFIG_MAX_ERRORS)
		return;
	msg = errs->msg[errs->count++];
	if (errs->count == CONFIG_MAX_ERRORS + 1) {
		snprintf(msg, CONFIG_ERROR_LEN, "%s: too many errors", file);
		return;
	}
	if (line)
		n = snprintf(msg, CONFIG_ERROR_LEN, "%s:%u: ", file, line);
	else
		n = snprintf(msg, CONFIG_ERROR_LEN, "%s: ", file);
	if (n < 0 || n >= CONFIG_ERROR_LEN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, CONFIG_ERROR_LEN - (size_t)n, fmt, ap);
	va_end(ap);
}

static int error(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int error(struct parser *p, const char *fmt, ...)
{
	char text[CONFIG_ERROR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	config_error(p->errs, p->cfg->file, p->line, "%s", text);
	p->failed = true;
	return -EINVAL;
}

/* [host] */

static int set_hostname(struct parser *p, const char *v)
{
	size_t i, len = strlen(v);

	if (len == 0 || len > CONFIG_HOSTNAME_MAX || v[0] == '-' || v[len - 1] == '-')
		return value_why(p, "'%.60s' is not a host name (1 to %d letters, digits and '-', not at either end)", v,
			   CONFIG_HOSTNAME_MAX);
	for (i = 0; i < len; i++)
		if (!value_is_alnum(v[i]) && v[i] != '-')
			return value_why(p, "'%.60s' is not a host name (1 to %d letters, digits and '-', not at either end)",
				   v, CONFIG_HOSTNAME_MAX);
	strcpy(p->cfg->host.hostname, v);
	return 0;
}

static int set_mgmt_nic(struct parser *p, const char *v)
{
	if (value_ifname(p, v))
		return -EINVAL;
	return value_copy(p, p->cfg->host.mgmt_nic, sizeof(p->cfg->host.mgmt_nic), v);
}

static int set_address(struct parser *p, const char *v)
{
	struct config_host *h = &p->cfg->host;

	if (!strcmp(v, "dhcp")) {
		h->dhcp = true;
		return 0;
	}
	if (value_cidr(p, v, 1, 32, &h->address, &h->prefix))
		return value_why(p, "'%.60s' is neither dhcp nor an address with a prefix length, e.g. 192.168.1.10/24", v);
	h->dhcp = false;
	return 0;
}

static int set_gateway(struct parser *p, const char *v)
{
	struct config_host *h = &p->cfg->host;

	if (value_ipv4(p, v, &h->gateway))
		return -EINVAL;
	h->gateway_set = true;
	h->gateway_line = p->line;
	return 0;
}

static int add_dns(struct parser *p, const char *word)
{
	struct config_host *h = &p->cfg->host;

	if (h->ndns == CONFIG_MAX_DNS)
		return value_why(p, "more than %d servers", CONFIG_MAX_DNS);
	return value_ipv4(p, word, &h->dns[h->ndns++]);
}

static int set_dns(struct parser *p, const char *v)
{
	return value_words(p, v, add_dns);
}

static int set_log_level(struct parser *p, const char *v)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(v, names[i])) {
			p->cfg->host.log_level = (enum config_log_level)i;
			return 0;
		}
	}
	return value_why(p, "'%.60s' is not one of error, warn, info, debug", v);
}

static int set_rescue_shell(struct parser *p, const char *v)
{
	return value_bool(p, v, &p->cfg->host.rescue_shell);
}

/* [bridge NAME] */

static int add_port(struct parser *p, const char *word)
{
	struct config_bridge *b = p->bridge;
	unsigned int i;

	if (value_ifname(p, word))
		return -EINVAL;
	for (i = 0; i < b->nports; i++)
		if (!strcmp(b->ports[i], word))
			return value_why(p, "%s is listed twice", word);
	if (b->nports == CONFIG_MAX_PORTS)
		return value_why(p, "more than %d ports", CONFIG_MAX_PORTS);
	strcpy(b->ports[b->nports++], word);
	return 0;
}

static int set_ports(struct parser *p, const char *v)
{
	p->bridge->ports_line = p->line;
	return value_words(p, v, add_port);
}

/* [mgmt] */

static int set_listen(struct parser *p, const char *v)
{
	struct config_mgmt *m = &p->cfg->mgmt;
	const char *end;

	if (addr_parse_ipv4(v, &m->listen_addr, &end) || *end != ':' ||
	    addr_parse_port(end + 1, &m->listen_port, &end) || *end)
		return value_why(p, "'%.60s' is not ADDRESS:PORT, e.g. 0.0.0.0:8443", v);
	m->listen_line = p->line;
	return 0;
}

static int set_cert(struct parser *p, const char *v)
{
	return value_file_name(p, p->cfg->mgmt.cert, &p->cfg->mgmt.cert_line, v);
}

static int set_key(struct parser *p, const char *v)
{
	return value_file_name(p, p->cfg->mgmt.key, &p->cfg->mgmt.key_line, v);
}

static int set_client_ca(struct parser *p, const char *v)
{
	return value_file_name(p, p->cfg->mgmt.client_ca, &p->cfg->mgmt.client_ca_line, v);
}

/* [guest NAME] */

static int set_kernel(struct parser *p, const char *v)
{
	p->guest->kernel_line = p->line;
	if (value_path(p, v))
		return -EINVAL;
	return value_copy(p, p->guest->kernel, sizeof(p->guest->kernel), v);
}

static int set_initrd(struct parser *p, const char *v)
{
	if (value_path(p, v))
		return -EINVAL;
	return value_copy(p, p->guest->initrd, sizeof(p->guest->initrd), v);
}

static int set_cmdline(struct parser *p, const char *v)
{
	return value_copy(p, p->guest->cmdline, sizeof(p->guest->cmdline), v);
}

static int set_vcpus(struct parser *p, const char *v)
{
	unsigned long long n;

	if (value_uint(p, v, 1, GUEST_MAX_VCPUS, &n))
		return -EINVAL;
	p->guest->vcpus = (unsigned int)n;
	return 0;
}

static int set_memory(struct parser *p, const char *v)
{
	uint64_t m = 0;

	if (value_size(p, v, &m))
		return -EINVAL;
	if (m < GUEST_MIN_MEMORY || m > GUEST_MAX_MEMORY)
		return value_why(p, "'%.60s' is not between %lluM and %lluG", v, GUEST_MIN_MEMORY >> 20,
			   GUEST_MAX_MEMORY >> 30);
	if (m % (1ULL << 20))
		return value_why(p, "'%.60s' is not a whole number of MiB", v);
	p->guest->memory = m;
	return 0;
}

static int set_disk(struct parser *p, const char *v)
{
	struct config_guest *g = p->guest;
	char buf[CONFIG_MAX_LINE + 1], *f[8] = { NULL }, *what;
	struct config_disk d = { .line = p->line };
	unsigned int n, i;

	if (g->ndisks == GUEST_MAX_DISKS)
		return value_why(p, "more than %d disks", GUEST_MAX_DISKS);
	strcpy(buf, v);
	n = value_fields(buf, f, 7);
	what = f[0];
	if (!strncmp(what, "data:", 5)) {
		d.kind = CONFIG_DISK_DATA;
		if (value_path(p, what + 5))
			return -EINVAL;
	} else if (!strncmp(what, "label:", 6)) {
		d.kind = CONFIG_DISK_LABEL;
		if (strlen(what + 6) == 0 || strlen(what + 6) > CONFIG_LABEL_MAX)
			return value_why(p, "label '%.60s' must be 1 to %d characters", what + 6, CONFIG_LABEL_MAX);
		if (value_path(p, what + 6) || strchr(what + 6, '/'))
			return value_why(p, "label '%.60s' may only contain printable characters without blanks or '/'",
				   what + 6);
	} else {
		return value_why(p, "'%.60s' is neither data:PATH nor label:NAME", what);
	}
	strcpy(d.path, strchr(what, ':') + 1);
	if (n > 7)
		return value_why(p, "too many options (only ro)");
	for (i = 1; i < n; i++) {
		if (strcmp(f[i], "ro") || d.ro)
			return value_why(p, "unknown or repeated option '%.60s' (only ro)", f[i]);
		d.ro = true;
	}
	g->disks[g->ndisks++] = d;
	return 0;
}

static int set_nic(struct parser *p, const char *v)
{
	struct config_guest *g = p->guest;
	char buf[CONFIG_MAX_LINE + 1], *f[8] = { NULL }, *what;
	struct config_nic nic = { .line = p->line };
	bool net_given = false;
	uint32_t mask, host;
	unsigned int n, i;

	if (g->nnics == GUEST_MAX_NICS)
		return value_why(p, "more than %d NICs", GUEST_MAX_NICS);
	strcpy(buf, v);
	n = value_fields(buf, f, 7);
	what = f[0];
	if (!strncmp(what, "bridge:", 7)) {
		nic.kind = CONFIG_NIC_BRIDGE;
		if (value_name(p, what + 7, CONFIG_IFNAME_MAX, "bridge"))
			return -EINVAL;
		strcpy(nic.bridge, what + 7);
	} else if (!strcmp(what, "user")) {
		nic.kind = CONFIG_NIC_USER;
		nic.net = 0x0a000200;	/* 10.0.2.0/24, as qemu -netdev user */
		nic.prefix = 24;
	} else {
		return value_why(p, "'%.60s' is neither bridge:NAME nor user", what);
	}
	if (n > 7)
		return value_why(p, "too many options (mac= for any NIC, net= and address= for user)");
	for (i = 1; i < n; i++) {
		if (!strncmp(f[i], "mac=", 4) && !nic.mac_given) {
			if (value_mac(p, f[i] + 4, nic.mac))
				return -EINVAL;
			nic.mac_given = true;
		} else if (!strncmp(f[i], "net=", 4) && nic.kind == CONFIG_NIC_USER && !net_given) {
			if (value_cidr(p, f[i] + 4, GUEST_USER_NET_MIN_PREFIX, GUEST_USER_NET_MAX_PREFIX, &nic.net,
				       &nic.prefix))
				return -EINVAL;
			if (nic.net & ~(UINT32_MAX << (32 - nic.prefix)))
				return value_why(p, "net '%.60s' has host bits set: give the network address", f[i] + 4);
			net_given = true;
		} else if (!strncmp(f[i], "address=", 8) && nic.kind == CONFIG_NIC_USER && !nic.address_given) {
			if (value_ipv4(p, f[i] + 8, &nic.address))
				return value_why(p, "address '%.60s' is not an IPv4 address", f[i] + 8);
			nic.address_given = true;
		} else {
			return value_why(p, "unknown or repeated option '%.60s' (mac= for any NIC, net= and address= for user)",
				   f[i]);
		}
	}
	if (nic.kind == CONFIG_NIC_USER) {
		/* Checked once all options are read: address= may come before net=. */
		mask = UINT32_MAX << (32 - nic.prefix);
		if (!nic.address_given)
			nic.address = nic.net + 15;
		host = nic.address & ~mask;
		if ((nic.address & mask) != nic.net)
			return value_why(p, "address %u.%u.%u.%u is not inside net %u.%u.%u.%u/%u%s", nic.address >> 24,
				   nic.address >> 16 & 255, nic.address >> 8 & 255, nic.address & 255, nic.net >> 24,
				   nic.net >> 16 & 255, nic.net >> 8 & 255, nic.net & 255, nic.prefix,
				   nic.address_given ? "" : " (the default guest address is .15: give address=)");
		if (host == 0 || host == ~mask || host == 2 || host == 3)
			return value_why(p, "address %u.%u.%u.%u is the %s address of net %u.%u.%u.%u/%u", nic.address >> 24,
				   nic.address >> 16 & 255, nic.address >> 8 & 255, nic.address & 255,
				   host == 0 ? "network" : host == ~mask ? "broadcast" : host == 2 ? "gateway (.2)" :
				   "DNS (.3)", nic.net >> 24, nic.net >> 16 & 255, nic.net >> 8 & 255, nic.net & 255,
				   nic.prefix);
	}
	g->nics[g->nnics++] = nic;
	return 0;
}

static int set_forward(struct parser *p, const char *v)
{
	struct config_guest *g = p->guest;
	uint16_t host, guest;
	const char *end;

	if (g->nforwards == GUEST_MAX_FORWARDS)
		return value_why(p, "more than %d forwards", GUEST_MAX_FORWARDS);
	if (strncmp(v, "tcp:", 4) || addr_parse_port(v + 4, &host, &end) || *end != ':' ||
	    addr_parse_port(end + 1, &guest, &end) || *end)
		return value_why(p, "'%.60s' is not tcp:HOSTPORT:GUESTPORT with ports from 1 to 65535", v);
	g->forwards[g->nforwards++] = (struct config_forward){
		.host_port = host, .guest_port = guest, .line = p->line,
	};
	return 0;
}

static int set_console(struct parser *p, const char *v)
{
	if (!strcmp(v, "serial"))
		p->guest->console = CONFIG_CONSOLE_SERIAL;
	else if (!strcmp(v, "virtio"))
		p->guest->console = CONFIG_CONSOLE_VIRTIO;
	else
		return value_why(p, "'%.60s' is neither serial nor virtio", v);
	return 0;
}

static int set_watchdog(struct parser *p, const char *v)
{
	if (!strcmp(v, "reset"))
		p->guest->watchdog = CONFIG_WATCHDOG_RESET;
	else if (!strcmp(v, "poweroff"))
		p->guest->watchdog = CONFIG_WATCHDOG_POWEROFF;
	else if (!strcmp(v, "none"))
		p->guest->watchdog = CONFIG_WATCHDOG_NONE;
	else
		return value_why(p, "'%.60s' is not one of reset, poweroff, none", v);
	return 0;
}

static int set_autostart(struct parser *p, const char *v)
{
	return value_bool(p, v, &p->guest->autostart);
}

static int add_after(struct parser *p, const char *word)
{
	struct config_guest *g = p->guest;
	unsigned int i;

	if (value_name(p, word, CONFIG_NAME_MAX, "guest"))
		return -EINVAL;
	for (i = 0; i < g->nafter; i++)
		if (!strcmp(g->after_names[i], word))
			return value_why(p, "%s is listed twice", word);
	if (g->nafter == CONFIG_MAX_AFTER)
		return value_why(p, "more than %d names", CONFIG_MAX_AFTER);
	strcpy(g->after_names[g->nafter++], word);
	return 0;
}

static int set_after(struct parser *p, const char *v)
{
	p->guest->after_line = p->line;
	return value_words(p, v, add_after);
}

static int set_restart(struct parser *p, const char *v)
{
	if (!strcmp(v, "no"))
		p->guest->restart = CONFIG_RESTART_NO;
	else if (!strcmp(v, "on-failure"))
		p->guest->restart = CONFIG_RESTART_ON_FAILURE;
	else if (!strcmp(v, "always"))
		p->guest->restart = CONFIG_RESTART_ALWAYS;
	else
		return value_why(p, "'%.60s' is not one of no, on-failure, always", v);
	return 0;
}

static int set_restart_limit(struct parser *p, const char *v)
{
	unsigned long long count;
	const char *end;

	if (value_number(v, 1000, &count, &end) || *end != '/' || count == 0)
		return value_why(p, "'%.60s' is not COUNT/DURATION with COUNT from 1 to 1000, e.g. 5/10m", v);
	if (value_duration(p, end + 1, 1, 24 * 3600, &p->guest->restart_limit_seconds))
		return -EINVAL;
	p->guest->restart_limit_count = (unsigned int)count;
	return 0;
}

static int set_shutdown_timeout(struct parser *p, const char *v)
{
	return value_duration(p, v, 1, 3600, &p->guest->shutdown_timeout);
}

static int set_user_data(struct parser *p, const char *v)
{
	return value_file_name(p, p->guest->user_data, &p->guest->user_data_line, v);
}

/* At most 32 keys per section: seen[] is indexed by position within the section's keys. */
static const struct key keys[] = {
	{ "hostname", SEC_HOST, false, set_hostname },
	{ "mgmt-nic", SEC_HOST, false, set_mgmt_nic },
	{ "address", SEC_HOST, false, set_address },
	{ "gateway", SEC_HOST, false, set_gateway },
	{ "dns", SEC_HOST, false, set_dns },
	{ "log-level", SEC_HOST, false, set_log_level },
	{ "rescue-shell", SEC_HOST, false, set_rescue_shell },
	{ "ports", SEC_BRIDGE, false, set_ports },
	{ "listen", SEC_MGMT, false, set_listen },
	{ "cert", SEC_MGMT, false, set_cert },
	{ "key", SEC_MGMT, false, set_key },
	{ "client-ca", SEC_MGMT, false, set_client_ca },
	{ "kernel", SEC_GUEST, false, set_kernel },
	{ "initrd", SEC_GUEST, false, set_initrd },
	{ "cmdline", SEC_GUEST, false, set_cmdline },
	{ "vcpus", SEC_GUEST, false, set_vcpus },
	{ "memory", SEC_GUEST, false, set_memory },
	{ "disk", SEC_GUEST, true, set_disk },
	{ "nic", SEC_GUEST, true, set_nic },
	{ "forward", SEC_GUEST, true, set_forward },
	{ "console", SEC_GUEST, false, set_console },
	{ "watchdog", SEC_GUEST, false, set_watchdog },
	{ "autostart", SEC_GUEST, false, set_autostart },
	{ "after", SEC_GUEST, false, set_after },
	{ "restart", SEC_GUEST, false, set_restart },
	{ "restart-limit", SEC_GUEST, false, set_restart_limit },
	{ "shutdown-timeout", SEC_GUEST, false, set_shutdown_timeout },
	{ "user-data", SEC_GUEST, false, set_user_data },
};

static const char *section_name(enum section s)
{
	switch (s) {
	case SEC_HOST: return "[host]";
	case SEC_MGMT: return "[mgmt]";
	case SEC_BRIDGE: return "[bridge]";
	case SEC_GUEST: return "[guest]";
	default: return "no section";
	}
}

/* Every default of docs/config.md, in one place. */
static void defaults(struct config *cfg)
{
	strcpy(cfg->host.hostname, "shrike");
	strcpy(cfg->host.mgmt_nic, "eth0");
	cfg->host.dhcp = true;
	cfg->host.log_level = CONFIG_LOG_INFO;
	cfg->mgmt.listen_port = 8443;
}

static void guest_defaults(struct config_guest *g)
{
	g->vcpus = 1;
	g->memory = 256ULL << 20;
	g->console = CONFIG_CONSOLE_SERIAL;
	g->watchdog = CONFIG_WATCHDOG_RESET;
	g->restart = CONFIG_RESTART_ON_FAILURE;
	g->restart_limit_count = 5;
	g->restart_limit_seconds = 600;
	g->shutdown_timeout = 30;
}

static void check_guest_done(struct parser *p)
{
	unsigned int line = p->line;

	if (p->section != SEC_GUEST || p->guest->kernel[0] || p->guest->kernel_line)
		return;
	p->line = p->guest->line;
	error(p, "guest %s: no kernel (kernel = PATH on the data partition)", p->guest->name);
	p->line = line;
}

/* "[host]", "[guest web]": a section header, s without the brackets. */
static int section(struct parser *p, char *s)
{
	struct config *cfg = p->cfg;
	char *name = s;
	size_t i;

	check_guest_done(p);
	memset(p->seen, 0, sizeof(p->seen));
	p->section = SEC_SKIP;
	while (*name && !value_is_blank(*name))
		name++;
	if (*name) {
		*name++ = '\0';
		while (value_is_blank(*name))
			name++;
		for (i = strlen(name); i && value_is_blank(name[i - 1]); i--)
			name[i - 1] = '\0';
	}
	if (!strcmp(s, "host") || !strcmp(s, "mgmt")) {
		unsigned int *line = s[0] == 'h' ? &cfg->host.line : &cfg->mgmt.line;

		if (*name)
			return error(p, "[%s] takes no name", s);
		if (*line)
			return error(p, "[%s] appears twice, first at line %u", s, *line);
		*line = p->line;
		p->section = s[0] == 'h' ? SEC_HOST : SEC_MGMT;
	} else if (!strcmp(s, "bridge")) {
		if (value_name(p, name, CONFIG_IFNAME_MAX, "bridge"))
			return error(p, "%s", p->why);
		if (cfg->nbridges == CONFIG_MAX_BRIDGES)
			return error(p, "more than %d bridges", CONFIG_MAX_BRIDGES);
		p->bridge = &cfg->bridges[cfg->nbridges++];
		strcpy(p->bridge->name, name);
		p->bridge->line = p->line;
		p->section = SEC_BRIDGE;
	} else if (!strcmp(s, "guest")) {
		if (value_name(p, name, CONFIG_NAME_MAX, "guest"))
			return error(p, "%s", p->why);
		if (cfg->nguests == CONFIG_MAX_GUESTS)
			return error(p, "more than %d guests", CONFIG_MAX_GUESTS);
		p->guest = &cfg->guests[cfg->nguests++];
		strcpy(p->guest->name, name);
		p->guest->line = p->line;
		guest_defaults(p->guest);
		p->section = SEC_GUEST;
	} else {
		return error(p, "unknown section [%.60s] (expected [host], [mgmt], [bridge NAME] or [guest NAME])",
			     s);
	}
	return 0;
}

static int assignment(struct parser *p, char *s, char *eq)
{
	unsigned int i, pos = 0;
	char *value = eq + 1, *end = eq;

	while (end > s && value_is_blank(end[-1]))
		end--;
	*end = '\0';
	while (value_is_blank(*value))
		value++;
	if (!*s)
		return error(p, "'=' without a key");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].section != p->section && p->section != SEC_SKIP)
			continue;
		if (!strcmp(keys[i].name, s))
			break;
		if (keys[i].section == p->section)
			pos++;
	}
	if (p->section == SEC_SKIP)
		return 0;	/* the header was wrong and said so; its keys would only repeat that */
	if (p->section == SEC_NONE)
		return error(p, "'%.60s' outside any section: start with [host], [mgmt], [bridge NAME] or "
			     "[guest NAME]", s);
	if (i == sizeof(keys) / sizeof(keys[0]))
		return error(p, "unknown key '%.60s' in %s", s, section_name(p->section));
	if (!keys[i].repeatable && p->seen[pos])
		return error(p, "%s is set twice in this section, first at line %u", s, p->seen[pos]);
	p->seen[pos] = p->line;
	if (!*value)
		return error(p, "%s: empty value", s);
	if (keys[i].set(p, value))
		return error(p, "%s: %s", s, p->why);
	return 0;
}

static int parse_line(struct parser *p, char *s, size_t len)
{
	char *eq;
	size_t i;

	if (len && s[len - 1] == '\r')
		s[--len] = '\0';
	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
			return error(p, "control character 0x%02x", (unsigned char)s[i]);
	}
	while (value_is_blank(*s))
		s++, len--;
	while (len && value_is_blank(s[len - 1]))
		s[--len] = '\0';
	if (!len || s[0] == '#')
		return 0;
	if (s[0] == '[') {
		if (s[len - 1] != ']')
			return error(p, "section header without a closing ']'");
		s[len - 1] = '\0';
		return section(p, s + 1);
	}
	eq = strchr(s, '=');
	if (!eq)
		return error(p, "expected 'key = value' or a [section], got '%.60s'", s);
	return assignment(p, s, eq);
}

int config_parse(const char *file_name, const char *text, size_t len, struct config *out,
		 struct config_errors *errs)
{
	struct parser p = { .cfg = out, .errs = errs, .section = SEC_NONE };
	char line[CONFIG_MAX_LINE + 2];
	size_t pos = 0, n;
	const char *nl;

	memset(out, 0, sizeof(*out));
	snprintf(out->file, sizeof(out->file), "%s", file_name);
	defaults(out);
	while (pos < len) {
		p.line++;
		nl = memchr(text + pos, '\n', len - pos);
		n = (nl ? (size_t)(nl - text) : len) - pos;
		if (n > CONFIG_MAX_LINE + (size_t)(n && text[pos + n - 1] == '\r')) {
			error(&p, "line longer than %d bytes", CONFIG_MAX_LINE);
		} else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			if (memchr(line, '\0', n))
				error(&p, "NUL byte in the text");
			else
				parse_line(&p, line, n);
		}
		pos += n + 1;
	}
	check_guest_done(&p);
	return p.failed ? -EINVAL : 0;
}
