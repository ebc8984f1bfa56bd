#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "config/blockdev.h"
#include "config/partition.h"
#include "init/bootconf.h"
#include "init/partlabel.h"
#include "lib/log.h"

/*
 * Disks may show up after PID 1 starts (USB sticks, slow controllers): look for a label this long before
 * concluding it is not there, as the kernel's rootwait would.
 */
#define LABEL_WAIT_MS	5000
#define LABEL_POLL_MS	100

static bool data_mounted;

static int find_label(const char *label, char *dev, size_t size)
{
	struct timespec pause = { 0, LABEL_POLL_MS * 1000000L };
	unsigned int waited, duplicates;
	int ret;

	for (waited = 0;; waited += LABEL_POLL_MS) {
		ret = partlabel_find(PARTLABEL_SYSFS, label, dev, size, &duplicates);
		if (ret != -ENOENT || waited >= LABEL_WAIT_MS)
			break;
		nanosleep(&pause, NULL);
	}
	if (!ret && duplicates)
		log_error("%u more partitions are labelled %s; using %s", duplicates, label, dev);
	return ret;
}

uint64_t bootconf_host_memory(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;	/* config_validate() then skips the check */
	return (uint64_t)si.totalram * si.mem_unit;
}

static void report_errors(const struct config_errors *errs)
{
	unsigned int i;

	for (i = 0; i < errs->count && i <= CONFIG_MAX_ERRORS; i++)
		log_error("%s", errs->msg[i]);
}

