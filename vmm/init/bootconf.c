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

static uint64_t host_memory(void)
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

static int write_file(const char *dir, const struct partition_file *f)
{
	char path[256];
	size_t done = 0;
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (done < f->len) {
		n = write(fd, f->data + done, f->len - done);
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
		ret = write_file(BOOTCONF_TLS_DIR, f);
		if (ret < 0) {
			log_error("config: writing %s/%s: %s", BOOTCONF_TLS_DIR, names[i], strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int bootconf_load(struct config *cfg, char **text, size_t *text_len)
{
	struct partition part = { 0 };
	const struct partition_file *f;
	struct config_errors *errs = NULL;
	struct blockdev dev;
	char path[64];
	int fd = -1, ret, i;

	*text = NULL;
	*text_len = 0;

	ret = find_label(BOOTCONF_CONFIG_LABEL, path, sizeof(path));
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
	ret = partition_load(&dev, &part);
	if (ret < 0) {
		log_error("config: %s: no valid slot", path);
		for (i = 0; i < 2; i++)
			log_error("config: slot %c: %s", 'A' + i, part.slots[i].why);
		goto out;
	}
	log_info("config: %s slot %c, generation %llu (slot %c: %s)", path, 'A' + part.current,
		 (unsigned long long)part.slots[part.current].generation, 'B' - part.current,
		 part.slots[1 - part.current].why);
	f = partition_find(&part, PARTITION_CONFIG_FILE);
	if (!f) {
		/* partition_load() does not call a slot without it valid; this is a second line of defence. */
		log_error("config: slot %c has no %s", 'A' + part.current, PARTITION_CONFIG_FILE);
		ret = -ENOENT;
		goto out;
	}
	errs = calloc(1, sizeof(*errs));
	if (!errs) {
		ret = -ENOMEM;
		log_error("config: out of memory");
		goto out;
	}
	ret = config_load(PARTITION_CONFIG_FILE, (const char *)f->data, f->len, host_memory(), cfg, errs);
	if (ret < 0)
		report_errors(errs);
	else if (write_tls(&part, &cfg->mgmt) < 0)
		cfg->mgmt.cert[0] = '\0';	/* the management port stays closed; the guests still run */
	/* The text as written, for the management API: the parsed struct has no comments or order. */
	if (!ret) {
		*text = malloc(f->len + 1);
		if (*text) {
			memcpy(*text, f->data, f->len);
			(*text)[f->len] = '\0';
			*text_len = f->len;
		}
	}
out:
	free(errs);
	partition_release(&part);
	close(fd);
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
