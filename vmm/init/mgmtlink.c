#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init/bootconf.h"
#include "init/guestinfo.h"
#include "init/mgmtlink.h"
#include "lib/log.h"
#include "mgmt/proto.h"

/* mgmt is restarted when it dies, unless it died this soon after its start: then it would only crash-loop. */
#define MGMT_MIN_RUN_MS	10000
/* The fd number mgmt gets its end of the socketpair as. */
#define MGMT_FD		3
/* How long a guest's control socket may take to answer pause or resume. */
#define CTL_TIMEOUT_S	2

static union {
	struct proto_hdr hdr;
	unsigned char bytes[PROTO_MSG_MAX + 1];
} in, out;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void exec_mgmt(const struct config_mgmt *c, int fd)
{
	char listen[32], cert[256], key[256], ca[256], fdarg[8];
	unsigned int a = c->listen_addr;
	sigset_t none;
	char *const argv[] = { "shrike", "mgmt", "--listen", listen, "--cert", cert, "--key", key, "--client-ca", ca,
			       "--supervisor-fd", fdarg, NULL };

	int null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	/* The console's input is PID 1's command reader; mgmt's output goes to PID 1's pipe for it (init.c). */
	null = open("/dev/null", O_RDONLY);
	if (null >= 0 && null != STDIN_FILENO) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	/* dup2() onto itself would leave close-on-exec set. */
	if (fd == MGMT_FD ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, MGMT_FD) < 0)
		_exit(127);
	snprintf(listen, sizeof(listen), "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
		 c->listen_port);
	snprintf(cert, sizeof(cert), "%s/%s", BOOTCONF_TLS_DIR, c->cert);
	snprintf(key, sizeof(key), "%s/%s", BOOTCONF_TLS_DIR, c->key);
	snprintf(ca, sizeof(ca), "%s/%s", BOOTCONF_TLS_DIR, c->client_ca);
	snprintf(fdarg, sizeof(fdarg), "%d", MGMT_FD);
	execv("/proc/self/exe", argv);
	execv("/bin/shrike", argv);
	log_error("mgmt: exec /bin/shrike: %s", strerror(errno));
	_exit(127);
}

static void watch_state(void *opaque, const struct guest *g);
static void watch_output(void *opaque, const struct guest *g, const char *data, size_t len);
static void watch_reindex(void *opaque, const int map[CONFIG_MAX_GUESTS], unsigned int old_count);

static const struct supervisor_watch watch = {
	.state = watch_state, .output = watch_output, .reindex = watch_reindex,
};

int mgmtlink_start(struct mgmtlink *m)
{
	const struct config_mgmt *c = &m->sv->mgmt;
	int sv[2], ret;
	pid_t pid;

	m->fd = -1;
	if (!m->sv->configured || !c->cert[0])
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		log_error("mgmt: socketpair: %s", strerror(-ret));
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		log_error("mgmt: fork: %s", strerror(-ret));
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (!pid)
		exec_mgmt(c, sv[1]);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	/* A new mgmt knows nothing of its predecessor's subscriptions, nor waits for its replies. */
	memset(m->subs, 0, sizeof(m->subs));
	mgmtqueue_clear(&m->queue);
	m->sv->watch = &watch;
	m->sv->watch_opaque = m;
	m->fd = sv[0];
	m->pid = pid;
	m->started_ms = now_ms();
	log_info("mgmt: started (pid %d), port %u", (int)pid, c->listen_port);
	return 0;
}

int mgmtlink_fd(const struct mgmtlink *m)
{
	return m->fd;
}

/* mgmt is gone or going (mgmtlink_exited() restarts it when it is reaped): so is what waited for it. */
static void link_close(struct mgmtlink *m)
{
	close(m->fd);
	m->fd = -1;
	mgmtqueue_clear(&m->queue);
}

void mgmtlink_exited(struct mgmtlink *m, pid_t pid, int wstatus)
{
	if (!m->pid || pid != m->pid)
		return;
	m->pid = 0;
	if (m->fd >= 0)
		link_close(m);
	if (WIFSIGNALED(wstatus))
		log_error("mgmt: killed by signal %d", WTERMSIG(wstatus));
	else
		log_error("mgmt: exited with status %d", WEXITSTATUS(wstatus));
	if (m->sv->shutting_down)
		return;
	if (now_ms() - m->started_ms < MGMT_MIN_RUN_MS) {
		m->given_up = true;
		log_error("mgmt: it ended within %d s of its start; not restarted, the management port stays closed",
			  MGMT_MIN_RUN_MS / 1000);
		return;
	}
	mgmtlink_start(m);
}

