/*
 * A stand-in for PID 1's side of the mgmt protocol (vmm/mgmt/proto.h), for tests/mgmt and tests/bench/mgmt:
 *
 *   fake_supervisor LOG -- SHRIKE mgmt --listen ... (the --supervisor-fd N is appended)
 *
 * It makes the socketpair, starts `shrike mgmt` on one end and answers on the other with two guests, "web"
 * (running, prints a console line every 200 ms) and "ticker" (stopped). Every change it is asked for is
 * appended to LOG, one line each ("action web start", "autostart ticker 1", "config-put ok"), so the test can check
 * what reached PID 1. It exits with mgmt's exit status when mgmt exits, and stops mgmt on SIGTERM.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mgmt/proto.h"

#define NGUESTS 2
#define RING 4096
#define MAX_SUBS 1024

struct guest {
	struct proto_guest_info info;
	char ring[RING];
	size_t ring_len;
	unsigned int ticks;
	struct timespec started;
};

struct sub {
	uint32_t id;
	int guest;			/* -1: events */
};

static struct guest guests[NGUESTS];
static struct sub subs[MAX_SUBS];
static int nsubs, fd;
static FILE *record_file;
static pid_t child;
static char config[PROTO_DATA_MAX] = "# shrike.conf (fake)\nguest web {\n\tmemory 256M\n}\nguest ticker {\n"
				     "\tmemory 128M\n\tautostart no\n}\n";
static union {
	struct proto_hdr hdr;
	unsigned char bytes[PROTO_MSG_MAX + 1];
} in, out;

static void record(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(record_file, fmt, ap);
	va_end(ap);
	fputc('\n', record_file);
	fflush(record_file);
}

static void *reply_start(uint32_t id, uint16_t type, int32_t status, size_t payload)
{
	memset(&out.hdr, 0, sizeof(out.hdr) + payload);
	out.hdr.type = type;
	out.hdr.id = id;
	out.hdr.status = status;
	out.hdr.len = (uint32_t)(sizeof(out.hdr) + payload);
	return out.bytes + sizeof(out.hdr);
}

static void send_out(void)
{
	if (proto_check(out.bytes, out.hdr.len, 1)) {
		fprintf(stderr, "fake_supervisor: would send a malformed message (type %#x)\n", out.hdr.type);
		exit(3);
	}
	if (send(fd, out.bytes, out.hdr.len, MSG_NOSIGNAL) < 0 && errno != EPIPE)
		perror("fake_supervisor: send");
}

static void reply_status(const struct proto_hdr *h, int32_t status)
{
	reply_start(h->id, (uint16_t)(h->type | PROTO_REPLY), status, 0);
	send_out();
}

static void reply_data(const struct proto_hdr *h, int32_t status, const char *data, size_t len, uint64_t dropped)
{
	struct proto_data *d = reply_start(h->id, (uint16_t)(h->type | PROTO_REPLY), status, sizeof(*d) + len);

	d->len = (uint32_t)len;
	d->dropped = dropped;
	memcpy(d->data, data, len);
	send_out();
}

static int find_guest(const char *name)
{
	int i;

	for (i = 0; i < NGUESTS; i++)
		if (!strcmp(guests[i].info.name, name))
			return i;
	return -1;
}

static uint64_t uptime_ms(const struct guest *g)
{
	struct timespec now;

	if (g->info.state != PROTO_STATE_RUNNING && g->info.state != PROTO_STATE_PAUSED)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - g->started.tv_sec) * 1000 +
	       (uint64_t)((now.tv_nsec - g->started.tv_nsec) / 1000000);
}

static void console_write(int gi, const char *text, size_t len)
{
	struct guest *g = &guests[gi];
	int i;

	if (len > RING)
		len = RING;
	if (g->ring_len + len > RING) {
		size_t drop = g->ring_len + len - RING;

		memmove(g->ring, g->ring + drop, g->ring_len - drop);
		g->ring_len -= drop;
	}
	memcpy(g->ring + g->ring_len, text, len);
	g->ring_len += len;
	for (i = 0; i < nsubs; i++) {
		struct proto_data *d;

		if (subs[i].guest != gi)
			continue;
		d = reply_start(subs[i].id, PROTO_EVT_CONSOLE, 0, sizeof(*d) + len);
		d->len = (uint32_t)len;
		memcpy(d->data, text, len);
		send_out();
	}
}

