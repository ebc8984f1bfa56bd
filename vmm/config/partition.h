#ifndef SHRIKE_CONFIG_PARTITION_H
#define SHRIKE_CONFIG_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/blockdev.h"

/*
 * The config partition (docs/config-partition.md): two slots, each half of the partition, each a 512-byte header
 * and a payload of named files. The valid slot with the highest generation is current. A write goes to the other
 * slot with the next generation and never touches the current one, so a power cut at any point leaves either the
 * old or the new configuration, whole.
 */
#define PARTITION_MAGIC		"SHRKCONF"
#define PARTITION_VERSION	1
#define PARTITION_HEADER_SIZE	512		/* one sector; the fields use the first 64 bytes */
#define PARTITION_MIN_SLOT	1024
#define PARTITION_MAX_PAYLOAD	(16u << 20)	/* whatever the partition size, what the PID 1 will read */
#define PARTITION_MAX_FILES	32
#define PARTITION_ENTRY_SIZE	72		/* name[64], offset, length */
#define PARTITION_CONFIG_FILE	"shrike.conf"	/* a slot without it is not valid */

struct partition_slot {
	bool valid;
	uint64_t generation;		/* what the header says, when it got as far as reading it */
	uint64_t payload_len;
	char why[128];			/* why not valid: "empty", "checksum mismatch", ... */
};

struct partition_file {
	char name[64];
	const uint8_t *data;
	size_t len;
};

struct partition {
	uint64_t slot_size;
	struct partition_slot slots[2];
	int current;			/* 0 (slot A), 1 (slot B) or -1 */
	uint8_t *payload;		/* the current slot's payload; files[] point into it */
	size_t payload_len;
	struct partition_file files[PARTITION_MAX_FILES];
	unsigned int nfiles;
};

/*
 * Reads both slots and takes the valid one with the highest generation (slot A on a tie, which only a copy made
 * by hand can produce). Returns 0; -ENODATA when both slots could be read and neither is valid (the PID 1's safe
 * state), -EIO or another -errno when a slot could not be read and the other is not valid either, -EINVAL when the
 * device is too small for two slots. slots[] says why for each slot in every case. partition_release() after.
 */
int partition_load(struct blockdev *dev, struct partition *p);
void partition_release(struct partition *p);
const struct partition_file *partition_find(const struct partition *p, const char *name);

/* Builds a payload from files (names unique and valid, shrike.conf among them). Returns 0 or -errno; free(). */
int partition_pack(const struct partition_file *files, unsigned int n, uint8_t **payload, size_t *len);

/*
 * Writes payload into the slot that is not current with the current generation + 1 (slot A, generation 1 on a
 * partition without a valid slot), syncs, reads it back and checks it. Returns 0 and the slot and generation
 * written, or -errno: the current slot is then still current.
 */
int partition_write(struct blockdev *dev, const uint8_t *payload, size_t len, int *slot, uint64_t *generation);

#endif
