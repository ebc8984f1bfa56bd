#include <stdio.h>
#include <string.h>

#include "init/console_cmd.h"

static const struct {
	const char *name;
	enum console_cmd_action action;
} verbs[] = {
	{ "poweroff", CONSOLE_CMD_POWEROFF },
	{ "reboot", CONSOLE_CMD_REBOOT },
	{ "status", CONSOLE_CMD_STATUS },
};

void console_cmd_init(struct console_cmd *c)
{
	memset(c, 0, sizeof(*c));
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static enum console_cmd_action parse_line(struct console_cmd *c)
{
	char *word = c->line;
	size_t len = c->len;
	size_t i;

	while (len && is_blank(*word)) {
		word++;
		len--;
	}
	while (len && is_blank(word[len - 1]))
		len--;
	if (!len)
		return CONSOLE_CMD_NONE;

	/* Compare lengths too: a NUL typed into the line must not turn "poweroff\0junk" into "poweroff". */
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == len && !memcmp(verbs[i].name, word, len))
			return verbs[i].action;

	/* Echoing control characters back would let a stray escape sequence reprogram the operator's terminal. */
	for (i = 0; i < len; i++)
		if ((unsigned char)word[i] < 0x20 || (unsigned char)word[i] >= 0x7f)
			word[i] = '?';
	snprintf(c->reply, sizeof(c->reply), "unknown command '%.*s'", (int)len, word);
	return CONSOLE_CMD_REJECTED;
}

static enum console_cmd_action finish_line(struct console_cmd *c)
{
	enum console_cmd_action action;

	if (c->overlong) {
		snprintf(c->reply, sizeof(c->reply), "console line longer than %d bytes ignored", CONSOLE_CMD_LINE_MAX);
		action = CONSOLE_CMD_REJECTED;
	} else {
		action = parse_line(c);
	}
	c->len = 0;
	c->overlong = false;
	return action;
}

size_t console_cmd_feed(struct console_cmd *c, const char *data, size_t len, enum console_cmd_action *action)
{
	size_t i;

	*action = CONSOLE_CMD_NONE;
	for (i = 0; i < len; i++) {
		if (data[i] == '\n' || data[i] == '\r') {
			*action = finish_line(c);
			return i + 1;
		}
		if (c->len < sizeof(c->line))
			c->line[c->len++] = data[i];
		else
			c->overlong = true;
	}
	return len;
}
