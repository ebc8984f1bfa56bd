#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int json_parse(struct json *j, const char *text, size_t len)
{
	/* a value's name is its offset, in an int */
	if (len > INT_MAX)
		return -EINVAL;
	return jsonread_open(&j->doc, text, len);
}

int json_get(const struct json *j, int obj, const char *key)
{
	size_t at;

	if (obj < 0 || jsonread_member(&j->doc, (size_t)obj, key, &at))
		return -1;
	return (int)at;
}

int json_first(const struct json *j, int arr)
{
	size_t at;

	if (arr < 0 || jsonread_first(&j->doc, (size_t)arr, &at))
		return -1;
	return (int)at;
}

int json_next(const struct json *j, int arr, int elem)
{
	size_t at = (size_t)elem;

	if (arr < 0 || elem < 0 || jsonread_next(&j->doc, &at))
		return -1;
	return (int)at;
}

const char *json_str(const struct json *j, int tok, char *out, size_t size)
{
	int rc = tok < 0 ? -ENOENT : jsonread_string(&j->doc, (size_t)tok, out, size, NULL);

	if (rc && rc != -ENOSPC)
		snprintf(out, size, "-");
	return out;
}

char *json_strdup(const struct json *j, int tok)
{
	size_t len;
	char *out;

	if (tok < 0 || jsonread_string(&j->doc, (size_t)tok, NULL, 0, &len))
		return strdup("-");
	out = malloc(len + 1);
	if (out)
		jsonread_string(&j->doc, (size_t)tok, out, len + 1, NULL);
	return out;
}

unsigned long long json_uint(const struct json *j, int tok, unsigned long long dflt)
{
	unsigned long long v;

	if (tok < 0 || jsonread_uint(&j->doc, (size_t)tok, ULLONG_MAX, &v))
		return dflt;
	return v;
}

int json_bool(const struct json *j, int tok)
{
	int v;

	if (tok < 0 || jsonread_bool(&j->doc, (size_t)tok, &v))
		return -1;
	return v;
}
