/* unit-sources: vmm/init/console_cmd.c */
/*
 * The console command splitter of PID 1 (vmm/init/console_cmd.c). Overflowing line[] would be caught by UBSan's
 * bounds check (it is inside a struct, where ASan cannot see it), and every feed also checks len stays in bounds.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "init/console_cmd.h"

#define MAX_ACTIONS 16

struct feed_result {
	enum console_cmd_action actions[MAX_ACTIONS];	/* every action other than CONSOLE_CMD_NONE, in order */
	size_t n;
	char reply[sizeof(((struct console_cmd *)0)->reply)];	/* reply to the last rejected line */
};

static struct console_cmd cmd;
static struct feed_result res;

/* Feeds data the way init does: call again with the rest until all is consumed. */
static const char *feed(const char *data, size_t len)
{
	enum console_cmd_action action;
	size_t used;

	while (len) {
		used = console_cmd_feed(&cmd, data, len, &action);
		if (used == 0 || used > len)
			return check_fail(__FILE__, __LINE__, "consumed %zu of %zu bytes", used, len);
		if (cmd.len > sizeof(cmd.line))
			return check_fail(__FILE__, __LINE__, "line length %zu beyond the buffer", cmd.len);
		data += used;
		len -= used;
		if (action == CONSOLE_CMD_NONE)
			continue;
		if (res.n == MAX_ACTIONS)
			return check_fail(__FILE__, __LINE__, "more than %d actions", MAX_ACTIONS);
		res.actions[res.n++] = action;
		if (action == CONSOLE_CMD_REJECTED)
			memcpy(res.reply, cmd.reply, sizeof(res.reply));
	}
	return NULL;
}

static void reset(void)
{
	console_cmd_init(&cmd);
	memset(&res, 0, sizeof(res));
}

/* s must be a string literal: sizeof gives its length, NULs inside included. */
#define FEED(s)								\
	do {								\
		const char *f_ = feed(s, sizeof(s) - 1);		\
		if (f_)							\
			return f_;					\
	} while (0)

static const char *test_verbs(void)
{
	reset();
	FEED("poweroff\nreboot\nstatus\n");
	CHECK_INT(res.n, 3);
	CHECK_INT(res.actions[0], CONSOLE_CMD_POWEROFF);
	CHECK_INT(res.actions[1], CONSOLE_CMD_REBOOT);
	CHECK_INT(res.actions[2], CONSOLE_CMD_STATUS);
	return NULL;
}

static const char *test_one_line_per_call(void)
{
	const char data[] = "status\nreboot\n";
	enum console_cmd_action action;

	reset();
	CHECK_INT(console_cmd_feed(&cmd, data, sizeof(data) - 1, &action), 7);
	CHECK_INT(action, CONSOLE_CMD_STATUS);
	CHECK_INT(console_cmd_feed(&cmd, data + 7, sizeof(data) - 8, &action), 7);
	CHECK_INT(action, CONSOLE_CMD_REBOOT);
	CHECK_INT(console_cmd_feed(&cmd, data, 0, &action), 0);
	CHECK_INT(action, CONSOLE_CMD_NONE);
	return NULL;
}

static const char *test_partial_line(void)
{
	enum console_cmd_action action;

	reset();
	CHECK_INT(console_cmd_feed(&cmd, "pow", 3, &action), 3);
	CHECK_INT(action, CONSOLE_CMD_NONE);
	CHECK_INT(console_cmd_feed(&cmd, "er", 2, &action), 2);
	CHECK_INT(action, CONSOLE_CMD_NONE);
	CHECK_INT(console_cmd_feed(&cmd, "off\n", 4, &action), 4);
	CHECK_INT(action, CONSOLE_CMD_POWEROFF);
	return NULL;
}

