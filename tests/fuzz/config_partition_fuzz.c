/* fuzz-sources: vmm/config/partition.c vmm/config/blockdev.c vmm/config/filename.c vmm/lib/sha256.c */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/partition.h"
#include "lib/le.h"
#include "lib/sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mem_pread(struct blockdev *dev, void *buf, size_t len, uint64_t off)
{
	memcpy(buf, (const uint8_t *)dev->priv + off, len);
	return 0;
}

static int mem_pwrite(struct blockdev *dev, const void *buf, size_t len, uint64_t off)
{
	memcpy((uint8_t *)dev->priv + off, buf, len);
	return 0;
}

static int mem_fsync(struct blockdev *dev)
{
	(void)dev;
	return 0;
}

static const struct blockdev_ops mem_ops = { mem_pread, mem_pwrite, mem_fsync };

/*
 * Random bytes almost never carry a right SHA-256, which would leave the file table parser unfuzzed: slot A gets
 * its hash fixed up whenever its header is otherwise plausible, slot B is left as it came.
 */
static void fix_slot_a(uint8_t *img, size_t size)
{
	uint64_t slot = size / 2 / 512 * 512, len;
	struct sha256 s;

	if (slot < PARTITION_MIN_SLOT || memcmp(img, PARTITION_MAGIC, 8))
		return;
	len = le_get64(img + 24);
	if (len > slot - PARTITION_HEADER_SIZE)
		return;
	sha256_init(&s);
	sha256_update(&s, img, 32);
	sha256_update(&s, img + PARTITION_HEADER_SIZE, (size_t)len);
	sha256_final(&s, img + 32);
}

/*
 * The reader on an arbitrary partition image, then the writer on top of it: whatever the image held, a write
 * that succeeds is what the next load returns, with the next generation.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char conf[] = "[guest web]\nkernel = k\n";
	struct partition_file f = { .name = PARTITION_CONFIG_FILE, .data = (const uint8_t *)conf,
				    .len = sizeof(conf) - 1 };
	const struct partition_file *got;
	struct blockdev dev = { .ops = &mem_ops, .size = size, .fd = -1 };
	struct partition p;
	uint64_t old_gen = 0, gen;
	uint8_t *payload;
	size_t len;
	unsigned int i;
	int ret, slot;

	if (size > (1 << 20))
		return 0;
	dev.priv = malloc(size ? size : 1);
	if (!dev.priv)
		return 0;
	memcpy(dev.priv, data, size);
	fix_slot_a(dev.priv, size);
	ret = partition_load(&dev, &p);
	if (ret == 0) {
		if (p.current < 0 || !p.slots[p.current].valid || !partition_find(&p, PARTITION_CONFIG_FILE))
			__builtin_trap();
		for (i = 0; i < p.nfiles; i++)
			if (p.files[i].data < p.payload || p.files[i].len > p.payload_len ||
			    (size_t)(p.files[i].data - p.payload) > p.payload_len - p.files[i].len)
				__builtin_trap();
		old_gen = p.slots[p.current].generation;
	}
	partition_release(&p);
	if (partition_pack(&f, 1, &payload, &len))
		__builtin_trap();
	ret = partition_write(&dev, payload, len, &slot, &gen);
	if (ret == 0) {
		if (gen != old_gen + 1 || partition_load(&dev, &p) || p.current != slot ||
		    p.slots[slot].generation != gen)
			__builtin_trap();
		got = partition_find(&p, PARTITION_CONFIG_FILE);
		if (!got || got->len != f.len || memcmp(got->data, conf, f.len))
			__builtin_trap();
		partition_release(&p);
	} else if (ret != -EINVAL && ret != -EOVERFLOW) {
		__builtin_trap();	/* a memory device has no I/O errors */
	}
	free(payload);
	free(dev.priv);
	return 0;
}
