/* unit-sources: vmm/init/supervisor_output.c vmm/init/conout.c vmm/lib/ring.c vmm/lib/log.c */
/*
 * The guests' output on the appliance console: every line carries its guest's prefix whole. A bare \r is not
 * passed on (it would overwrite the prefix on a terminal), and a message of the VMM itself starts on a line of
 * its own instead of being glued onto the guest's half-written line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "init/supervisor_internal.h"

static struct supervisor sv;
static struct conout con;
static int console[2];
static int out[2][2], err[2][2];	/* each guest's VMM: stdout and stderr */
static char shown[8192];

static int setup(void)
{
	unsigned int i;

	memset(&sv, 0, sizeof(sv));
	if (pipe2(console, O_NONBLOCK) < 0)
		return -1;
	conout_init(&con, console[1]);
	sv.con = &con;
	sv.epoll_fd = -1;
	sv.cfg.nguests = 2;
	snprintf(sv.cfg.guests[0].name, sizeof(sv.cfg.guests[0].name), "deb");
	snprintf(sv.cfg.guests[1].name, sizeof(sv.cfg.guests[1].name), "web");
	for (i = 0; i < 2; i++) {
		struct guest *g = &sv.guests[i];

		g->cfg = &sv.cfg.guests[i];
		g->index = i;
		if (ring_init(&g->history, SUPERVISOR_HISTORY) < 0 || pipe2(out[i], O_NONBLOCK) < 0 ||
		    pipe2(err[i], O_NONBLOCK) < 0)
			return -1;
		g->out_fd = out[i][0];
		g->err_fd = err[i][0];
	}
	return 0;
}

static void teardown(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		supervisor_output_close(&sv, &sv.guests[i]);
		close(out[i][1]);
		close(err[i][1]);
		ring_free(&sv.guests[i].history);
	}
	close(console[0]);
	close(console[1]);
}

/* What the console showed since the last call. */
static const char *console_text(void)
{
	ssize_t n = read(console[0], shown, sizeof(shown) - 1);

	shown[n > 0 ? n : 0] = '\0';
	return shown;
}

static const char *history(const struct guest *g)
{
	static char text[1024];
	uint64_t pos = 0;
	size_t n = ring_read(&g->history, &pos, text, sizeof(text) - 1, NULL);

	text[n] = '\0';
	return text;
}

static void vmm_writes(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) < 0)
		perror("write");
}

/* The case of the issue: a triple fault reported while the guest's line was half written. */
static const char *test_message_own_line(void)
{
	struct guest *g = &sv.guests[0];

	CHECK_INT(setup(), 0);
	vmm_writes(out[0][1], "[    0.169390]");
	vmm_writes(err[0][1], "shrike: error: run: vCPU 0: guest triple fault\n");
	supervisor_output_read(&sv, g, false);
	CHECK_STR(console_text(), "deb| [    0.169390]\ndeb| shrike: error: run: vCPU 0: guest triple fault\n");
	/* The console history too keeps the message on a line of its own. */
	CHECK_STR(history(g), "[    0.169390]\nshrike: error: run: vCPU 0: guest triple fault\n");
	/* The guest goes on: a line of its own again, with its prefix. */
	vmm_writes(out[0][1], "ACPI: done\r\n");
	supervisor_output_read(&sv, g, false);
	CHECK_STR(console_text(), "deb| ACPI: done\n");
	teardown();
	return NULL;
}

/* A bare \r is not passed on; the history keeps the guest's bytes as they were. */
static const char *test_bare_cr(void)
{
	struct guest *g = &sv.guests[0];

	CHECK_INT(setup(), 0);
	vmm_writes(out[0][1], "progress 10%\rprogress 20%\r\n");
	supervisor_output_read(&sv, g, false);
	CHECK_STR(console_text(), "deb| progress 10%progress 20%\n");
	CHECK_STR(history(g), "progress 10%\rprogress 20%\r\n");
	teardown();
	return NULL;
}

/* Two guests side by side: a line waits for its end (or for the hold time), so lines are never mixed. */
static const char *test_guests_side_by_side(void)
{
	struct guest *deb = &sv.guests[0], *web = &sv.guests[1];

	CHECK_INT(setup(), 0);
	vmm_writes(out[0][1], "login: ");
	supervisor_output_read(&sv, deb, false);
	CHECK_STR(console_text(), "");
	vmm_writes(out[1][1], "READY\nhalf");
	supervisor_output_read(&sv, web, false);
	CHECK_STR(console_text(), "web| READY\n");
	/* The hold time is over: deb's prompt is shown and ended; web's half line too. */
	supervisor_output_expire(&sv, supervisor_now_ms() + SUPERVISOR_HOLD_MS + 1);
	CHECK_STR(console_text(), "deb| login: \nweb| half\n");
	vmm_writes(out[1][1], " rest\n");
	supervisor_output_read(&sv, web, false);
	CHECK_STR(console_text(), "web|  rest\n");
	teardown();
	return NULL;
}

/* A line longer than the line buffer is shown in pieces that continue one console line. */
static const char *test_long_line(void)
{
	char line[SUPERVISOR_LINE_MAX + 11];
	struct guest *g = &sv.guests[1];
	const char *text;

	CHECK_INT(setup(), 0);
	memset(line, 'w', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	vmm_writes(out[1][1], line);
	vmm_writes(out[1][1], "\n");
	supervisor_output_read(&sv, g, false);
	text = console_text();
	CHECK_INT(strlen(text), 5 + sizeof(line));
	CHECK(!strncmp(text, "web| www", 8) && !strchr(text + 5, '|') && text[strlen(text) - 1] == '\n');
	teardown();
	return NULL;
}

/* The VMM is gone: what it left without a line end is shown, ended. */
static const char *test_last_words(void)
{
	struct guest *g = &sv.guests[0];

	CHECK_INT(setup(), 0);
	vmm_writes(out[0][1], "Power dow");
	vmm_writes(err[0][1], "shrike: run: the guest powered off");
	supervisor_output_read(&sv, g, true);
	supervisor_output_close(&sv, g);
	CHECK_STR(console_text(), "deb| Power dow\ndeb| shrike: run: the guest powered off\n");
	CHECK(g->out_fd < 0 && g->err_fd < 0);
	teardown();
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "supervisor-output-message-own-line", test_message_own_line },
		{ "supervisor-output-bare-cr", test_bare_cr },
		{ "supervisor-output-guests-side-by-side", test_guests_side_by_side },
		{ "supervisor-output-long-line", test_long_line },
		{ "supervisor-output-last-words", test_last_words },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