static const char *test_byte_at_a_time(void)
{
	const char data[] = "reboot\r\nstatus\n";
	size_t i;
	const char *f;

	reset();
	for (i = 0; i < sizeof(data) - 1; i++) {
		f = feed(data + i, 1);
		if (f)
			return f;
		if (i == 6)	/* the \r after "reboot" completes the line */
			CHECK_INT(res.n, 1);
	}
	CHECK_INT(res.n, 2);
	CHECK_INT(res.actions[0], CONSOLE_CMD_REBOOT);
	CHECK_INT(res.actions[1], CONSOLE_CMD_STATUS);
	return NULL;
}

static const char *test_crlf_and_cr(void)
{
	reset();
	FEED("status\r\nreboot\r\n\r\npoweroff\r");
	CHECK_INT(res.n, 3);
	CHECK_INT(res.actions[0], CONSOLE_CMD_STATUS);
	CHECK_INT(res.actions[1], CONSOLE_CMD_REBOOT);
	CHECK_INT(res.actions[2], CONSOLE_CMD_POWEROFF);
	return NULL;
}

static const char *test_blanks(void)
{
	reset();
	FEED("\n \t \n\n");
	CHECK_INT(res.n, 0);
	FEED("  poweroff\t \n");
	CHECK_INT(res.n, 1);
	CHECK_INT(res.actions[0], CONSOLE_CMD_POWEROFF);
	return NULL;
}

static const char *test_unknown(void)
{
	reset();
	FEED("hello world\n");
	CHECK_INT(res.n, 1);
	CHECK_INT(res.actions[0], CONSOLE_CMD_REJECTED);
	CHECK_STR(res.reply, "unknown command 'hello world'");
	return NULL;
}

static const char *test_near_misses(void)
{
	size_t i;

	reset();
	FEED("Poweroff\npower\npoweroffx\nreboot now\nstatus:\n");
	CHECK_INT(res.n, 5);
	for (i = 0; i < res.n; i++)
		CHECK_INT(res.actions[i], CONSOLE_CMD_REJECTED);
	CHECK_STR(res.reply, "unknown command 'status:'");
	return NULL;
}

static const char *test_embedded_nul(void)
{
	reset();
	FEED("poweroff\0junk\n");
	CHECK_INT(res.n, 1);
	CHECK_INT(res.actions[0], CONSOLE_CMD_REJECTED);
	CHECK_STR(res.reply, "unknown command 'poweroff?junk'");
	FEED("reboot\0\n");
	CHECK_INT(res.n, 2);
	CHECK_INT(res.actions[1], CONSOLE_CMD_REJECTED);
	return NULL;
}

static const char *test_control_chars_not_echoed(void)
{
	reset();
	FEED("\x1b]0;owned\x07\x1b[2J\x7f\n");
	CHECK_INT(res.n, 1);
	CHECK_STR(res.reply, "unknown command '?]0;owned??[2J?'");
	return NULL;
}

static const char *test_longest_line(void)
{
	char line[CONSOLE_CMD_LINE_MAX + 1];
	const char *f;

	reset();
	memset(line, 'a', CONSOLE_CMD_LINE_MAX);
	line[CONSOLE_CMD_LINE_MAX] = '\n';
	f = feed(line, sizeof(line));
	if (f)
		return f;
	CHECK_INT(res.n, 1);
	CHECK_INT(res.actions[0], CONSOLE_CMD_REJECTED);
	CHECK(!strncmp(res.reply, "unknown command 'aaaa", 21));
	CHECK_INT(strlen(res.reply), strlen("unknown command ''") + CONSOLE_CMD_LINE_MAX);
	return NULL;
}

static const char *test_overlong_rejected(void)
{
	char line[CONSOLE_CMD_LINE_MAX + 2];
	const char *f;

	reset();
	memset(line, 'a', CONSOLE_CMD_LINE_MAX + 1);
	line[CONSOLE_CMD_LINE_MAX + 1] = '\n';
	f = feed(line, sizeof(line));
	if (f)
		return f;
	CHECK_INT(res.n, 1);
	CHECK_INT(res.actions[0], CONSOLE_CMD_REJECTED);
	CHECK_STR(res.reply, "console line longer than 128 bytes ignored");
	return NULL;
}

