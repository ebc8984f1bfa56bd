#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/filename.h"
#include "config/partition.h"
#include "lib/le.h"
#include "lib/sha256.h"

/*
 * Slot header, little-endian:
 *    0  magic "SHRKCONF"
 *    8  u32 format version (1)
 *   12  u32 reserved, 0
 *   16  u64 generation, >= 1
 *   24  u64 payload length
 *   32  SHA-256 of bytes 0..31 of this header followed by the payload
 *   64  zeros up to 512, ignored
 * Payload: u32 file count, u32 reserved (0), count entries of { char name[64] NUL-padded, u32 offset, u32 length }
 * and the files' data, back to back in entry order from the end of the table to the end of the payload.
 */
#define HDR_HASHED	32
#define TABLE_START	8

static uint64_t slot_offset(const struct partition *p, int slot)
{
	return (uint64_t)slot * p->slot_size;
}

static uint64_t max_payload(uint64_t slot_size)
{
	uint64_t room = slot_size - PARTITION_HEADER_SIZE;

	return room < PARTITION_MAX_PAYLOAD ? room : PARTITION_MAX_PAYLOAD;
}

static void hash(const uint8_t *hdr, const uint8_t *payload, size_t len, uint8_t digest[SHA256_DIGEST_SIZE])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, hdr, HDR_HASHED);
	sha256_update(&s, payload, len);
	sha256_final(&s, digest);
}