static void set_state(int gi, uint32_t state)
{
	struct guest *g = &guests[gi];
	char line[64];
	int i;

	if (state == PROTO_STATE_RUNNING && g->info.state == PROTO_STATE_STOPPED)
		clock_gettime(CLOCK_MONOTONIC, &g->started);
	g->info.state = state;
	for (i = 0; i < nsubs; i++) {
		struct proto_state_event *e;

		if (subs[i].guest != -1)
			continue;
		e = reply_start(subs[i].id, PROTO_EVT_STATE, 0, sizeof(*e));
		strcpy(e->name, g->info.name);
		e->state = state;
		e->restarts = g->info.restarts;
		send_out();
	}
	snprintf(line, sizeof(line), "[%s is %s]\n", g->info.name, proto_state_name(state));
	console_write(gi, line, strlen(line));
}

static int32_t do_action(int gi, uint32_t action)
{
	struct guest *g = &guests[gi];
	uint32_t s = g->info.state;

	switch (action) {
	case PROTO_ACTION_START:
		if (s != PROTO_STATE_STOPPED && s != PROTO_STATE_CRASHED)
			return -EALREADY;
		set_state(gi, PROTO_STATE_RUNNING);
		return 0;
	case PROTO_ACTION_SHUTDOWN:
	case PROTO_ACTION_DESTROY:
		if (s == PROTO_STATE_STOPPED)
			return -EALREADY;
		set_state(gi, PROTO_STATE_STOPPED);
		return 0;
	case PROTO_ACTION_REBOOT:
		if (s != PROTO_STATE_RUNNING)
			return -EINVAL;
		g->info.restarts++;
		clock_gettime(CLOCK_MONOTONIC, &g->started);
		set_state(gi, PROTO_STATE_RUNNING);
		return 0;
	case PROTO_ACTION_PAUSE:
		if (s != PROTO_STATE_RUNNING)
			return -EINVAL;
		set_state(gi, PROTO_STATE_PAUSED);
		return 0;
	case PROTO_ACTION_RESUME:
		if (s != PROTO_STATE_PAUSED)
			return -EINVAL;
		set_state(gi, PROTO_STATE_RUNNING);
		return 0;
	}
	return -EINVAL;
}

static void fill_info(int gi, struct proto_guest_info *info)
{
	struct guest *g = &guests[gi];
	uint64_t t;

	*info = g->info;
	info->uptime_ms = uptime_ms(g);
	if (!g->ticks && g->info.state != PROTO_STATE_RUNNING)
		return;		/* never ran: no VMM counters, as PID 1 says of a guest never started */
	/* A VMM with one disk and one NIC whose counters move with the ticks (5 a second), and start above 0. */
	t = g->ticks + 1ULL;
	info->has_counters = 1;
	info->cpu_ms = t * 37;
	info->vmm_memory_kib = 612;
	info->ram_resident_kib = g->info.memory_mib * 1024 / 4;
	info->exits[PROTO_EXIT_IO] = t * 1000;
	info->exits[PROTO_EXIT_MMIO] = t * 40;
	info->ndisks = 1;
	info->disks[0] = (struct proto_disk_stats){ .write_bytes = t * 65536, .write_ops = t * 16, .read_bytes = 4096,
						    .read_ops = 1 };
	info->nnics = 1;
	info->nics[0] = (struct proto_nic_stats){ .rx_bytes = t * 1500, .rx_packets = t, .tx_bytes = t * 60,
						  .tx_packets = t };
}