static void *reply_start(const struct proto_hdr *h, int32_t status, size_t payload)
{
	memset(out.bytes, 0, sizeof(out.hdr) + payload);
	out.hdr.type = (uint16_t)(h->type | PROTO_REPLY);
	out.hdr.id = h->id;
	out.hdr.status = status;
	out.hdr.len = (uint32_t)(sizeof(out.hdr) + payload);
	return out.bytes + sizeof(out.hdr);
}

static void send_out(struct mgmtlink *m)
{
	int ret;

	if (m->fd < 0)
		return;
	/* Our own replies pass the same check mgmt applies: a bug here must not reach it as a malformed message. */
	if (proto_check(out.bytes, out.hdr.len, 1)) {
		log_error("mgmt: a malformed reply (type %#x) not sent", out.hdr.type);
		return;
	}
	/* Never dropped for a full socket: it waits for mgmt to read (mgmtqueue.h). */
	ret = mgmtqueue_reply(&m->queue, m->fd, out.bytes, out.hdr.len);
	if (ret == -EBUSY)
		log_error("mgmt: a reply (type %#x) not sent: another one waits", out.hdr.type);
	else if (ret < 0) {
		log_error("mgmt: send: %s", strerror(-ret));
		link_close(m);
	}
}

/*
 * An unsolicited message for subscription id: console output when stream (sent only if the socket takes it at
 * once), else a state or end event (queued if it does not). Returns 0, or -EAGAIN when it was not sent.
 */
static int send_event(struct mgmtlink *m, uint16_t type, uint32_t id, size_t payload, const void *data, bool stream)
{
	int ret;

	if (m->fd < 0)
		return -EAGAIN;
	memset(out.bytes, 0, sizeof(out.hdr));
	out.hdr.type = type;
	out.hdr.id = id;
	out.hdr.len = (uint32_t)(sizeof(out.hdr) + payload);
	memcpy(out.bytes + sizeof(out.hdr), data, payload);
	if (proto_check(out.bytes, out.hdr.len, 1)) {
		log_error("mgmt: a malformed event (type %#x) not sent", type);
		return -EINVAL;
	}
	/* Never block PID 1 on a slow client: console output that does not fit now is counted as dropped. */
	if (stream)
		ret = mgmtqueue_stream(&m->queue, m->fd, out.bytes, out.hdr.len);
	else
		ret = mgmtqueue_event(&m->queue, m->fd, out.bytes, out.hdr.len);
	if (ret == -ENOBUFS)
		log_error("mgmt: an event (type %#x) dropped, %llu so far: mgmt does not read", type,
			  (unsigned long long)m->queue.events_dropped);
	if (ret < 0 && ret != -EAGAIN && ret != -ENOBUFS) {
		log_error("mgmt: send: %s", strerror(-ret));
		link_close(m);
	}
	return ret < 0 ? -EAGAIN : 0;
}

static void watch_state(void *opaque, const struct guest *g)
{
	struct mgmtlink *m = opaque;
	struct proto_state_event e;
	unsigned int i;

	if (m->fd < 0)
		return;
	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", g->cfg->name);
	e.restarts = g->restarts;
	if (g->has_exited)
		snprintf(e.last_exit, sizeof(e.last_exit), "%s", restart_exit_name(g->last_exit));
	switch (g->state) {
	case GUEST_RUNNING:
		e.state = PROTO_STATE_RUNNING;
		break;
	case GUEST_STOPPING:
		e.state = PROTO_STATE_STOPPING;
		break;
	case GUEST_BACKOFF:
	case GUEST_FAILED:
		e.state = PROTO_STATE_CRASHED;
		break;
	default:
		e.state = PROTO_STATE_STOPPED;
	}
	for (i = 0; i < MGMTLINK_MAX_SUBS; i++)
		if (m->subs[i].id && m->subs[i].guest < 0)
			send_event(m, PROTO_EVT_STATE, m->subs[i].id, sizeof(e), &e, false);
}

