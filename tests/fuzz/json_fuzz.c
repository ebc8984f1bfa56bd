/* fuzz-sources: vmm/mgmt/json.c vmm/mgmt/jsonread.c vmm/lib/jsonstr.c vmm/lib/utf8.c */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mgmt/json.h"
#include "mgmt/jsonread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s[256];

/* Every value reachable through arrays and the members the API and shrikectl look up, read as what it is. */
static void walk(const struct jsonread *doc, size_t at, int depth)
{
	static const char *const keys[] = { "autostart", "target_mib", "name", "guests", "stats" };
	unsigned long long u;
	long long n;
	size_t v, len;
	unsigned int k;
	int b, rc;

	if (depth > JSONREAD_MAX_DEPTH)
		__builtin_trap();
	switch (jsonread_type(doc, at)) {
	case JSONREAD_OBJECT:
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!jsonread_member(doc, at, keys[k], &v))
				walk(doc, v, depth + 1);
		break;
	case JSONREAD_ARRAY:
		for (rc = jsonread_first(doc, at, &v); !rc; rc = jsonread_next(doc, &v))
			walk(doc, v, depth + 1);
		break;
	case JSONREAD_STRING:
		rc = jsonread_string(doc, at, s, sizeof(s), &len);
		if ((rc == 0 && (len >= sizeof(s) || strlen(s) != len)) || (rc == -ENOSPC && len < sizeof(s)))
			__builtin_trap();
		break;
	case JSONREAD_NUMBER:
		jsonread_int(doc, at, -1000, 1 << 20, &n);
		jsonread_uint(doc, at, ~0ULL, &u);
		break;
	default:
		if (jsonread_bool(doc, at, &b) && jsonread_type(doc, at) != JSONREAD_NULL)
			__builtin_trap();
	}
}

/*
 * The reader on arbitrary bytes, and the writer on the same bytes as a string: whatever goes in, what the writer
 * produces must be accepted by the reader and decode back to valid text.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[4 * 65536 + 64];
	struct jsonread doc;
	struct json_writer w;
	size_t at;
	int len;

	if (size > 65536)
		return 0;
	if (!jsonread_open(&doc, (const char *)data, size))
		walk(&doc, 0, 0);

	json_init(&w, out, sizeof(out));
	json_object_begin(&w);
	json_key(&w, "s");
	json_string_len(&w, (const char *)data, size);
	json_object_end(&w);
	len = json_finish(&w);
	/* six bytes per input byte at most ("\u0001"), so it always fits */
	if (len < 0 || jsonread_open(&doc, out, (size_t)len) || jsonread_member(&doc, 0, "s", &at))
		__builtin_trap();
	/* the reader refuses \u0000 on purpose (names are C strings); any other string must read back */
	if (!memchr(data, 0, size) && jsonread_string(&doc, at, s, sizeof(s), NULL) == -EINVAL)
		__builtin_trap();
	return 0;
}
