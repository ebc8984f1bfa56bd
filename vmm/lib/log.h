#ifndef SHRIKE_LIB_LOG_H
#define SHRIKE_LIB_LOG_H

/*
 * Diagnostics for the operator, one line each on stderr, prefixed "shrike: " so they stand out among kernel
 * messages on the console. Results a caller asked for (a probe verdict, --version) go to stdout instead.
 */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
