#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

/* The role with its ": ", set once before any thread starts. */
static char role_prefix[16];
/* Where the lines go instead of stderr, and the process that said so (a child it forks writes to stderr). */
static void (*sink)(void *opaque, const char *line, size_t len);
static void *sink_opaque;
static pid_t sink_pid;

void log_set_role(const char *role)
{
	if (*role)
		snprintf(role_prefix, sizeof(role_prefix), "%s: ", role);
	else
		role_prefix[0] = '\0';
}

void log_set_sink(void (*fn)(void *opaque, const char *line, size_t len), void *opaque)
{
	sink = fn;
	sink_opaque = opaque;
	sink_pid = getpid();
}

static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	/*
	 * One write(2) per line: stdio may split a line into several writes (musl does for unbuffered stderr),
	 * and other processes and the kernel write to the same console.
	 */
	char line[512];
	size_t len;
	int n, saved = errno;	/* callers log, then return -errno: logging must not change it */

	n = snprintf(line, sizeof(line), "shrike: %s%s", prefix, role_prefix);
	if (n < 0)
		goto out;
	len = (size_t)n;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n < 0)
		goto out;
	len += (size_t)n;
	if (len > sizeof(line) - 2) {
		len = sizeof(line) - 2;
		memcpy(line + len - 3, "...", 3);
	}
	line[len++] = '\n';
	if (sink && getpid() == sink_pid) {
		sink(sink_opaque, line, len);
		goto out;
	}
	if (write(STDERR_FILENO, line, len) < 0)
		goto out;	/* nowhere left to report it */
out:
	errno = saved;
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("error: ", fmt, ap);
	va_end(ap);
}
