#include <stdio.h>
#include <string.h>

#include "init/console_cmd.h"

static const struct {
	const char *name;
	enum console_cmd_action action;
	bool takes_name;
} verbs[] = {
	{ "poweroff", CONSOLE_CMD_POWEROFF, false },
	{ "reboot", CONSOLE_CMD_REBOOT, false },
	{ "status", CONSOLE_CMD_STATUS, false },
	{ "help", CONSOLE_CMD_HELP, false },
	{ "guests", CONSOLE_CMD_GUESTS, false },
	{ "zombies", CONSOLE_CMD_ZOMBIES, false },
	{ "rescue", CONSOLE_CMD_RESCUE, false },
	{ "guest", CONSOLE_CMD_GUEST, true },
	{ "start", CONSOLE_CMD_START, true },
	{ "stop", CONSOLE_CMD_STOP, true },
	{ "kill", CONSOLE_CMD_KILL, true },
};

const char console_cmd_help[] =
	"commands: status, guests, guest NAME, start NAME, stop NAME (shutdown request), kill NAME (SIGKILL its VMM),\n"
	"          zombies, rescue (a shell, with rescue-shell = yes), poweroff, reboot, help\n";

void console_cmd_init(struct console_cmd *c)
{
	memset(c, 0, sizeof(*c));
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void sanitize(char *s, size_t len)
{
	size_t i;

	/* Echoing control characters back would let a stray escape sequence reprogram the operator's terminal. */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

/* A verb that takes a name: word is "VERB NAME" (len bytes, trimmed), the verb already matched. */
static enum console_cmd_action parse_name(struct console_cmd *c, size_t v, const char *word, size_t len)
{
	size_t verb_len = strlen(verbs[v].name), i;
	const char *name = word + verb_len;
	size_t name_len = len - verb_len;

	while (name_len && is_blank(*name)) {
		name++;
		name_len--;
	}
	for (i = 0; i < name_len; i++)
		if (is_blank(name[i]) || (unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f)
			break;
	if (!name_len || i < name_len) {
		snprintf(c->reply, sizeof(c->reply), "usage: %s NAME", verbs[v].name);
		return CONSOLE_CMD_REJECTED;
	}
	memcpy(c->arg, name, name_len);
	c->arg[name_len] = '\0';
	return verbs[v].action;
}

static enum console_cmd_action parse_line(struct console_cmd *c)
{
	char *word = c->line;
	size_t len = c->len, verb_len;
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
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		verb_len = strlen(verbs[i].name);
		if (memcmp(verbs[i].name, word, verb_len < len ? verb_len : len))
			continue;
		if (verb_len == len && !verbs[i].takes_name)
			return verbs[i].action;
		if (verbs[i].takes_name && (verb_len == len || (verb_len < len && is_blank(word[verb_len]))))
			return parse_name(c, i, word, len);
	}

	sanitize(word, len);
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
