/* fuzz-sources: vmm/config/config.c vmm/config/values.c vmm/config/validate.c vmm/config/filename.c vmm/lib/sha256.c vmm/lib/addr.c */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "config/filename.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The parser and the checks across the file on arbitrary text. Besides memory errors, the promises the PID 1
 * relies on: an accepted file has no errors and a complete start order, errors are bounded and name the file, and
 * the payload files it names are plain names.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static struct config_errors errs;
	struct config_file_ref refs[CONFIG_MAX_FILE_REFS];
	unsigned int order[CONFIG_MAX_GUESTS], n, i;
	int ret;

	memset(&errs, 0, sizeof(errs));
	ret = config_load("fuzz.conf", (const char *)data, size, 2ULL << 30, &cfg, &errs);
	if (errs.count > CONFIG_MAX_ERRORS + 1 || (ret == 0) != (errs.count == 0))
		__builtin_trap();
	for (i = 0; i < errs.count; i++)
		if (strncmp(errs.msg[i], "fuzz.conf:", 10) || !memchr(errs.msg[i], '\0', CONFIG_ERROR_LEN))
			__builtin_trap();
	if (ret)
		return 0;
	if (config_start_order(&cfg, order) != cfg.nguests)
		__builtin_trap();
	n = config_file_refs(&cfg, refs);
	for (i = 0; i < n; i++)
		if (!filename_valid(refs[i].name, strlen(refs[i].name)))
			__builtin_trap();
	return 0;
}