static void handle(const struct proto_hdr *h)
{
	const void *p = h + 1;
	int gi = -1, i;

	if (h->type == PROTO_GUEST_GET || h->type == PROTO_CONSOLE_READ || h->type == PROTO_CONSOLE_FOLLOW ||
	    h->type == PROTO_GUEST_ACTION || h->type == PROTO_GUEST_AUTOSTART || h->type == PROTO_GUEST_BALLOON ||
	    h->type == PROTO_CONSOLE_INPUT) {
		gi = find_guest(((const struct proto_guest_ref *)p)->name);	/* every one starts with the name */
		if (gi < 0) {
			reply_status(h, -ENOENT);
			return;
		}
	}
	switch (h->type) {
	case PROTO_HOST_INFO: {
		struct proto_host_info *hi = reply_start(h->id, PROTO_HOST_INFO | PROTO_REPLY, 0, sizeof(*hi));

		strcpy(hi->version, "fake-1");
		strcpy(hi->board, "fake_board");
		strcpy(hi->cpu_model, "Fake CPU @ 1 GHz");
		strcpy(hi->kernel, "6.12.0-fake");
		hi->uptime_ms = 123456;
		hi->mem_total_kib = 1 << 20;
		hi->mem_free_kib = 1 << 19;
		hi->cpus = 2;
		hi->kvm_api = 12;
		hi->kvm_ok = 1;
		hi->guests = NGUESTS;
		send_out();
		return;
	}
	case PROTO_GUEST_LIST: {
		struct proto_guest_list *l = reply_start(h->id, PROTO_GUEST_LIST | PROTO_REPLY, 0,
							 sizeof(*l) + NGUESTS * sizeof(l->guests[0]));

		l->count = NGUESTS;
		for (i = 0; i < NGUESTS; i++)
			fill_info(i, &l->guests[i]);
		send_out();
		return;
	}
	case PROTO_GUEST_GET: {
		char section[256];
		int n = snprintf(section, sizeof(section), "guest %s {\n\tmemory %lluM\n\tvcpus %u\n}\n",
				 guests[gi].info.name, (unsigned long long)guests[gi].info.memory_mib,
				 guests[gi].info.vcpus);
		struct proto_guest_detail *d = reply_start(h->id, PROTO_GUEST_GET | PROTO_REPLY, 0,
							   sizeof(*d) + (size_t)n);

		fill_info(gi, &d->info);
		d->config_len = (uint32_t)n;
		memcpy(d->config, section, (size_t)n);
		send_out();
		return;
	}
	case PROTO_GUEST_ACTION: {
		const struct proto_guest_action *a = p;
		int32_t rc = do_action(gi, a->action);

		record("action %s %s%s", a->name, proto_action_name(a->action), rc ? " refused" : "");
		reply_status(h, rc);
		return;
	}
	case PROTO_GUEST_AUTOSTART: {
		const struct proto_guest_autostart *a = p;

		guests[gi].info.autostart = a->autostart;
		record("autostart %s %u", a->name, a->autostart);
		reply_status(h, 0);
		return;
	}
	case PROTO_GUEST_BALLOON: {
		const struct proto_guest_balloon *b = p;

		if (b->target_mib > guests[gi].info.memory_mib) {
			reply_status(h, -EINVAL);
			return;
		}
		guests[gi].info.balloon_mib = b->target_mib;
		record("balloon %s %llu", b->name, (unsigned long long)b->target_mib);
		reply_status(h, 0);
		return;
	}
	case PROTO_CONSOLE_READ:
		reply_data(h, 0, guests[gi].ring, guests[gi].ring_len, 0);
		return;
	case PROTO_CONSOLE_FOLLOW:
		if (nsubs == MAX_SUBS) {
			reply_status(h, -EBUSY);
			return;
		}
		reply_data(h, 0, guests[gi].ring, guests[gi].ring_len, 0);
		subs[nsubs].id = h->id;
		subs[nsubs++].guest = gi;
		return;
	case PROTO_CONSOLE_INPUT: {
		const struct proto_console_input *ci = p;

		record("console-input %s %u", ci->name, ci->len);
		console_write(gi, ci->data, ci->len);	/* the guest echoes */
		reply_status(h, 0);
		return;
	}
	case PROTO_UNSUBSCRIBE:
		for (i = 0; i < nsubs; i++)
			if (subs[i].id == h->id) {
				subs[i] = subs[--nsubs];
				break;
			}
		return;
	case PROTO_CONFIG_GET:
		reply_data(h, 0, config, strlen(config), 0);
		return;
	case PROTO_CONFIG_PUT: {
		const struct proto_data *d = p;
		static const char err[] = "shrike.conf:3: unknown key 'bogus'\n";

		if (memmem(d->data, d->len, "bogus", 5)) {
			record("config-put refused");
			reply_data(h, -EINVAL, err, sizeof(err) - 1, 0);
			return;
		}
		struct proto_config_result *r;
		static uint64_t generation = 1;

		memcpy(config, d->data, d->len);
		config[d->len] = '\0';
		record("config-put ok %u", d->len);
		/* As PID 1 answers: the new generation and each guest's outcome (the fake changes no guest). */
		r = reply_start(h->id, (uint16_t)(h->type | PROTO_REPLY), 0, sizeof(*r) + NGUESTS * sizeof(r->guests[0]));
		r->generation = ++generation;
		r->count = NGUESTS;
		for (i = 0; i < NGUESTS; i++) {
			memcpy(r->guests[i].name, guests[i].info.name, sizeof(r->guests[i].name));
			r->guests[i].outcome = PROTO_CONFIG_UNCHANGED;
		}
		send_out();
		return;
	}
	case PROTO_EVENTS:
		if (nsubs == MAX_SUBS) {
			reply_status(h, -EBUSY);
			return;
		}
		reply_status(h, 0);
		subs[nsubs].id = h->id;
		subs[nsubs++].guest = -1;
		return;
	case PROTO_HOST_POWER:
		record("host %s", ((const struct proto_host_power *)p)->action == PROTO_POWER_REBOOT ? "reboot"
											 : "poweroff");
		reply_status(h, 0);
		return;
	}
	reply_status(h, -ENOSYS);
}