static int bad(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Checks the file table of a payload and fills files[]; the same rules for the reader and the writer, so nothing
 * is written that would not be read back. Returns 0 or -EINVAL with the reason in why.
 */
static int parse_payload(const uint8_t *payload, size_t len, struct partition_file *files, unsigned int *nfiles,
			 char *why, size_t why_size)
{
	uint64_t table_end, pos, off, flen;
	const uint8_t *e;
	unsigned int n, i, j;
	size_t name_len;
	bool config = false;

	if (len < TABLE_START)
		return bad(why, why_size, "payload of %zu bytes has no file table", len);
	n = le_get32(payload);
	if (n == 0 || n > PARTITION_MAX_FILES)
		return bad(why, why_size, "file count %u is not from 1 to %d", n, PARTITION_MAX_FILES);
	if (le_get32(payload + 4))
		return bad(why, why_size, "reserved table field is not zero");
	table_end = TABLE_START + (uint64_t)n * PARTITION_ENTRY_SIZE;
	if (table_end > len)
		return bad(why, why_size, "file table of %u entries is longer than the payload", n);
	pos = table_end;
	for (i = 0; i < n; i++) {
		e = payload + TABLE_START + (size_t)i * PARTITION_ENTRY_SIZE;
		name_len = strnlen((const char *)e, 64);
		if (name_len == 64 || !filename_valid((const char *)e, name_len))
			return bad(why, why_size, "file %u has an invalid name", i);
		for (j = (unsigned int)name_len; j < 64; j++)
			if (e[j])
				return bad(why, why_size, "file %u: name not zero-padded", i);
		off = le_get32(e + 64);
		flen = le_get32(e + 68);
		/* 64-bit sums of 32-bit fields cannot wrap; each file starts where the one before ended. */
		if (off != pos || off + flen > len)
			return bad(why, why_size, "file %.63s: offset %llu length %llu outside the payload or "
				   "out of order", (const char *)e, (unsigned long long)off, (unsigned long long)flen);
		pos = off + flen;
		for (j = 0; j < i; j++)
			if (!strcmp(files[j].name, (const char *)e))
				return bad(why, why_size, "file %.63s appears twice", (const char *)e);
		memcpy(files[i].name, e, name_len + 1);
		files[i].data = payload + off;
		files[i].len = (size_t)flen;
		if (!strcmp(files[i].name, PARTITION_CONFIG_FILE))
			config = true;
	}
	if (pos != len)
		return bad(why, why_size, "%llu bytes after the last file", (unsigned long long)(len - pos));
	if (!config)
		return bad(why, why_size, "no %s", PARTITION_CONFIG_FILE);
	*nfiles = n;
	return 0;
}

/*
 * Reads and checks one slot. On success *payload (malloc) holds its payload and files[] point into it. Returns 0,
 * -EINVAL for a slot that is not valid (why says why), or the device's -errno.
 */
static int read_slot(struct blockdev *dev, struct partition *p, int slot, uint8_t **payload,
		     struct partition_file *files, unsigned int *nfiles)
{
	struct partition_slot *s = &p->slots[slot];
	uint8_t hdr[PARTITION_HEADER_SIZE], digest[SHA256_DIGEST_SIZE];
	uint64_t len;
	uint8_t *buf;
	unsigned int i;
	int ret;

	*payload = NULL;
	ret = blockdev_pread(dev, hdr, sizeof(hdr), slot_offset(p, slot));
	if (ret) {
		snprintf(s->why, sizeof(s->why), "read error: %s", strerror(-ret));
		return ret;
	}
	if (memcmp(hdr, PARTITION_MAGIC, 8)) {
		for (i = 0; i < sizeof(hdr) && !hdr[i]; i++)
			;
		snprintf(s->why, sizeof(s->why), i == sizeof(hdr) ? "empty" : "no slot header (bad magic)");
		return -EINVAL;
	}
	s->generation = le_get64(hdr + 16);
	s->payload_len = len = le_get64(hdr + 24);
	if (le_get32(hdr + 8) != PARTITION_VERSION) {
		snprintf(s->why, sizeof(s->why), "format version %u, this reader knows %d", le_get32(hdr + 8),
			 PARTITION_VERSION);
		return -EINVAL;
	}
	if (le_get32(hdr + 12) || s->generation == 0) {
		snprintf(s->why, sizeof(s->why), "reserved field or generation 0 in the header");
		return -EINVAL;
	}
	if (len > max_payload(p->slot_size)) {
		snprintf(s->why, sizeof(s->why), "payload length %llu exceeds the %llu bytes a slot holds",
			 (unsigned long long)len, (unsigned long long)max_payload(p->slot_size));
		return -EINVAL;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf) {
		snprintf(s->why, sizeof(s->why), "out of memory");
		return -ENOMEM;
	}
	ret = blockdev_pread(dev, buf, (size_t)len, slot_offset(p, slot) + PARTITION_HEADER_SIZE);
	if (ret) {
		snprintf(s->why, sizeof(s->why), "read error: %s", strerror(-ret));
		goto fail;
	}
	hash(hdr, buf, (size_t)len, digest);
	if (memcmp(digest, hdr + 32, sizeof(digest))) {
		snprintf(s->why, sizeof(s->why), "checksum mismatch (torn write or corruption)");
		ret = -EINVAL;
		goto fail;
	}
	ret = parse_payload(buf, (size_t)len, files, nfiles, s->why, sizeof(s->why));
	if (ret)
		goto fail;
	s->valid = true;
	snprintf(s->why, sizeof(s->why), "valid");
	*payload = buf;
	return 0;
fail:
	free(buf);
	return ret;
}

static int slot_size(const struct blockdev *dev, uint64_t *size)
{
	/* Whole sectors, so both slots start on a sector whatever the partition's size. */
	*size = dev->size / 2 / 512 * 512;
	return *size < PARTITION_MIN_SLOT ? -EINVAL : 0;
}

int partition_load(struct blockdev *dev, struct partition *p)
{
	struct partition_file files[PARTITION_MAX_FILES];
	uint8_t *payload;
	unsigned int nfiles;
	int slot, ret, io_error = 0;

	memset(p, 0, sizeof(*p));
	p->current = -1;
	if (slot_size(dev, &p->slot_size)) {
		snprintf(p->slots[0].why, sizeof(p->slots[0].why), "partition of %llu bytes is too small",
			 (unsigned long long)dev->size);
		snprintf(p->slots[1].why, sizeof(p->slots[1].why), "%s", p->slots[0].why);
		return -EINVAL;
	}
	for (slot = 0; slot < 2; slot++) {
		ret = read_slot(dev, p, slot, &payload, files, &nfiles);
		if (ret && ret != -EINVAL)
			io_error = ret;
		if (ret)
			continue;
		if (p->current >= 0 && p->slots[slot].generation <= p->slots[p->current].generation) {
			free(payload);
			continue;
		}
		free(p->payload);
		p->current = slot;
		p->payload = payload;
		p->payload_len = (size_t)p->slots[slot].payload_len;
		memcpy(p->files, files, sizeof(files));
		p->nfiles = nfiles;
	}
	if (p->current < 0)
		return io_error ? io_error : -ENODATA;
	return 0;
}

void partition_release(struct partition *p)
{
	free(p->payload);
	p->payload = NULL;
	p->nfiles = 0;
	p->current = -1;
}

const struct partition_file *partition_find(const struct partition *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i].name, name))
			return &p->files[i];
	return NULL;
}

