/*
 * shrike-config: makes and inspects config partition images on the build machine (docs/config-partition.md).
 * Built with the host compiler from the same vmm/config sources the appliance reads the partition with, so there
 * is one implementation of the format.
 *
 *   shrike-config pack DIR IMAGE [--size 4M]   a new image, generation 1 in slot A
 *   shrike-config write IMAGE DIR              the next generation into the other slot, as the appliance does
 *   shrike-config show IMAGE                   slots, generations, files with sizes and SHA-256
 *   shrike-config unpack IMAGE DIR             the current slot's files into DIR
 *
 * DIR holds shrike.conf and the files it names (cert, key, client-ca, user-data). pack and write check
 * shrike.conf first, as `shrike check` does, and refuse a broken one with its FILE:LINE errors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/blockdev.h"
#include "config/config.h"
#include "config/partition.h"
#include "lib/file.h"
#include "lib/size.h"
#include "lib/sha256.h"

#define EXIT_USAGE 2
#define DEFAULT_SIZE (4ULL << 20)

struct bundle {
	struct partition_file files[PARTITION_MAX_FILES];
	uint8_t *data[PARTITION_MAX_FILES];
	unsigned int n;
};

static int usage(void)
{
	fprintf(stderr, "usage: shrike-config pack DIR IMAGE [--size 4M]\n"
			"       shrike-config write IMAGE DIR\n"
			"       shrike-config show IMAGE\n"
			"       shrike-config unpack IMAGE DIR\n");
	return EXIT_USAGE;
}

static int add_file(struct bundle *b, const char *dir, const char *name, unsigned int line, const char *conf)
{
	char path[4096];
	unsigned int i;
	int ret;

	for (i = 0; i < b->n; i++)
		if (!strcmp(b->files[i].name, name))
			return 0;	/* two guests may share a user-data file */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = file_read(path, PARTITION_MAX_PAYLOAD, &b->data[b->n], &b->files[b->n].len);
	if (ret) {
		if (line)
			fprintf(stderr, "%s:%u: %s: %s\n", conf, line, path, strerror(-ret));
		else
			fprintf(stderr, "%s: %s\n", path, strerror(-ret));
		return ret;
	}
	snprintf(b->files[b->n].name, sizeof(b->files[b->n].name), "%s", name);
	b->files[b->n].data = b->data[b->n];
	b->n++;
	return 0;
}

static void bundle_free(struct bundle *b)
{
	while (b->n)
		free(b->data[--b->n]);
}

/* Mentions what DIR holds beyond what shrike.conf names: it is not packed, and may be a forgotten reference. */
static void note_unused(const char *dir, const struct bundle *b)
{
	struct dirent *d;
	unsigned int i;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		for (i = 0; i < b->n && strcmp(b->files[i].name, d->d_name); i++)
			;
		if (i == b->n)
			fprintf(stderr, "shrike-config: %s/%s: not named by shrike.conf, not packed\n", dir, d->d_name);
	}
	closedir(dp);
}

/* shrike.conf checked, then it and the files it names, in that order, as one payload. */
static int collect(const char *dir, uint8_t **payload, size_t *len)
{
	struct config_file_ref refs[CONFIG_MAX_FILE_REFS];
	struct config_errors *errs = calloc(1, sizeof(*errs));
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct bundle b = { .n = 0 };
	char conf[4096];
	unsigned int n, i, bad;
	int ret = -ENOMEM;

	if (!errs || !cfg)
		goto out;
	snprintf(conf, sizeof(conf), "%s/%s", dir, PARTITION_CONFIG_FILE);
	ret = add_file(&b, dir, PARTITION_CONFIG_FILE, 0, conf);
	if (ret)
		goto out;
	config_load(conf, (const char *)b.data[0], b.files[0].len, 0, cfg, errs);
	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	/* Missing files too, so that one run shows everything to fix. */
	bad = errs->count;
	n = config_file_refs(cfg, refs);
	for (i = 0; i < n; i++)
		if (add_file(&b, dir, refs[i].name, refs[i].line, conf))
			bad++;
	if (bad) {
		fprintf(stderr, "shrike-config: %s has errors, nothing written\n", conf);
		ret = -EINVAL;
		goto out;
	}
	note_unused(dir, &b);
	ret = partition_pack(b.files, b.n, payload, len);
	if (ret)
		fprintf(stderr, "shrike-config: %s: %s\n", dir,
			ret == -EFBIG ? "the files exceed the largest payload" : strerror(-ret));
out:
	bundle_free(&b);
	free(cfg);
	free(errs);
	return ret;
}

static int write_payload(const char *image, int fd, const uint8_t *payload, size_t len)
{
	struct blockdev dev;
	uint64_t gen;
	int slot, ret;

	ret = blockdev_init_fd(&dev, fd);
	if (!ret)
		ret = partition_write(&dev, payload, len, &slot, &gen);
	if (ret) {
		fprintf(stderr, "shrike-config: %s: %s\n", image,
			ret == -EFBIG ? "payload larger than a slot" :
			ret == -EINVAL ? "too small for two slots" : strerror(-ret));
		return ret;
	}
	printf("%s: wrote generation %llu to slot %c (%zu bytes of payload)\n", image, (unsigned long long)gen,
	       'A' + slot, len);
	return 0;
}

