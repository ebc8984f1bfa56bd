/* unit-sources: vmm/config/partition.c vmm/config/blockdev.c vmm/config/filename.c vmm/lib/sha256.c */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/partition.h"
#include "lib/le.h"
#include "lib/sha256.h"

/*
 * The config partition on a simulated disk that can lose power: only the first `budget` bytes (or `calls` pwrite
 * calls) of a write sequence reach it, the rest is silently dropped, as after a power cut, and the next "boot"
 * loads whatever is on it. The slots are 2 KiB here instead of the image's 2 MiB so that every byte of the write
 * sequence and every bit of both slots can be tried in a few seconds under ASan; the format has no size-dependent
 * paths besides the bounds that other cases cover.
 */
#define SLOT 2048
#define DISK (2 * SLOT)

struct simdisk {
	uint8_t data[DISK];
	long budget;		/* bytes that still reach the disk, -1: all */
	long calls;		/* pwrite calls that still reach the disk, -1: all */
	int fail_fsync;		/* fsync returns -EIO */
};

static int sim_pread(struct blockdev *dev, void *buf, size_t len, uint64_t off)
{
	struct simdisk *d = dev->priv;

	memcpy(buf, d->data + off, len);
	return 0;
}

static int sim_pwrite(struct blockdev *dev, const void *buf, size_t len, uint64_t off)
{
	struct simdisk *d = dev->priv;
	size_t n = len;

	if (d->calls == 0)
		return 0;
	if (d->calls > 0)
		d->calls--;
	if (d->budget >= 0) {
		if ((size_t)d->budget < n)
			n = (size_t)d->budget;
		d->budget -= (long)n;
	}
	memcpy(d->data + off, buf, n);
	return 0;
}

static int sim_fsync(struct blockdev *dev)
{
	struct simdisk *d = dev->priv;

	return d->fail_fsync ? -EIO : 0;
}

static const struct blockdev_ops sim_ops = { sim_pread, sim_pwrite, sim_fsync };

static struct simdisk disk;
static struct blockdev dev = { .ops = &sim_ops, .size = DISK, .fd = -1, .priv = &disk };

static void disk_reset(void)
{
	memset(disk.data, 0, sizeof(disk.data));
	disk.budget = -1;
	disk.calls = -1;
	disk.fail_fsync = 0;
}

static const char old_conf[] =
	"[guest web]\nkernel = demo/guest-bzImage\ninitrd = demo/guest-initrd.cpio.gz\nmemory = 128M\n"
	"autostart = yes\n";
static const char new_conf[] =
	"[guest web]\nkernel = demo/guest-bzImage\ninitrd = demo/guest-initrd.cpio.gz\nmemory = 256M\n"
	"autostart = yes\n\n[guest ticker]\nkernel = demo/guest-bzImage\ncmdline = shrike.demo=ticker\n";
static const char stale_conf[] = "[guest stale]\nkernel = k\n";

/* A payload of shrike.conf (text) and a small user-data file. */
static int make_payload(const char *text, uint8_t **payload, size_t *len)
{
	struct partition_file f[2] = { { .name = "shrike.conf" }, { .name = "web.yaml" } };

	f[0].data = (const uint8_t *)text;
	f[0].len = strlen(text);
	f[1].data = (const uint8_t *)"#cloud-config\n";
	f[1].len = 14;
	return partition_pack(f, 2, payload, len);
}

static int write_text(const char *text, int *slot, uint64_t *gen)
{
	uint8_t *payload;
	size_t len;
	int ret;

	ret = make_payload(text, &payload, &len);
	if (ret)
		return ret;
	ret = partition_write(&dev, payload, len, slot, gen);
	free(payload);
	return ret;
}

/* What a boot sees: 'o' the old config, 'n' the new one, '-' none, '?' something else (a mix). */
static char boot(const char *old, uint64_t old_gen, const char *new, uint64_t new_gen)
{
	const struct partition_file *f;
	struct partition p;
	char seen = '?';
	int ret;

	ret = partition_load(&dev, &p);
	if (ret)
		return '-';
	f = partition_find(&p, "shrike.conf");
	if (f && p.nfiles == 2 && partition_find(&p, "web.yaml")) {
		if (f->len == strlen(old) && !memcmp(f->data, old, f->len) && p.slots[p.current].generation == old_gen)
			seen = 'o';
		else if (f->len == strlen(new) && !memcmp(f->data, new, f->len) &&
			 p.slots[p.current].generation == new_gen)
			seen = 'n';
	}
	partition_release(&p);
	return seen;
}

static const char *test_empty_is_safe_state(void)
{
	struct partition p;

	disk_reset();
	CHECK_INT(partition_load(&dev, &p), -ENODATA);
	CHECK_INT(p.current, -1);
	CHECK_STR(p.slots[0].why, "empty");
	CHECK_STR(p.slots[1].why, "empty");
	partition_release(&p);
	memset(disk.data + SLOT, 0xff, 8);
	CHECK_INT(partition_load(&dev, &p), -ENODATA);
	CHECK_STR(p.slots[1].why, "no slot header (bad magic)");
	partition_release(&p);
	return NULL;
}