int bootconf_write_file(const char *path, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t done = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* A file left by an earlier boot or by hand may have other permissions; this one may hold secrets. */
	if (fchmod(fd, 0600) < 0)
		ret = -errno;
	while (!ret && done < len) {
		n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	close(fd);
	return ret;
}

/* Private keys go to tmpfs only: never to a disk, and gone at power-off. */
static int write_tls(const struct partition *part, const struct config_mgmt *m)
{
	const char *names[] = { m->cert, m->key, m->client_ca };
	const struct partition_file *f;
	char path[sizeof(BOOTCONF_TLS_DIR) + CONFIG_FILE_NAME_MAX + 1];
	unsigned int i;
	int ret;

	if (!m->cert[0])
		return 0;
	if (mkdir("/run/shrike", 0700) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(BOOTCONF_TLS_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	for (i = 0; i < 3; i++) {
		f = partition_find(part, names[i]);
		if (!f) {
			log_error("config: %s is not in the config partition", names[i]);
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "%s/%s", BOOTCONF_TLS_DIR, names[i]);
		ret = bootconf_write_file(path, f->data, f->len);
		if (ret < 0) {
			log_error("config: writing %s: %s", path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int bootconf_check_refs(const struct config *cfg, const struct partition *part, struct config_errors *errs)
{
	struct config_file_ref refs[CONFIG_MAX_FILE_REFS];
	const struct partition_file *f;
	unsigned int n, i;
	int ret = 0;

	n = config_file_refs(cfg, refs);
	for (i = 0; i < n; i++) {
		f = partition_find(part, refs[i].name);
		if (f && (!refs[i].max_size || f->len <= refs[i].max_size))
			continue;
		if (f)
			config_error(errs, cfg->file, refs[i].line, "%s: larger than %llu KiB, the most the metadata "
				     "service serves", refs[i].name, (unsigned long long)refs[i].max_size >> 10);
		else
			config_error(errs, cfg->file, refs[i].line, "%s is not a file of the config partition",
				     refs[i].name);
		ret = -EINVAL;
	}
	return ret;
}

int bootconf_load(struct config *cfg, struct partition *part, char *path, size_t path_size)
{
	const struct partition_file *f;
	struct config_errors *errs = NULL;
	struct blockdev dev;
	int fd = -1, ret, i;

	memset(part, 0, sizeof(*part));
	ret = find_label(BOOTCONF_CONFIG_LABEL, path, path_size);
	if (ret < 0) {
		log_error("config: no partition labelled %s: %s", BOOTCONF_CONFIG_LABEL,
			  ret == -ENOENT ? "not found" : strerror(-ret));
		return ret;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_error("config: %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = blockdev_init_fd(&dev, fd);
	if (ret < 0) {
		log_error("config: %s: %s", path, strerror(-ret));
		goto out;
	}
	ret = partition_load(&dev, part);
	if (ret < 0) {
		log_error("config: %s: no valid slot", path);
		for (i = 0; i < 2; i++)
			log_error("config: slot %c: %s", 'A' + i, part->slots[i].why);
		goto out;
	}
	log_info("config: %s slot %c, generation %llu (slot %c: %s)", path, 'A' + part->current,
		 (unsigned long long)part->slots[part->current].generation, 'B' - part->current,
		 part->slots[1 - part->current].why);
	f = partition_find(part, PARTITION_CONFIG_FILE);
	if (!f) {
		/* partition_load() does not call a slot without it valid; this is a second line of defence. */
		log_error("config: slot %c has no %s", 'A' + part->current, PARTITION_CONFIG_FILE);
		ret = -ENOENT;
		goto out;
	}
	errs = calloc(1, sizeof(*errs));
	if (!errs) {
		ret = -ENOMEM;
		log_error("config: out of memory");
		goto out;
	}
	ret = config_load(PARTITION_CONFIG_FILE, (const char *)f->data, f->len, bootconf_host_memory(), cfg, errs);
	if (bootconf_check_refs(cfg, part, errs) < 0)
		ret = -EINVAL;
	if (ret < 0)
		report_errors(errs);
	else if (write_tls(part, &cfg->mgmt) < 0)
		cfg->mgmt.cert[0] = '\0';	/* the management port stays closed; the guests still run */
out:
	if (ret < 0)
		partition_release(part);
	free(errs);
	close(fd);
	return ret;
}

int bootconf_write(const char *path, const struct partition *part, const struct config *cfg, const char *text,
		   size_t len, struct partition *next, uint64_t *generation)
{
	struct config_file_ref refs[CONFIG_MAX_FILE_REFS];
	struct partition_file files[PARTITION_MAX_FILES];
	const struct partition_file *f;
	struct blockdev dev;
	unsigned int n, nrefs, i, j;
	uint8_t *payload = NULL;
	size_t payload_len;
	int fd, ret, slot;

	/* shrike.conf and the files it names, each once: nothing else of the old slot is carried over. */
	memset(files, 0, sizeof(files));
	snprintf(files[0].name, sizeof(files[0].name), "%s", PARTITION_CONFIG_FILE);
	files[0].data = (const uint8_t *)text;
	files[0].len = len;
	n = 1;
	nrefs = config_file_refs(cfg, refs);
	for (i = 0; i < nrefs; i++) {
		for (j = 0; j < n && strcmp(files[j].name, refs[i].name); j++)
			;
		if (j < n)
			continue;
		f = partition_find(part, refs[i].name);
		if (!f || n == PARTITION_MAX_FILES) {
			log_error("config: %s: %s", refs[i].name, f ? "too many files" : "not in the config partition");
			return f ? -E2BIG : -ENOENT;
		}
		files[n++] = *f;
	}
	ret = partition_pack(files, n, &payload, &payload_len);
	if (ret < 0) {
		log_error("config: packing the new slot: %s", strerror(-ret));
		return ret;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_error("config: %s: %s", path, strerror(-ret));
		goto out_free;
	}
	ret = blockdev_init_fd(&dev, fd);
	if (!ret)
		ret = partition_write(&dev, payload, payload_len, &slot, generation);
	if (ret < 0) {
		log_error("config: writing %s: %s; the current slot stays current", path, strerror(-ret));
		goto out;
	}
	/* Read back as the next boot would: what the files point into from now on. */
	memset(next, 0, sizeof(*next));
	ret = partition_load(&dev, next);
	if (ret < 0 || next->current != slot) {
		log_error("config: %s: reading the new slot back: %s", path, ret < 0 ? strerror(-ret) : "not current");
		partition_release(next);
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	log_info("config: %s slot %c, generation %llu written", path, 'A' + slot, (unsigned long long)*generation);
out:
	close(fd);
out_free:
	free(payload);
	return ret;
}

int bootconf_mount_data(void)
{
	char path[64];
	int ret;

	ret = find_label(BOOTCONF_DATA_LABEL, path, sizeof(path));
	if (ret < 0) {
		log_error("data: no partition labelled %s: %s", BOOTCONF_DATA_LABEL,
			  ret == -ENOENT ? "not found" : strerror(-ret));
		return ret;
	}
	if (mkdir(BOOTCONF_DATA_DIR, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		log_error("data: mkdir %s: %s", BOOTCONF_DATA_DIR, strerror(-ret));
		return ret;
	}
	/* Guests' disk images live here, so read-write; nothing on it is a host program, so noexec. */
	if (mount(path, BOOTCONF_DATA_DIR, "ext4", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, "") < 0) {
		ret = -errno;
		log_error("data: mount %s (ext4) on %s: %s", path, BOOTCONF_DATA_DIR, strerror(-ret));
		return ret;
	}
	data_mounted = true;
	log_info("data: %s mounted on %s", path, BOOTCONF_DATA_DIR);
	return 0;
}

void bootconf_unmount_data(void)
{
	if (!data_mounted)
		return;
	sync();
	if (umount(BOOTCONF_DATA_DIR) < 0) {
		log_error("data: unmount %s: %s; remounting read-only", BOOTCONF_DATA_DIR, strerror(errno));
		/* A read-only filesystem is as safe to cut power to as an unmounted one. */
		if (mount(NULL, BOOTCONF_DATA_DIR, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
			log_error("data: remount %s read-only: %s", BOOTCONF_DATA_DIR, strerror(errno));
		return;
	}
	data_mounted = false;
}
