#include <stdarg.h>
#include <stdio.h>

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
