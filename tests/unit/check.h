#ifndef SHRIKE_TESTS_CHECK_H
#define SHRIKE_TESTS_CHECK_H

#include <stddef.h>
#include <string.h>

/*
 * A minimal unit test harness speaking the tests/run protocol: one line per test, "ok NAME" or
 * "not ok NAME: reason". A test returns NULL when it passes, else the message a CHECK built.
 */
struct check_case {
	const char *name;
	const char *(*run)(void);
};

const char *check_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Runs fn with stderr going to a scratch file and returns the number of lines it wrote there (-1 if the file
 * could not be made). With text, the first size - 1 bytes are copied there, NUL-terminated.
 */
int check_stderr(void (*fn)(void), char *text, size_t size);

/* Runs every case and returns the exit status: 0 if all passed, 1 otherwise. */
int check_main(const struct check_case *cases, size_t n);

#define CHECK(cond)								\
	do {									\
		if (!(cond))							\
			return check_fail(__FILE__, __LINE__, "%s", #cond);	\
	} while (0)

#define CHECK_INT(actual, expected)						\
	do {									\
		long long a_ = (actual), e_ = (expected);			\
		if (a_ != e_)							\
			return check_fail(__FILE__, __LINE__, "%s is %lld, expected %lld", #actual, a_, e_); \
	} while (0)

#define CHECK_STR(actual, expected)						\
	do {									\
		const char *a_ = (actual), *e_ = (expected);			\
		if (strcmp(a_, e_))						\
			return check_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #actual, a_, e_); \
	} while (0)

#endif
