#ifndef SHRIKECTL_JSON_H
#define SHRIKECTL_JSON_H

#include <stddef.h>

#include "mgmt/jsonread.h"

/*
 * The answers' JSON for the tables, read with the management port's own reader (vmm/mgmt/jsonread.h), which
 * checks the whole text once. A value is named by an int, 0 for the top-level one; -1 names nothing. Lookups on a
 * missing or mistyped value give -1 or the caller's default, so a field an older appliance lacks shows as "-"
 * rather than failing the command.
 */
struct json {
	struct jsonread doc;
};

/* Returns 0, or -EINVAL if text is not one valid JSON value. */
int json_parse(struct json *j, const char *text, size_t len);

/* The value of key in the object obj, or -1. */
int json_get(const struct json *j, int obj, const char *key);

/* The elements of the array arr: first with json_first(), then json_next() until -1. */
int json_first(const struct json *j, int arr);
int json_next(const struct json *j, int arr, int elem);

/* A string value decoded to UTF-8, "-" if missing or not a string. Truncated to size. */
const char *json_str(const struct json *j, int tok, char *out, size_t size);
/* The same, into a new buffer of any length (NULL if out of memory); free() it. */
char *json_strdup(const struct json *j, int tok);

unsigned long long json_uint(const struct json *j, int tok, unsigned long long dflt);
/* 1 true, 0 false, -1 anything else */
int json_bool(const struct json *j, int tok);

#endif
