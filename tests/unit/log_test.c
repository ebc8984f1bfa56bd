/* unit-sources: vmm/lib/log.c */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "lib/log.h"

static int errno_after;

static void log_with_errno_set(void)
{
	errno = EBADF;
	log_error("open %s: %s", "/x", strerror(errno));
	log_info("and %d more", 2);
	errno_after = errno;
}

/* Callers log a failure and then return -errno: the log line must leave errno as it found it. */
static const char *test_errno_kept(void)
{
	char text[256];

	CHECK_INT(check_stderr(log_with_errno_set, text, sizeof(text)), 2);
	CHECK_INT(errno_after, EBADF);
	CHECK_STR(text, "shrike: error: open /x: Bad file descriptor\nshrike: and 2 more\n");
	return NULL;
}

static void log_too_long(void)
{
	char big[1000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
}

/* A line longer than the buffer is cut, marked with "...", and still ends in one newline. */
static const char *test_long_line_cut(void)
{
	char text[1024];
	size_t len;

	CHECK_INT(check_stderr(log_too_long, text, sizeof(text)), 1);
	len = strlen(text);
	CHECK_INT(len, 511);
	CHECK(!memcmp(text + len - 4, "...\n", 4));
	return NULL;
}

static void log_as_run(void)
{
	log_set_role("run");
	log_error("vCPU %d: guest triple fault", 0);
	log_info("stopped");
	log_set_role("");
}

/* A role set once prefixes every line after the level, as the tests and operators grep for them. */
static const char *test_role_prefix(void)
{
	char text[256];

	CHECK_INT(check_stderr(log_as_run, text, sizeof(text)), 2);
	CHECK_STR(text, "shrike: error: run: vCPU 0: guest triple fault\nshrike: run: stopped\n");
	return NULL;
}

static char sunk[256];

static void sink(void *opaque, const char *line, size_t len)
{
	size_t *used = opaque;

	if (*used + len < sizeof(sunk)) {
		memcpy(sunk + *used, line, len);
		*used += len;
		sunk[*used] = '\0';
	}
}

static void log_to_sink(void)
{
	static size_t used;
	pid_t pid;

	log_set_sink(sink, &used);
	log_info("in the sink");
	pid = fork();
	if (!pid) {
		log_error("from the child");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	log_set_sink(NULL, NULL);
	log_info("on stderr again");
}

/* PID 1's lines go to its sink, whole; a child it forks writes to its own stderr, and so does everyone after. */
static const char *test_sink(void)
{
	char text[256];

	CHECK_INT(check_stderr(log_to_sink, text, sizeof(text)), 2);
	CHECK_STR(sunk, "shrike: in the sink\n");
	CHECK_STR(text, "shrike: error: from the child\nshrike: on stderr again\n");
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "log-errno-kept", test_errno_kept },
		{ "log-long-line-cut", test_long_line_cut },
		{ "log-role-prefix", test_role_prefix },
		{ "log-sink", test_sink },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
