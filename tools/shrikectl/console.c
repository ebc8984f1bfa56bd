#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "api.h"
#include "conn.h"
#include "console.h"
#include "http.h"

#define ESCAPE 0x1d		/* ctrl-], as telnet and virsh console */
#define INPUT_MAX 4096		/* the API's limit for one console input request */

static struct termios saved;
static int raw_on;

static void restore_terminal(void)
{
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		raw_on = 0;
	}
}

static void on_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Keystrokes go to the guest as typed (no line editing, no ctrl-C for us); output processing stays, so our own
 * messages keep their line breaks (a guest's CR LF then shows as CR CR LF, which looks the same). */
static int raw_terminal(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved))
		return -1;
	t = saved;
	cfmakeraw(&t);
	t.c_oflag = saved.c_oflag;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return -1;
	raw_on = 1;
	atexit(restore_terminal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	return 0;
}

static int to_stdout(void *arg, const char *data, size_t len)
{
	(void)arg;
	if (api_write_all(STDOUT_FILENO, data, len)) {
		if (errno != EPIPE)
			perror("shrikectl: console: stdout");
		return -EIO;
	}
	return 0;
}

struct input {
	const struct opts *o;
	struct conn conn;	/* kept alive between keystrokes */
	char path[128];
	int refused;
};

/* One chunk of typed bytes to the guest. A refusal (a reader certificate) is said once; then typing is ignored. */
static void send_input(struct input *in, const char *data, size_t len)
{
	struct api_reply r;

	if (!len || in->refused)
		return;
	if (api_call(in->o, &in->conn, "POST", in->path, "application/octet-stream", data, len, &r))
		return;
	if (r.status != 202) {
		api_fail(in->o, "console input", &r);
		fprintf(stderr, "shrikectl: typing is ignored from now on; ctrl-] quits\n");
		in->refused = 1;
	}
	api_reply_free(&r);
}

/* Output and keyboard until ctrl-] or the end of the stream. */
static int interactive(const struct opts *o, const char *name, struct conn *out, struct http_response *resp)
{
	struct input in = { .o = o };
	struct pollfd p[2];
	char buf[INPUT_MAX], *esc;
	ssize_t n;
	int rc = 0;

	in.conn.fd = -1;
	api_guest_path(in.path, sizeof(in.path), name, "/console");
	if (raw_terminal()) {
		perror("shrikectl: console: terminal");
		return 1;
	}
	fprintf(stderr, "Connected to guest %s (escape character is ^])\n", name);
	conn_set_nonblock(out, 1);
	for (;;) {
		/* mbedTLS may hold decrypted bytes that poll() cannot see */
		do
			rc = http_body_step(out, resp, to_stdout, NULL);
		while (!rc && conn_pending(out));
		if (rc == 1) {
			fprintf(stderr, "\nshrikectl: the server ended the console stream\n");
			rc = 0;
			break;
		}
		if (rc && rc != -EAGAIN) {
			rc = 1;
			break;
		}
		p[0].fd = STDIN_FILENO;
		p[0].events = POLLIN;
		p[1].fd = out->fd;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			perror("shrikectl: poll");
			rc = 1;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				rc = 0;
				break;
			}
			esc = memchr(buf, ESCAPE, (size_t)n);
			send_input(&in, buf, esc ? (size_t)(esc - buf) : (size_t)n);
			if (esc) {
				rc = 0;
				break;
			}
		}
	}
	conn_close(&in.conn);
	restore_terminal();
	fputc('\n', stderr);
	return rc;
}

int console_run(const struct opts *o, const char *name, int follow)
{
	struct http_response resp;
	struct api_reply r = { 0 };
	char path[160];
	struct conn c;
	int rc;

	if (api_guest_path(path, sizeof(path), name, follow ? "/console?follow=1" : "/console"))
		return 2;
	if (conn_open(&c, o))
		return 1;
	/* a stream asks for keep-alive: shrike mgmt ends a stream after its first chunk when asked to close */
	if (http_send(&c, "GET", path, NULL, NULL, 0, follow) || http_read_head(&c, &resp)) {
		conn_close(&c);
		return 1;
	}
	if (resp.status != 200) {
		char what[64];

		snprintf(what, sizeof(what), "console %.40s", name);
		rc = 1;
		r.status = resp.status;
		if (!http_read_body(&c, &resp, &r.body, &r.len))
			rc = api_fail(o, what, &r);
		api_reply_free(&r);
		conn_close(&c);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (follow) {
		conn_read_timeout(&c, 0);	/* a quiet guest is no error */
		if (isatty(STDIN_FILENO)) {
			rc = interactive(o, name, &c, &resp);
			conn_close(&c);
			return rc;
		}
	}
	do
		rc = http_body_step(&c, &resp, to_stdout, NULL);
	while (!rc);
	conn_close(&c);
	return rc == 1 ? 0 : 1;
}
