#ifndef SHRIKE_LIB_LOG_H
#define SHRIKE_LIB_LOG_H

/*
 * Diagnostics for the operator, one line each on stderr, prefixed "shrike: " so they stand out among kernel
 * messages on the console. Results a caller asked for (a probe verdict, --version) go to stdout instead.
 *
 * A process that plays one role (`shrike run`, `shrike mgmt`) names it once with log_set_role(), and every line
 * it logs says so: "shrike: error: run: vCPU 0: ...". PID 1 and the one-shot commands set none.
 */
void log_set_role(const char *role);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
