#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "run/control.h"
#include "hw/acpi_pm.h"
#include "lib/log.h"
#include "lib/size.h"
#include "virtio/balloon.h"

/* Appends to the reply in buf; a reply that would not fit is cut, never overrun. */
static void __attribute__((format(printf, 4, 5))) append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? size : *len + (size_t)n;
}

static void reply_info(const struct control_guest *g, char *reply, size_t size)
{
	struct virtio_balloon_info b = { 0 };
	size_t len = 0;

	append(reply, size, &len, "ok state=%s vcpus=%u memory=%" PRIu64,
	       atomic_load(&g->vm->paused) ? "paused" : "running", g->nr_vcpus, g->vm->ram_size);
	if (!g->balloon)
		return;
	/* The guest answers the stats request later: this reply has the previous figures, the next one these. */
	virtio_balloon_request_stats(g->balloon);
	virtio_balloon_get(g->balloon, &b);
	append(reply, size, &len, " balloon-target=%" PRIu64 " balloon-actual=%" PRIu64,
	       (uint64_t)(b.target_pages * VIRTIO_BALLOON_PAGE), (uint64_t)(b.actual_pages * VIRTIO_BALLOON_PAGE));
	if (b.stats_valid & (1U << VIRTIO_BALLOON_S_MEMTOT))
		append(reply, size, &len, " guest-total=%" PRIu64, b.stats[VIRTIO_BALLOON_S_MEMTOT]);
	if (b.stats_valid & (1U << VIRTIO_BALLOON_S_MEMFREE))
		append(reply, size, &len, " guest-free=%" PRIu64, b.stats[VIRTIO_BALLOON_S_MEMFREE]);
}

/* `balloon SIZE`: the memory the guest should be left with, as `virsh setmem` takes it. */
static void reply_balloon(const struct control_guest *g, const char *arg, char *reply, size_t size)
{
	uint64_t keep;
	int ret;

	if (!g->balloon) {
		snprintf(reply, size, "error: this guest has no balloon (CONFIG_VIRTIO_BALLOON)");
		return;
	}
	if (!arg || size_parse(arg, 1ULL << 20, &keep) < 0 || keep > g->vm->ram_size || keep == 0) {
		snprintf(reply, size, "error: balloon SIZE: the guest's memory from 1M to %" PRIu64 "M, e.g. 128M",
			 g->vm->ram_size >> 20);
		return;
	}
	ret = virtio_balloon_set_target(g->balloon, g->vm->ram_size - keep);
	if (ret < 0)
		snprintf(reply, size, "error: balloon: %s", strerror(-ret));
	else
		snprintf(reply, size, "ok balloon target %" PRIu64 " bytes, guest memory %" PRIu64 " bytes",
			 g->vm->ram_size - keep, keep);
}

void control_command(const struct control_guest *g, const char *cmd, char *reply, size_t size)
{
	char verb[16] = "";
	const char *arg;
	size_t len;

	len = strcspn(cmd, " ");
	arg = cmd[len] ? cmd + len + strspn(cmd + len, " ") : NULL;
	if (arg && !*arg)
		arg = NULL;
	if (len < sizeof(verb))
		memcpy(verb, cmd, len);
	if (!strcmp(verb, "info") && !arg) {
		reply_info(g, reply, size);
	} else if (!strcmp(verb, "shutdown") && !arg) {
		acpi_pm_power_button(g->vm);
		snprintf(reply, size, "ok power button pressed");
	} else if (!strcmp(verb, "balloon")) {
		reply_balloon(g, arg, reply, size);
	} else if (!strcmp(verb, "pause") && !arg) {
		vcpus_pause(g->vcpus, g->nr_vcpus);
		snprintf(reply, size, "ok paused");
	} else if (!strcmp(verb, "resume") && !arg) {
		vcpus_resume(g->vcpus);
		snprintf(reply, size, "ok running");
	} else if (!strcmp(verb, "stop") && !arg) {
		vm_request_exit(g->vm, VM_EXIT_SIGNAL);
		snprintf(reply, size, "ok stopping");
	} else {
		snprintf(reply, size, "error: unknown command '%.40s'; commands: info, shutdown, balloon SIZE, pause, "
			 "resume, stop", cmd);
	}
}

