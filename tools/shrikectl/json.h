#ifndef SHRIKECTL_JSON_H
#define SHRIKECTL_JSON_H

#include <stddef.h>

/*
 * Just enough JSON reading for the tables: the text is split into tokens once (bounded depth and count), then
 * values are looked up by key. Token 0 is the top-level value. Lookups on a missing or mistyped value give -1 or
 * the caller's default, so a field an older appliance lacks shows as "-" rather than failing the command.
 */
enum json_type { JSON_OBJECT = 1, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL };

struct json_token {
	enum json_type type;
	size_t start, end;	/* the value's text; for a string without the quotes */
	int next;		/* the token after this value and everything inside it */
};

struct json {
	const char *text;
	struct json_token *tok;
	int count, size;
};

/* Returns 0, or -EINVAL if text is not one valid JSON value. json_free() either way. */
int json_parse(struct json *j, const char *text, size_t len);
void json_free(struct json *j);

/* The value of key in the object at token obj, or -1. */
int json_get(const struct json *j, int obj, const char *key);

/* The elements of the array at token arr: first with json_first(), then json_next() until -1. */
int json_first(const struct json *j, int arr);
int json_next(const struct json *j, int arr, int elem);

/* A string value decoded to UTF-8 (a number or literal as written), "-" if missing. Truncated to size. */
const char *json_str(const struct json *j, int tok, char *out, size_t size);
/* The same, into a new buffer of any length (NULL if out of memory); free() it. */
char *json_strdup(const struct json *j, int tok);

unsigned long long json_uint(const struct json *j, int tok, unsigned long long dflt);
/* 1 true, 0 false, -1 anything else */
int json_bool(const struct json *j, int tok);

#endif
