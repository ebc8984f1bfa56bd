#ifndef SHRIKE_LIB_LOG_H
#define SHRIKE_LIB_LOG_H

#include <stddef.h>

/*
 * Diagnostics for the operator, one line each on stderr, prefixed "shrike: " so they stand out among kernel
 * messages on the console. Results a caller asked for (a probe verdict, --version) go to stdout instead.
 *
 * A process that plays one role (`shrike run`, `shrike mgmt`) names it once with log_set_role(), and every line
 * it logs says so: "shrike: error: run: vCPU 0: ...". PID 1 and the one-shot commands set none.
 */
void log_set_role(const char *role);
/*
 * PID 1 passes its lines to a sink of its own instead of writing them to stderr: a buffer that never blocks on a
 * slow console (init/conout.h). A child it forks writes to its own stderr again, so an exec failure still shows.
 */
void log_set_sink(void (*fn)(void *opaque, const char *line, size_t len), void *opaque);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