static void conn_close(struct control *c, struct evloop_watch *w)
{
	evloop_del(c->loop, w);
	close(w->fd);
	w->fd = -1;
}

static void conn_ready(struct evloop_watch *w, uint32_t events)
{
	struct control *c = w->opaque;
	char msg[CONTROL_MSG_MAX + 1], reply[CONTROL_MSG_MAX];
	ssize_t n;

	n = recv(w->fd, msg, CONTROL_MSG_MAX, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (events & (EPOLLHUP | EPOLLERR))) {
		conn_close(c, w);
		return;
	}
	msg[n] = '\0';
	msg[strcspn(msg, "\r\n")] = '\0';
	control_command(c->guest, msg, reply, sizeof(reply));
	if (send(w->fd, reply, strlen(reply), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		conn_close(c, w);
}

static void listen_ready(struct evloop_watch *w, uint32_t events)
{
	struct control *c = w->opaque;
	unsigned int i;
	int fd;

	(void)events;
	fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i].fd < 0)
			break;
	if (i == CONTROL_MAX_CONNS) {
		close(fd);	/* a bounded number of clients: a flood costs nothing but refusals */
		return;
	}
	c->conns[i] = (struct evloop_watch){ .fd = fd, .fn = conn_ready, .opaque = c };
	if (evloop_add(c->loop, &c->conns[i], EPOLLIN) < 0) {
		close(fd);
		c->conns[i].fd = -1;
	}
}

int control_open(struct control *c, struct evloop *loop, const char *path, const struct control_guest *guest)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned int i;
	int fd, ret;

	memset(c, 0, sizeof(*c));
	c->listen.fd = -1;
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		c->conns[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("--control %s: the path is longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, CONTROL_MAX_CONNS) < 0)
		goto fail;
	c->loop = loop;
	c->guest = guest;
	memcpy(c->path, path, strlen(path) + 1);
	c->listen = (struct evloop_watch){ .fd = fd, .fn = listen_ready, .opaque = c };
	ret = evloop_add(loop, &c->listen, EPOLLIN);
	if (ret < 0) {
		close(fd);
		unlink(path);
		c->listen.fd = -1;
		return ret;
	}
	return 0;
fail:
	ret = -errno;
	log_error("--control %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

void control_close(struct control *c)
{
	unsigned int i;

	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i].fd >= 0)
			close(c->conns[i].fd);
	if (c->listen.fd >= 0) {
		close(c->listen.fd);
		unlink(c->path);
	}
	c->listen.fd = -1;
}

int control_client_main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[CONTROL_MSG_MAX], reply[CONTROL_MSG_MAX + 1];
	ssize_t n;
	int fd, i, len = 0;

	if (argc < 3) {
		log_error("ctl: usage: shrike ctl SOCKET COMMAND [ARG]  (info, shutdown, balloon SIZE, pause, "
			  "resume, stop)");
		return 2;
	}
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		log_error("ctl: %s: path too long", argv[1]);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		n = snprintf(msg + len, sizeof(msg) - (size_t)len, "%s%s", i > 2 ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(msg) - (size_t)len) {
			log_error("ctl: the command is longer than %d bytes", CONTROL_MSG_MAX - 1);
			return 2;
		}
		len += (int)n;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_error("ctl: %s: %s", argv[1], strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	n = send(fd, msg, (size_t)len, MSG_NOSIGNAL);
	if (n >= 0)
		n = recv(fd, reply, CONTROL_MSG_MAX, 0);
	if (n <= 0) {
		log_error("ctl: %s: %s", argv[1], n == 0 ? "connection closed" : strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	reply[n] = '\0';
	printf("%s\n", reply);
	return strncmp(reply, "ok", 2) ? 1 : 0;
}