static const char *test_overlong_tail_not_run(void)
{
	/* The end of an overlong line must not run as a command: "xxx...poweroff" is not "poweroff". */
	char junk[100];
	const char *f;
	int i;

	reset();
	memset(junk, 'x', sizeof(junk));
	for (i = 0; i < 10; i++) {
		f = feed(junk, sizeof(junk));
		if (f)
			return f;
		CHECK_INT(res.n, 0);
	}
	FEED("poweroff");
	CHECK_INT(res.n, 0);
	FEED("\n");
	CHECK_INT(res.n, 1);
	CHECK_INT(res.actions[0], CONSOLE_CMD_REJECTED);
	CHECK_STR(res.reply, "console line longer than 128 bytes ignored");
	/* and the next line is read normally again */
	FEED("status\n");
	CHECK_INT(res.n, 2);
	CHECK_INT(res.actions[1], CONSOLE_CMD_STATUS);
	return NULL;
}

static const char *test_guest_verbs(void)
{
	reset();
	FEED("guests\nzombies\nhelp\n");
	CHECK_INT(res.n, 3);
	CHECK_INT(res.actions[0], CONSOLE_CMD_GUESTS);
	CHECK_INT(res.actions[1], CONSOLE_CMD_ZOMBIES);
	CHECK_INT(res.actions[2], CONSOLE_CMD_HELP);
	FEED("  kill \t ticker \n");
	CHECK_INT(res.actions[3], CONSOLE_CMD_KILL);
	CHECK_STR(cmd.arg, "ticker");
	FEED("start web\nstop web-2.a\nguest web\n");
	CHECK_INT(res.actions[4], CONSOLE_CMD_START);
	CHECK_INT(res.actions[5], CONSOLE_CMD_STOP);
	CHECK_STR(cmd.arg, "web");
	CHECK_INT(res.actions[6], CONSOLE_CMD_GUEST);
	CHECK_INT(res.n, 7);
	/* rescue takes no name: with one it is refused, not a shell */
	FEED("rescue\nrescue web\n");
	CHECK_INT(res.actions[7], CONSOLE_CMD_RESCUE);
	CHECK_INT(res.actions[8], CONSOLE_CMD_REJECTED);
	CHECK_INT(res.n, 9);
	return NULL;
}

/* A name is one word; a verb without one, or with two, is a usage error, never half-done. */
static const char *test_guest_verbs_rejected(void)
{
	size_t i;

	reset();
	FEED("kill\nstart a b\nstop\tx\x1b\nguestsweb\nkillticker\nguests web\n");
	CHECK_INT(res.n, 6);
	for (i = 0; i < res.n; i++)
		CHECK_INT(res.actions[i], CONSOLE_CMD_REJECTED);
	CHECK_STR(res.reply, "unknown command 'guests web'");
	FEED("start\n");
	CHECK_STR(res.reply, "usage: start NAME");
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "console-cmd-guest-verbs", test_guest_verbs },
		{ "console-cmd-guest-verbs-rejected", test_guest_verbs_rejected },
		{ "console-cmd-verbs", test_verbs },
		{ "console-cmd-one-line-per-call", test_one_line_per_call },
		{ "console-cmd-partial-line", test_partial_line },
		{ "console-cmd-byte-at-a-time", test_byte_at_a_time },
		{ "console-cmd-crlf-and-cr", test_crlf_and_cr },
		{ "console-cmd-blanks", test_blanks },
		{ "console-cmd-unknown", test_unknown },
		{ "console-cmd-near-misses", test_near_misses },
		{ "console-cmd-embedded-nul", test_embedded_nul },
		{ "console-cmd-control-chars-not-echoed", test_control_chars_not_echoed },
		{ "console-cmd-longest-line", test_longest_line },
		{ "console-cmd-overlong-rejected", test_overlong_rejected },
		{ "console-cmd-overlong-tail-not-run", test_overlong_tail_not_run },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