static void watch_output(void *opaque, const struct guest *g, const char *data, size_t len)
{
	static union {
		struct proto_data d;
		unsigned char bytes[PROTO_MSG_MAX];
	} ev;
	struct mgmtlink *m = opaque;
	unsigned int i;

	if (m->fd < 0 || len > PROTO_DATA_MAX)
		return;
	for (i = 0; i < MGMTLINK_MAX_SUBS; i++) {
		struct mgmtlink_sub *s = &m->subs[i];

		if (!s->id || s->guest != (int)g->index)
			continue;
		memset(&ev.d, 0, sizeof(ev.d));
		ev.d.len = (uint32_t)len;
		ev.d.dropped = s->dropped;
		memcpy(ev.d.data, data, len);
		if (send_event(m, PROTO_EVT_CONSOLE, s->id, sizeof(ev.d) + len, &ev, true) < 0)
			s->dropped += len;
		else
			s->dropped = 0;
	}
}

/* A new configuration moved the guests: console follows go along, or end when their guest is gone. */
static void watch_reindex(void *opaque, const int map[CONFIG_MAX_GUESTS], unsigned int old_count)
{
	struct mgmtlink *m = opaque;
	unsigned int i;

	for (i = 0; i < MGMTLINK_MAX_SUBS; i++) {
		struct mgmtlink_sub *s = &m->subs[i];

		if (!s->id || s->guest < 0)
			continue;
		if ((unsigned int)s->guest < old_count && map[s->guest] >= 0) {
			s->guest = map[s->guest];
			continue;
		}
		if (m->fd >= 0)
			send_event(m, PROTO_EVT_END, s->id, 0, "", false);
		s->id = 0;
	}
}

static struct mgmtlink_sub *sub_add(struct mgmtlink *m, uint32_t id, int guest)
{
	unsigned int i;

	for (i = 0; i < MGMTLINK_MAX_SUBS; i++)
		if (!m->subs[i].id) {
			m->subs[i] = (struct mgmtlink_sub){ .id = id, .guest = guest };
			return &m->subs[i];
		}
	return NULL;
}

static void reply_status(struct mgmtlink *m, const struct proto_hdr *h, int32_t status)
{
	reply_start(h, status, 0);
	send_out(m);
}

static struct guest *find(struct supervisor *sv, const char *name)
{
	unsigned int i;

	for (i = 0; sv->configured && i < sv->cfg.nguests; i++)
		if (!strcmp(sv->guests[i].cfg->name, name))
			return &sv->guests[i];
	return NULL;
}

/* pause and resume go to the VMM's control socket; its reply starts "ok" or "error:". */
static int control(const struct guest *g, const char *cmd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { CTL_TIMEOUT_S, 0 };
	char reply[128];
	ssize_t n;
	int fd, ret = 0;

	if (!g->pid)
		return -EINVAL;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s.ctl", SUPERVISOR_CTL_DIR, g->cfg->name);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	reply[n] = '\0';
	if (strncmp(reply, "ok", 2)) {
		log_error("guest %s: %s: %s", g->cfg->name, cmd, reply);
		ret = -EINVAL;
	}
out:
	close(fd);
	return ret;
}

static int32_t do_action(struct mgmtlink *m, struct guest *g, uint32_t action)
{
	const char *name = g->cfg->name;

	switch (action) {
	case PROTO_ACTION_START:
		return g->pid ? -EALREADY : supervisor_start(m->sv, name);
	case PROTO_ACTION_SHUTDOWN:
		return !g->pid ? -EALREADY : g->state == GUEST_STOPPING ? 0 : supervisor_stop(m->sv, name);
	case PROTO_ACTION_DESTROY:
		return !g->pid ? -EALREADY : supervisor_destroy(m->sv, name);
	case PROTO_ACTION_REBOOT:
		return g->state != GUEST_RUNNING ? -EINVAL : supervisor_reboot(m->sv, name);
	case PROTO_ACTION_PAUSE:
		return control(g, "pause");
	case PROTO_ACTION_RESUME:
		return control(g, "resume");
	default:
		return -EOPNOTSUPP;
	}
}

static void host_info(struct mgmtlink *m, const struct proto_hdr *h)
{
	struct proto_host_info *hi = reply_start(h, 0, sizeof(*hi));
	struct utsname u;
	struct sysinfo si;
	char line[256];
	FILE *f;

	snprintf(hi->version, sizeof(hi->version), "%s", SHRIKE_VERSION);
	snprintf(hi->board, sizeof(hi->board), "%s", SHRIKE_BOARD);
	if (!uname(&u))
		snprintf(hi->kernel, sizeof(hi->kernel), "%.*s", (int)sizeof(hi->kernel) - 1, u.release);
	if (!sysinfo(&si)) {
		hi->uptime_ms = (uint64_t)si.uptime * 1000;
		hi->mem_total_kib = (uint64_t)si.totalram * si.mem_unit / 1024;
		hi->mem_free_kib = (uint64_t)si.freeram * si.mem_unit / 1024;
	}
	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "processor", 9))
			hi->cpus++;
		if (colon && !hi->cpu_model[0] && !strncmp(line, "model name", 10)) {
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(hi->cpu_model, sizeof(hi->cpu_model), "%s", colon + (colon[1] == ' ' ? 2 : 1));
		}
	}
	if (f)
		fclose(f);
	hi->kvm_api = (uint32_t)m->kvm_api;
	hi->kvm_ok = (uint32_t)m->kvm_ok;
	hi->guests = m->sv->configured ? m->sv->cfg.nguests : 0;
	send_out(m);
}

