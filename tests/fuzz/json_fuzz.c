/* fuzz-sources: vmm/mgmt/json.c */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mgmt/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The reader on arbitrary bytes, and the writer on the same bytes as a string: whatever goes in, what the writer
 * produces must be accepted by the reader and decode back to valid text.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[4 * 65536 + 64], s[256];
	const char *doc = (const char *)data;
	struct json_writer w;
	long long n;
	int b, len, valid;

	if (size > 65536)
		return 0;
	valid = json_validate(doc, size) == 0;
	json_get_bool(doc, size, "autostart", &b);
	json_get_int(doc, size, "target_mib", 0, 1 << 20, &n);
	if (json_get_string(doc, size, "name", s, sizeof(s)) == 0 && strlen(s) >= sizeof(s))
		__builtin_trap();
	if (!valid && json_get_bool(doc, size, "autostart", &b) == 0)
		__builtin_trap();

	json_init(&w, out, sizeof(out));
	json_object_begin(&w);
	json_key(&w, "s");
	json_string_len(&w, doc, size);
	json_object_end(&w);
	len = json_finish(&w);
	/* six bytes per input byte at most ("\u0001"), so it always fits */
	if (len < 0 || json_validate(out, (size_t)len))
		__builtin_trap();
	/* the reader refuses \u0000 on purpose (names are C strings); any other string must read back */
	if (!memchr(doc, 0, size) && json_get_string(out, (size_t)len, "s", s, sizeof(s)) == -EINVAL)
		__builtin_trap();
	return 0;
}