static int cmd_pack(int argc, char **argv)
{
	uint64_t size = DEFAULT_SIZE;
	uint8_t *payload = NULL;
	size_t len;
	int fd, ret;

	if (argc == 6 && !strcmp(argv[4], "--size")) {
		if (size_parse(argv[5], 1, &size) || size % 1024 || size < 2 * PARTITION_MIN_SLOT) {
			fprintf(stderr, "shrike-config: --size %s: expected a whole number of KiB, at least 2K, "
				"e.g. 4M\n", argv[5]);
			return EXIT_USAGE;
		}
	} else if (argc != 4) {
		return usage();
	}
	if (collect(argv[2], &payload, &len))
		return 1;
	fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "shrike-config: %s: %s\n", argv[3], strerror(errno));
		free(payload);
		return 1;
	}
	ret = ftruncate(fd, (off_t)size) ? -errno : 0;
	if (ret)
		fprintf(stderr, "shrike-config: %s: %s\n", argv[3], strerror(-ret));
	else
		ret = write_payload(argv[3], fd, payload, len);
	close(fd);
	free(payload);
	if (ret)
		unlink(argv[3]);	/* no half-made image for the build to pick up */
	return ret ? 1 : 0;
}

static int cmd_write(int argc, char **argv)
{
	uint8_t *payload = NULL;
	size_t len;
	int fd, ret;

	if (argc != 4)
		return usage();
	fd = open(argv[2], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "shrike-config: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	ret = collect(argv[3], &payload, &len);
	if (!ret)
		ret = write_payload(argv[2], fd, payload, len);
	close(fd);
	free(payload);
	return ret ? 1 : 0;
}

static int open_image(const char *image, struct blockdev *dev, struct partition *p, int *fd)
{
	int ret;

	*fd = open(image, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		fprintf(stderr, "shrike-config: %s: %s\n", image, strerror(errno));
		return -errno;
	}
	ret = blockdev_init_fd(dev, *fd);
	if (ret) {
		fprintf(stderr, "shrike-config: %s: %s\n", image, strerror(-ret));
		close(*fd);
		*fd = -1;
		return ret;
	}
	return partition_load(dev, p);
}

static int cmd_show(int argc, char **argv)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct blockdev dev;
	struct partition p;
	unsigned int i, j;
	int fd, slot, ret;

	if (argc != 3)
		return usage();
	ret = open_image(argv[2], &dev, &p, &fd);
	if (fd < 0)
		return 1;
	close(fd);
	printf("%s: %llu bytes, two slots of %llu bytes\n", argv[2], (unsigned long long)dev.size,
	       (unsigned long long)p.slot_size);
	for (slot = 0; slot < 2; slot++) {
		if (p.slots[slot].valid)
			printf("slot %c: generation %llu, %llu bytes, valid%s\n", 'A' + slot,
			       (unsigned long long)p.slots[slot].generation,
			       (unsigned long long)p.slots[slot].payload_len, slot == p.current ? " (current)" : "");
		else
			printf("slot %c: invalid: %s\n", 'A' + slot, p.slots[slot].why);
	}
	if (ret) {
		printf("no valid slot: the appliance would boot into its safe state\n");
		partition_release(&p);
		return 1;
	}
	printf("files in slot %c:\n", 'A' + p.current);
	for (i = 0; i < p.nfiles; i++) {
		sha256_digest(p.files[i].data, p.files[i].len, digest);
		printf("  %-24s %8zu  ", p.files[i].name, p.files[i].len);
		for (j = 0; j < SHA256_DIGEST_SIZE; j++)
			printf("%02x", digest[j]);
		printf("\n");
	}
	partition_release(&p);
	return 0;
}

static int cmd_unpack(int argc, char **argv)
{
	struct blockdev dev;
	struct partition p;
	char path[4096];
	unsigned int i;
	int fd, out, ret;

	if (argc != 4)
		return usage();
	ret = open_image(argv[2], &dev, &p, &fd);
	if (fd < 0)
		return 1;
	close(fd);
	if (ret) {
		fprintf(stderr, "shrike-config: %s: no valid slot (A: %s; B: %s)\n", argv[2], p.slots[0].why,
			p.slots[1].why);
		partition_release(&p);
		return 1;
	}
	if (mkdir(argv[3], 0755) && errno != EEXIST) {
		fprintf(stderr, "shrike-config: %s: %s\n", argv[3], strerror(errno));
		ret = 1;
		goto out;
	}
	for (i = 0; i < p.nfiles; i++) {
		/* The names were checked to be plain names; O_NOFOLLOW keeps a planted symlink from redirecting. */
		snprintf(path, sizeof(path), "%s/%s", argv[3], p.files[i].name);
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (out < 0 || write(out, p.files[i].data, p.files[i].len) != (ssize_t)p.files[i].len) {
			fprintf(stderr, "shrike-config: %s: %s\n", path, strerror(errno));
			if (out >= 0)
				close(out);
			ret = 1;
			goto out;
		}
		close(out);
	}
	printf("%s: %u files of generation %llu (slot %c) in %s\n", argv[2], p.nfiles,
	       (unsigned long long)p.slots[p.current].generation, 'A' + p.current, argv[3]);
out:
	partition_release(&p);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "pack"))
		return cmd_pack(argc, argv);
	if (!strcmp(argv[1], "write"))
		return cmd_write(argc, argv);
	if (!strcmp(argv[1], "show"))
		return cmd_show(argc, argv);
	if (!strcmp(argv[1], "unpack"))
		return cmd_unpack(argc, argv);
	return usage();
}
