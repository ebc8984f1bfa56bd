#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

const char *check_fail(const char *file, int line, const char *fmt, ...)
{
	static char message[1024];
	char raw[sizeof(message) / 4];
	size_t len, i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* The protocol is one line per test: show control characters in values as \xNN instead of printing them. */
	len = (size_t)snprintf(message, sizeof(message), "%s:%d: ", file, line);
	for (i = 0; raw[i] && len < sizeof(message) - 5; i++) {
		if ((unsigned char)raw[i] < 0x20 || (unsigned char)raw[i] == 0x7f)
			len += (size_t)snprintf(message + len, 5, "\\x%02x", (unsigned char)raw[i]);
		else
			message[len++] = raw[i];
	}
	message[len] = '\0';
	return message;
}

int check_main(const struct check_case *cases, size_t n)
{
	const char *failure;
	int status = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		failure = cases[i].run();
		if (failure) {
			printf("not ok %s: %s\n", cases[i].name, failure);
			status = 1;
		} else {
			printf("ok %s\n", cases[i].name);
		}
		/* A sanitizer aborting in the next case must not take this line with it. */
		fflush(stdout);
	}
	return status;
}

int check_stderr(void (*fn)(void), char *text, size_t size)
{
	char path[] = "/tmp/shrike-unit-stderr-XXXXXX", buf[4096];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), lines = 0;
	size_t kept = 0;
	ssize_t n, i;

	if (fd < 0 || saved < 0)
		return -1;
	unlink(path);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			lines += buf[i] == '\n';
			if (text && kept + 1 < size)
				text[kept++] = buf[i];
		}
	}
	if (text && size)
		text[kept] = '\0';
	close(fd);
	return lines;
}
