#ifndef SHRIKE_INIT_CONSOLE_CMD_H
#define SHRIKE_INIT_CONSOLE_CMD_H

#include <stdbool.h>
#include <stddef.h>

/* Longest console line accepted, without its line end: a verb and at most one guest name. */
#define CONSOLE_CMD_LINE_MAX 128

enum console_cmd_action {
	CONSOLE_CMD_NONE,	/* no complete line yet, or a blank one */
	CONSOLE_CMD_POWEROFF,
	CONSOLE_CMD_REBOOT,
	CONSOLE_CMD_STATUS,
	CONSOLE_CMD_REJECTED,	/* unknown or overlong line; reply says which */
	CONSOLE_CMD_HELP,
	CONSOLE_CMD_GUESTS,	/* list the guests */
	CONSOLE_CMD_ZOMBIES,	/* list processes nobody reaped */
	CONSOLE_CMD_RESCUE,	/* the busybox shell, if the config allows it */
	/* These take a guest name, in arg. */
	CONSOLE_CMD_GUEST,	/* one guest's counters */
	CONSOLE_CMD_START,
	CONSOLE_CMD_STOP,	/* a shutdown request */
	CONSOLE_CMD_KILL,	/* SIGKILL to the guest's VMM: a crash, as far as the restart policy knows */
};

/*
 * Turns console input into commands. Input arrives in arbitrary pieces (a raw serial line delivers bytes as they
 * are typed, a pipe in whatever chunks the writer used), so bytes are collected until a line end. The buffer is
 * bounded: a longer line is dropped whole, never acted on in part.
 */
struct console_cmd {
	char line[CONSOLE_CMD_LINE_MAX];
	size_t len;
	bool overlong;		/* line[] filled up: discard input up to the next line end */
	char reply[CONSOLE_CMD_LINE_MAX + 32];	/* why the last line was rejected, for the operator */
	char arg[CONSOLE_CMD_LINE_MAX];	/* the argument of the last command that takes one, NUL-terminated */
};

/* One line per command, for 'help'. */
extern const char console_cmd_help[];

void console_cmd_init(struct console_cmd *c);

/*
 * Consumes data up to and including the first line end (\n or \r, so CRLF, CR and LF terminals all work), or all
 * of it if there is none, and returns how many bytes it consumed; call it again with the rest. *action is what a
 * line completed by this call asks for, CONSOLE_CMD_NONE if none was completed.
 */
size_t console_cmd_feed(struct console_cmd *c, const char *data, size_t len, enum console_cmd_action *action);

#endif