static void on_term(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGTERM);
}

int main(int argc, char **argv)
{
	struct pollfd pfd;
	int sv[2], status, i;
	char fdarg[16], **args, line[PROTO_NAME_MAX + 32];
	struct timespec last, now;
	ssize_t n;

	if (argc < 4 || strcmp(argv[2], "--")) {
		fprintf(stderr, "usage: fake_supervisor LOG -- SHRIKE mgmt OPTIONS...\n");
		return 2;
	}
	record_file = fopen(argv[1], "a");
	if (!record_file) {
		perror(argv[1]);
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		perror("socketpair");
		return 1;
	}
	for (i = 0; i < NGUESTS; i++) {
		strcpy(guests[i].info.name, i ? "ticker" : "web");
		guests[i].info.vcpus = i ? 1 : 2;
		guests[i].info.memory_mib = i ? 128 : 256;
		guests[i].info.autostart = !i;
	}
	set_state(0, PROTO_STATE_RUNNING);

	child = fork();
	if (child == 0) {
		int cfd = dup(sv[1]);	/* without CLOEXEC */

		snprintf(fdarg, sizeof(fdarg), "%d", cfd);
		args = calloc((size_t)argc, sizeof(*args));
		for (i = 3; i < argc; i++)
			args[i - 3] = argv[i];
		args[argc - 3] = "--supervisor-fd";
		args[argc - 2] = fdarg;
		execv(args[0], args);
		perror(args[0]);
		_exit(127);
	}
	close(sv[1]);
	fd = sv[0];
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);

	clock_gettime(CLOCK_MONOTONIC, &last);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 50) > 0) {
			n = recv(fd, in.bytes, sizeof(in.bytes), 0);
			if (n == 0)
				break;
			if (n > 0) {
				if (proto_check(in.bytes, (size_t)n, 0)) {
					record("malformed-request type %u len %zd", in.hdr.type, n);
					continue;
				}
				handle(&in.hdr);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >= 200) {
			last = now;
			for (i = 0; i < NGUESTS; i++) {
				if (guests[i].info.state != PROTO_STATE_RUNNING)
					continue;
				guests[i].ticks++;
				snprintf(line, sizeof(line), "%.31s: tick %u\n", guests[i].info.name, guests[i].ticks);
				console_write(i, line, strlen(line));
			}
		}
	}
	if (waitpid(child, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