static const char *test_generations_alternate(void)
{
	uint8_t copy[DISK];
	uint64_t gen;
	int slot;

	disk_reset();
	CHECK_INT(write_text(old_conf, &slot, &gen), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(gen, 1);
	memcpy(copy, disk.data, SLOT);
	CHECK_INT(write_text(new_conf, &slot, &gen), 0);
	CHECK_INT(slot, 1);
	CHECK_INT(gen, 2);
	CHECK(!memcmp(copy, disk.data, SLOT));		/* the old slot is never touched */
	CHECK_INT(boot(old_conf, 1, new_conf, 2), 'n');
	memcpy(copy, disk.data + SLOT, SLOT);
	CHECK_INT(write_text(old_conf, &slot, &gen), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(gen, 3);
	CHECK(!memcmp(copy, disk.data + SLOT, SLOT));
	CHECK_INT(boot(new_conf, 2, old_conf, 3), 'n');
	return NULL;
}

static const char *test_write_failures_keep_old(void)
{
	uint64_t gen;
	int slot;

	disk_reset();
	CHECK_INT(write_text(old_conf, &slot, &gen), 0);
	disk.fail_fsync = 1;
	CHECK_INT(write_text(new_conf, &slot, &gen), -EIO);
	disk.fail_fsync = 0;
	CHECK_INT(boot(old_conf, 1, new_conf, 2), 'o');
	/* a disk that acknowledges writes it drops: the read-back check notices */
	disk.calls = 0;
	CHECK_INT(write_text(new_conf, &slot, &gen), -EIO);
	disk.calls = -1;
	CHECK_INT(boot(old_conf, 1, new_conf, 2), 'o');
	return NULL;
}

/* Writes a slot header by hand, with a correct hash, to reach the checks behind it. */
static void raw_slot(int slot, uint64_t gen, uint64_t claimed_len, const uint8_t *payload, size_t len)
{
	struct sha256 s;
	uint8_t *h = disk.data + slot * SLOT;

	memset(h, 0, SLOT);
	memcpy(h, PARTITION_MAGIC, 8);
	le_put32(h + 8, PARTITION_VERSION);
	le_put64(h + 16, gen);
	le_put64(h + 24, claimed_len);
	memcpy(h + PARTITION_HEADER_SIZE, payload, len);
	sha256_init(&s);
	sha256_update(&s, h, 32);
	sha256_update(&s, payload, len);
	sha256_final(&s, h + 32);
}

static const char *test_hostile_headers(void)
{
	struct partition p;
	uint8_t *payload, bad[200];
	size_t len;
	uint64_t gen;
	int slot;

	disk_reset();
	CHECK_INT(make_payload(old_conf, &payload, &len), 0);
	/* lengths beyond the slot, up to the largest u64 */
	raw_slot(0, 1, SLOT, payload, 0);
	raw_slot(1, 1, UINT64_MAX, payload, 0);
	CHECK_INT(partition_load(&dev, &p), -ENODATA);
	CHECK(strstr(p.slots[0].why, "exceeds"));
	CHECK(strstr(p.slots[1].why, "exceeds"));
	partition_release(&p);
	/* a file whose offset + length wraps 32 bits, and one out of order */
	memcpy(bad, payload, sizeof(bad));
	le_put32(bad + 8 + 64, 0xffffff00);
	le_put32(bad + 8 + 68, 0x200);
	raw_slot(0, 1, sizeof(bad), bad, sizeof(bad));
	memcpy(bad, payload, sizeof(bad));
	memcpy(bad + 8, "../etc/passwd", 14);
	raw_slot(1, 1, sizeof(bad), bad, sizeof(bad));
	CHECK_INT(partition_load(&dev, &p), -ENODATA);
	CHECK(strstr(p.slots[0].why, "outside the payload"));
	CHECK(strstr(p.slots[1].why, "invalid name"));
	partition_release(&p);
	/* the same generation in both slots: slot A */
	raw_slot(0, 7, len, payload, len);
	raw_slot(1, 7, len, payload, len);
	CHECK_INT(partition_load(&dev, &p), 0);
	CHECK_INT(p.current, 0);
	partition_release(&p);
	/* the last generation there is: refuse to wrap to 0 */
	raw_slot(1, UINT64_MAX, len, payload, len);
	CHECK_INT(partition_write(&dev, payload, len, &slot, &gen), -EOVERFLOW);
	free(payload);
	/* a device too small for two slots */
	dev.size = 2 * PARTITION_MIN_SLOT - 1;
	CHECK_INT(partition_load(&dev, &p), -EINVAL);
	dev.size = DISK;
	return NULL;
}

static const char *test_pack_rejects(void)
{
	struct partition_file f[2] = { { .name = "shrike.conf" }, { .name = "x" } };
	static const char *const names[] = { "../x", "a/b", ".hidden", "a b", "shrike.conf", "" };
	uint8_t *payload;
	size_t len;
	unsigned int i;

	f[0].data = f[1].data = (const uint8_t *)"";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(f[1].name, sizeof(f[1].name), "%s", names[i]);
		CHECK_INT(partition_pack(f, 2, &payload, &len), -EINVAL);
	}
	snprintf(f[0].name, sizeof(f[0].name), "other.conf");
	snprintf(f[1].name, sizeof(f[1].name), "x");
	CHECK_INT(partition_pack(f, 2, &payload, &len), -EINVAL);	/* no shrike.conf */
	return NULL;
}

/*
 * The power-loss sweep. Three starting states: the old config in A with B empty, the old config in B with a stale
 * older one in A (so the torn slot mixes two real generations), and the old config in A with garbage in B. For
 * each, the new config's write is cut after every pwrite call and after every byte; then, with both written,
 * every bit of both slots is flipped in turn. Every boot must see the old or the new config, whole.
 */
static unsigned long cases;

static const char *sweep(int start)
{
	uint8_t before[DISK], *payload;
	uint64_t old_gen = 1, new_gen, gen;
	size_t len, total, bit;
	int slot, old_slot = 0, new_slot;
	long cut;
	char seen;

	disk_reset();
	if (start == 1) {
		CHECK_INT(write_text(stale_conf, &slot, &gen), 0);
		old_slot = 1;
		old_gen = 2;
	}
	CHECK_INT(write_text(old_conf, &slot, &gen), 0);
	CHECK_INT(slot, old_slot);
	if (start == 2) {
		for (bit = 0; bit < SLOT; bit++)
			disk.data[SLOT + bit] = (uint8_t)(bit * 131 + 7);
	}
	new_gen = old_gen + 1;
	new_slot = !old_slot;
	memcpy(before, disk.data, DISK);
	CHECK_INT(make_payload(new_conf, &payload, &len), 0);
	free(payload);
	total = len + PARTITION_HEADER_SIZE;

	/* cut after N pwrite calls (payload, header) */
	for (cut = 0; cut <= 2; cut++, cases++) {
		memcpy(disk.data, before, DISK);
		disk.calls = cut;
		write_text(new_conf, &slot, &gen);
		disk.calls = -1;
		seen = boot(old_conf, old_gen, new_conf, new_gen);
		if (seen != (cut == 2 ? 'n' : 'o'))
			return check_fail(__FILE__, __LINE__, "start %d, cut after %ld calls: boot saw '%c'", start, cut,
					  seen);
	}
	/* cut after N bytes of the write sequence */
	for (cut = 0; cut <= (long)total; cut++, cases++) {
		memcpy(disk.data, before, DISK);
		disk.budget = cut;
		write_text(new_conf, &slot, &gen);
		disk.budget = -1;
		if (memcmp(disk.data + old_slot * SLOT, before + old_slot * SLOT, SLOT))
			return check_fail(__FILE__, __LINE__, "start %d, cut at %ld: the old slot changed", start, cut);
		seen = boot(old_conf, old_gen, new_conf, new_gen);
		if (seen != 'o' && seen != 'n')
			return check_fail(__FILE__, __LINE__, "start %d, cut at byte %ld: boot saw '%c'", start, cut,
					  seen);
		if (cut == (long)total && seen != 'n')
			return check_fail(__FILE__, __LINE__, "start %d: a complete write was not loaded", start);
	}
	/* both written: every single-bit flip in either slot */
	memcpy(disk.data, before, DISK);
	CHECK_INT(write_text(new_conf, &slot, &gen), 0);
	CHECK_INT(slot, new_slot);
	memcpy(before, disk.data, DISK);
	for (bit = 0; bit < DISK * 8; bit++, cases++) {
		disk.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		seen = boot(old_conf, old_gen, new_conf, new_gen);
		disk.data[bit / 8] = before[bit / 8];
		if (seen != 'o' && seen != 'n')
			return check_fail(__FILE__, __LINE__, "start %d, bit %zu flipped: boot saw '%c'", start, bit,
					  seen);
		/* a flip in what the new slot's hash covers must make the boot fall back to the old config */
		if ((int)(bit / 8 / SLOT) == new_slot && (bit / 8 % SLOT < 64 ||
		    (bit / 8 % SLOT >= PARTITION_HEADER_SIZE && bit / 8 % SLOT < total)) && seen != 'o')
			return check_fail(__FILE__, __LINE__, "start %d, bit %zu flipped: the damaged new slot was used",
					  start, bit);
	}
	return NULL;
}

static const char *test_power_loss(void)
{
	const char *failure;
	int start;

	for (start = 0; start < 3; start++) {
		failure = sweep(start);
		if (failure)
			return failure;
	}
	printf("# power-loss cases: %lu (cuts by call and by byte, single-bit flips; %d-byte slots)\n", cases, SLOT);
	return NULL;
}

int main(void)
{
	static const struct check_case cases_[] = {
		{ "partition-empty-is-safe-state", test_empty_is_safe_state },
		{ "partition-generations-alternate", test_generations_alternate },
		{ "partition-write-failures-keep-old", test_write_failures_keep_old },
		{ "partition-hostile-headers", test_hostile_headers },
		{ "partition-pack-rejects", test_pack_rejects },
		{ "partition-power-loss", test_power_loss },
	};

	return check_main(cases_, sizeof(cases_) / sizeof(cases_[0]));
}
