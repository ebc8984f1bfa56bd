#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/check.h"
#include "config/config.h"
#include "lib/file.h"

/* Far beyond any real shrike.conf, and far below what would strain the appliance's memory. */
#define CHECK_MAX_TEXT (1 << 20)

/* The payload files are looked up where shrike-config pack would take them from: next to the file. */
static void check_refs(const char *path, const struct config *cfg, struct config_errors *errs)
{
	struct config_file_ref refs[CONFIG_MAX_FILE_REFS];
	const char *slash = strrchr(path, '/');
	char file[4096];
	struct stat st;
	unsigned int n, i;
	int dir_len = slash ? (int)(slash - path) : 1;

	n = config_file_refs(cfg, refs);
	for (i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%.*s/%s", dir_len, slash ? path : ".", refs[i].name);
		if (stat(file, &st))
			config_error(errs, cfg->file, refs[i].line, "%s: %s", file, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			config_error(errs, cfg->file, refs[i].line, "%s: not a regular file", file);
		else if (refs[i].max_size && (uint64_t)st.st_size > refs[i].max_size)
			config_error(errs, cfg->file, refs[i].line, "%s: larger than %llu KiB, the most the metadata "
				     "service serves", file, (unsigned long long)refs[i].max_size >> 10);
	}
}

int check_file(const char *path)
{
	struct config_errors *errs = calloc(1, sizeof(*errs));
	struct config *cfg = calloc(1, sizeof(*cfg));
	uint8_t *text = NULL;
	size_t len = 0;
	unsigned int i;
	int ret;

	if (!errs || !cfg) {
		fprintf(stderr, "%s: %s\n", path, strerror(ENOMEM));
		ret = 1;
		goto out;
	}
	ret = file_read(path, CHECK_MAX_TEXT, &text, &len);
	if (ret) {
		fprintf(stderr, "%s: %s\n", path, ret == -EFBIG ? "larger than 1 MiB, not a shrike.conf" :
			ret == -EINVAL ? "not a regular file" : strerror(-ret));
		ret = 1;
		goto out;
	}
	config_load(path, (const char *)text, len, 0, cfg, errs);
	check_refs(path, cfg, errs);
	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	if (errs->count) {
		ret = 1;
		goto out;
	}
	printf("configuration OK\n");
out:
	free(text);
	free(cfg);
	free(errs);
	return ret;
}