static void guest_list(struct mgmtlink *m, const struct proto_hdr *h)
{
	struct supervisor *sv = m->sv;
	unsigned int n = sv->configured ? sv->norder : 0, i;
	struct proto_guest_list *l = reply_start(h, 0, sizeof(*l) + n * sizeof(l->guests[0]));

	l->count = n;
	for (i = 0; i < n; i++)
		guestinfo_fill(&sv->guests[sv->order[i]], &l->guests[i]);
	send_out(m);
}

/* Where the section after line starts, or UINT_MAX: sections begin at [host], [mgmt], bridges and guests. */
static unsigned int next_section(const struct config *cfg, unsigned int line)
{
	unsigned int next = UINT_MAX, i;

	if (cfg->host.line > line && cfg->host.line < next)
		next = cfg->host.line;
	if (cfg->mgmt.line > line && cfg->mgmt.line < next)
		next = cfg->mgmt.line;
	for (i = 0; i < cfg->nbridges; i++)
		if (cfg->bridges[i].line > line && cfg->bridges[i].line < next)
			next = cfg->bridges[i].line;
	for (i = 0; i < cfg->nguests; i++)
		if (cfg->guests[i].line > line && cfg->guests[i].line < next)
			next = cfg->guests[i].line;
	return next;
}

/* The guest's section of shrike.conf as written, without the blank lines (and line end) after it. Its length. */
static size_t section_text(const struct supervisor *sv, const struct config_guest *c, const char **start)
{
	const char *p = sv->config_text, *end = sv->config_text + sv->config_len, *nl;
	unsigned int line = 1, stop = next_section(&sv->cfg, c->line);
	const char *from = NULL, *to = end;

	for (; p < end; line++) {
		if (line == c->line)
			from = p;
		if (line == stop) {
			to = p;
			break;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	if (!from)
		return 0;
	while (to > from && (to[-1] == '\n' || to[-1] == '\r' || to[-1] == ' ' || to[-1] == '\t'))
		to--;
	*start = from;
	return (size_t)(to - from);
}

static void guest_get(struct mgmtlink *m, const struct proto_hdr *h, const struct guest *g)
{
	const struct config_guest *c = g->cfg;
	struct proto_guest_detail *d;
	const char *text = "";
	char section[1024];
	size_t len;
	int n;

	if (m->sv->config_text) {
		len = section_text(m->sv, c, &text);
		if (len > PROTO_DATA_MAX - sizeof(*d))
			len = 0;
		d = reply_start(h, 0, sizeof(*d) + len);
		guestinfo_fill(g, &d->info);
		d->config_len = (uint32_t)len;
		memcpy(d->config, text, len);
		send_out(m);
		return;
	}
	/* Without the text, the section rebuilt from what was parsed. */
	n = snprintf(section, sizeof(section),
		     "[guest %s]\nkernel = %s\n%s%s%svcpus = %u\nmemory = %lluM\nautostart = %s\n", c->name, c->kernel,
		     c->initrd[0] ? "initrd = " : "", c->initrd, c->initrd[0] ? "\n" : "", c->vcpus,
		     (unsigned long long)(c->memory >> 20), c->autostart ? "yes" : "no");
	if (n < 0 || (size_t)n >= sizeof(section))
		n = 0;
	d = reply_start(h, 0, sizeof(*d) + (size_t)n);
	guestinfo_fill(g, &d->info);
	d->config_len = (uint32_t)n;
	memcpy(d->config, section, (size_t)n);
	send_out(m);
}

static void console_read(struct mgmtlink *m, const struct proto_hdr *h, const struct guest *g)
{
	size_t max = PROTO_DATA_MAX, n = 0;
	struct proto_data *d;
	uint64_t pos = 0, lost = 0;

	if (g->history.buf) {
		pos = g->history.end > max ? g->history.end - max : 0;
		if (pos < ring_start(&g->history))
			pos = ring_start(&g->history);
	}
	d = reply_start(h, 0, sizeof(*d) + (g->history.buf ? (size_t)(g->history.end - pos) : 0));
	if (g->history.buf)
		n = ring_read(&g->history, &pos, d->data, max, &lost);
	d->len = (uint32_t)n;
	d->dropped = pos - n;
	out.hdr.len = (uint32_t)(sizeof(out.hdr) + sizeof(*d) + n);
	send_out(m);
}

/* A refused configuration: -EINVAL with its "FILE:LINE: message" lines; other errors alone. */
static void reply_config_error(struct mgmtlink *m, const struct proto_hdr *h, int ret,
			       const struct config_errors *errs)
{
	struct proto_data *d;
	size_t len = 0, n;
	unsigned int i;

	if (ret != -EINVAL || !errs->count) {
		reply_status(m, h, ret);
		return;
	}
	d = reply_start(h, ret, sizeof(*d) + PROTO_DATA_MAX);
	for (i = 0; i < errs->count && i <= CONFIG_MAX_ERRORS; i++) {
		n = strlen(errs->msg[i]);
		if (len + n + 1 > PROTO_DATA_MAX)
			break;
		memcpy(d->data + len, errs->msg[i], n);
		d->data[len + n] = '\n';
		len += n + 1;
	}
	d->len = (uint32_t)len;
	out.hdr.len = (uint32_t)(sizeof(out.hdr) + sizeof(*d) + len);
	send_out(m);
}

static void config_put(struct mgmtlink *m, const struct proto_hdr *h, const struct proto_data *text)
{
	static struct config_errors errs;	/* 16 KiB */
	struct supervisor_plan plan;
	const struct supervisor *sv = m->sv;
	struct proto_config_result *r;
	uint64_t generation = 0;
	unsigned int i, j;
	int ret;

	memset(&errs, 0, sizeof(errs));
	log_info("mgmt: config put (%u bytes)", text->len);
	ret = supervisor_config_put(m->sv, text->data, text->len, &errs, &plan, &generation);
	if (ret < 0) {
		reply_config_error(m, h, ret, &errs);
		return;
	}
	/*
	 * The plan's guests: the new configuration's (their names are in next_cfg until the switch, in cfg after
	 * it, which may already have happened when no guest had to stop) and the removed ones of the old.
	 */
	r = reply_start(h, 0, sizeof(*r) + (plan.new_count + plan.old_count) * sizeof(r->guests[0]));
	r->generation = generation;
	r->reboot_required = plan.reboot_required;
	for (j = 0; j < plan.new_count; j++) {
		const struct config *c = sv->next_cfg ? sv->next_cfg : &sv->cfg;
		static const uint32_t outcome[] = {
			[STEP_KEEP] = PROTO_CONFIG_UNCHANGED, [STEP_RESTART] = PROTO_CONFIG_RESTARTED,
			[STEP_START] = PROTO_CONFIG_STARTED, [STEP_UPDATE] = PROTO_CONFIG_UPDATED,
		};

		snprintf(r->guests[r->count].name, PROTO_NAME_MAX, "%s", c->guests[j].name);
		r->guests[r->count++].outcome = outcome[plan.step[j]];
	}
	for (i = 0; i < plan.old_count; i++) {
		if (!plan.removed[i])
			continue;
		snprintf(r->guests[r->count].name, PROTO_NAME_MAX, "%s", plan.old_names[i]);
		r->guests[r->count++].outcome = PROTO_CONFIG_STOPPED;
	}
	out.hdr.len = (uint32_t)(sizeof(out.hdr) + sizeof(*r) + r->count * sizeof(r->guests[0]));
	send_out(m);
}

static void handle_one(struct mgmtlink *m, const struct proto_hdr *h)
{
	const void *p = h + 1;
	struct guest *g = NULL;

	switch (h->type) {
	case PROTO_GUEST_GET:
	case PROTO_GUEST_ACTION:
	case PROTO_GUEST_BALLOON:
	case PROTO_CONSOLE_READ:
	case PROTO_CONSOLE_FOLLOW:
	case PROTO_CONSOLE_INPUT:
		/* Each of these payloads starts with the name; proto_check() saw it NUL-terminated. */
		g = find(m->sv, ((const struct proto_guest_ref *)p)->name);
		if (!g) {
			reply_status(m, h, -ENOENT);
			return;
		}
		break;
	}
	switch (h->type) {
	case PROTO_HOST_INFO:
		host_info(m, h);
		return;
	case PROTO_GUEST_LIST:
		guest_list(m, h);
		return;
	case PROTO_GUEST_GET:
		guest_get(m, h, g);
		return;
	case PROTO_GUEST_ACTION: {
		const struct proto_guest_action *a = p;

		log_info("mgmt: %s %s", proto_action_name(a->action), g->cfg->name);
		reply_status(m, h, do_action(m, g, a->action));
		return;
	}
	case PROTO_CONSOLE_READ:
		console_read(m, h, g);
		return;
	case PROTO_CONFIG_GET: {
		struct proto_data *d;
		size_t len = m->sv->config_text ? m->sv->config_len : 0;

		if (!m->sv->config_text || len > PROTO_DATA_MAX) {
			reply_status(m, h, m->sv->config_text ? -EFBIG : -ENOENT);
			return;
		}
		d = reply_start(h, 0, sizeof(*d) + len);
		d->len = (uint32_t)len;
		memcpy(d->data, m->sv->config_text, len);
		send_out(m);
		return;
	}
	case PROTO_CONFIG_PUT:
		config_put(m, h, p);
		return;
	case PROTO_GUEST_AUTOSTART: {
		static struct config_errors errs;
		const struct proto_guest_autostart *a = p;
		int ret;

		memset(&errs, 0, sizeof(errs));
		log_info("mgmt: autostart %s %s", a->name, a->autostart ? "yes" : "no");
		ret = supervisor_set_autostart(m->sv, a->name, a->autostart, &errs);
		reply_config_error(m, h, ret, &errs);
		return;
	}
	case PROTO_HOST_POWER: {
		const struct proto_host_power *pw = p;

		reply_status(m, h, m->power ? 0 : -EOPNOTSUPP);
		if (m->power)
			m->power(m->opaque, pw->action == PROTO_POWER_POWEROFF ? RB_POWER_OFF : RB_AUTOBOOT);
		return;
	}
	case PROTO_CONSOLE_FOLLOW:
		/* id 0 marks a free slot: a request with it cannot be a subscription. */
		if (!h->id || !sub_add(m, h->id, (int)g->index)) {
			reply_status(m, h, -EBUSY);
			return;
		}
		console_read(m, h, g);
		return;
	case PROTO_GUEST_BALLOON: {
		const struct proto_guest_balloon *b = p;
		char cmd[48];

		if (!b->target_mib || b->target_mib > g->cfg->memory >> 20) {
			reply_status(m, h, -EINVAL);
			return;
		}
		snprintf(cmd, sizeof(cmd), "balloon %lluM", (unsigned long long)b->target_mib);
		reply_status(m, h, control(g, cmd));
		return;
	}
	case PROTO_CONSOLE_INPUT: {
		const struct proto_console_input *ci = p;

		reply_status(m, h, supervisor_input(g, ci->data, ci->len));
		return;
	}
	case PROTO_EVENTS:
		reply_status(m, h, h->id && sub_add(m, h->id, -1) ? 0 : -EBUSY);
		return;
	case PROTO_UNSUBSCRIBE: {
		unsigned int i;

		for (i = 0; i < MGMTLINK_MAX_SUBS; i++)
			if (m->subs[i].id == h->id)
				m->subs[i].id = 0;
		return;
	}
	default:
		reply_status(m, h, -EOPNOTSUPP);
		return;
	}
}

short mgmtlink_events(const struct mgmtlink *m)
{
	/* While a reply waits, requests wait too: each would need a reply of its own. */
	if (mgmtqueue_reply_waiting(&m->queue))
		return POLLOUT;
	return POLLIN | (mgmtqueue_pending(&m->queue) ? POLLOUT : 0);
}

void mgmtlink_handle(struct mgmtlink *m)
{
	ssize_t n;
	int ret;

	if (m->fd < 0)
		return;
	ret = mgmtqueue_flush(&m->queue, m->fd);
	if (ret < 0) {
		log_error("mgmt: send: %s", strerror(-ret));
		link_close(m);
		return;
	}
	while (m->fd >= 0 && !mgmtqueue_reply_waiting(&m->queue)) {
		n = recv(m->fd, in.bytes, sizeof(in.bytes), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			link_close(m);
			return;
		}
		if (proto_check(in.bytes, (size_t)n, 0)) {
			log_error("mgmt: a malformed message of %zd bytes ignored", n);
			continue;
		}
		handle_one(m, &in.hdr);
	}
}