int partition_pack(const struct partition_file *files, unsigned int n, uint8_t **payload, size_t *len)
{
	struct partition_file check[PARTITION_MAX_FILES];
	uint64_t total = TABLE_START + (uint64_t)n * PARTITION_ENTRY_SIZE, pos;
	unsigned int i, nfiles;
	size_t name_len;
	uint8_t *buf, *e;
	char why[128];

	if (n == 0 || n > PARTITION_MAX_FILES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		name_len = strnlen(files[i].name, sizeof(files[i].name));
		if (!filename_valid(files[i].name, name_len) || files[i].len > UINT32_MAX)
			return -EINVAL;
		total += files[i].len;
		if (total > PARTITION_MAX_PAYLOAD)
			return -EFBIG;
	}
	buf = calloc(1, (size_t)total);
	if (!buf)
		return -ENOMEM;
	le_put32(buf, n);
	pos = TABLE_START + (uint64_t)n * PARTITION_ENTRY_SIZE;
	for (i = 0; i < n; i++) {
		e = buf + TABLE_START + (size_t)i * PARTITION_ENTRY_SIZE;
		memcpy(e, files[i].name, strnlen(files[i].name, sizeof(files[i].name)));
		le_put32(e + 64, (uint32_t)pos);
		le_put32(e + 68, (uint32_t)files[i].len);
		if (files[i].len)
			memcpy(buf + pos, files[i].data, files[i].len);
		pos += files[i].len;
	}
	/* Duplicates and a missing shrike.conf: the reader's own rules decide. */
	if (parse_payload(buf, (size_t)total, check, &nfiles, why, sizeof(why))) {
		free(buf);
		return -EINVAL;
	}
	*payload = buf;
	*len = (size_t)total;
	return 0;
}

int partition_write(struct blockdev *dev, const uint8_t *payload, size_t len, int *slot, uint64_t *generation)
{
	struct partition_file files[PARTITION_MAX_FILES];
	uint8_t hdr[PARTITION_HEADER_SIZE] = { 0 }, *back = NULL;
	struct partition cur;
	char why[128];
	unsigned int nfiles;
	uint64_t gen, off;
	int target, ret;

	ret = partition_load(dev, &cur);
	if (ret && ret != -ENODATA)
		goto out;
	if (len > max_payload(cur.slot_size)) {
		ret = -EFBIG;
		goto out;
	}
	if (parse_payload(payload, len, files, &nfiles, why, sizeof(why))) {
		ret = -EINVAL;
		goto out;
	}
	if (cur.current < 0) {
		target = 0;
		gen = 1;
	} else {
		target = !cur.current;
		gen = cur.slots[cur.current].generation;
		if (gen == UINT64_MAX) {
			ret = -EOVERFLOW;
			goto out;
		}
		gen++;
	}
	memcpy(hdr, PARTITION_MAGIC, 8);
	le_put32(hdr + 8, PARTITION_VERSION);
	le_put64(hdr + 16, gen);
	le_put64(hdr + 24, len);
	hash(hdr, payload, len, hdr + 32);

	/*
	 * The hash covers the header and the payload, so a slot is valid only once both are complete, in whatever
	 * order the disk persisted them. Payload first and a barrier before the header anyway: a header never
	 * describes a payload that is not on the disk yet, so even a weaker check would not accept a torn slot.
	 */
	off = slot_offset(&cur, target);
	ret = blockdev_pwrite(dev, payload, len, off + PARTITION_HEADER_SIZE);
	if (!ret)
		ret = blockdev_fsync(dev);
	if (!ret)
		ret = blockdev_pwrite(dev, hdr, sizeof(hdr), off);
	if (!ret)
		ret = blockdev_fsync(dev);
	if (ret)
		goto out;

	/* Only what reads back intact counts as written. */
	back = malloc(sizeof(hdr) + len);
	if (!back) {
		ret = -ENOMEM;
		goto out;
	}
	ret = blockdev_pread(dev, back, sizeof(hdr) + len, off);
	if (ret)
		goto out;
	if (memcmp(back, hdr, sizeof(hdr)) || memcmp(back + sizeof(hdr), payload, len)) {
		ret = -EIO;
		goto out;
	}
	if (slot)
		*slot = target;
	if (generation)
		*generation = gen;
out:
	free(back);
	partition_release(&cur);
	return ret;
}
