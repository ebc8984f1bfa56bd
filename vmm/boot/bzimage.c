#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "boot/bzimage.h"
#include "boot/e820.h"
#include "lib/le.h"

/* Offsets into the boot sector / zero page (struct boot_params and its setup_header). */
#define OFF_EXT_RAMDISK_IMAGE	0x0c0
#define OFF_EXT_CMD_LINE_PTR	0x0c8
#define OFF_E820_ENTRIES	0x1e8
#define OFF_SETUP_SECTS		0x1f1
#define OFF_SYSSIZE		0x1f4
#define OFF_BOOT_FLAG		0x1fe
#define OFF_JUMP_END		0x201	/* second byte of the jump at 0x200: the header ends 0x202 + this */
#define OFF_HEADER		0x202
#define OFF_VERSION		0x206
#define OFF_TYPE_OF_LOADER	0x210
#define OFF_LOADFLAGS		0x211
#define OFF_RAMDISK_IMAGE	0x218
#define OFF_RAMDISK_SIZE	0x21c
#define OFF_CMD_LINE_PTR	0x228
#define OFF_INITRD_ADDR_MAX	0x22c
#define OFF_XLOADFLAGS		0x236
#define OFF_CMDLINE_SIZE	0x238
#define OFF_PREF_ADDRESS	0x258
#define OFF_INIT_SIZE		0x260
#define HEADER_MIN_END		0x264	/* through init_size, all a 2.12 header has that we read */
#define OFF_E820_TABLE		0x2d0
#define E820_TABLE_SLOTS	128
#define E820_ENTRY_SIZE		20

#define BOOT_FLAG_MAGIC		0xaa55
#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x01
/* 2.12 added xloadflags, without which nobody can say the image has a 64-bit entry point. */
#define MIN_VERSION		0x020c
#define SETUP_SECTS_DEFAULT	4
#define SECTOR			512
/* The loader type for "a boot loader with no assigned ID". */
#define LOADER_UNDEFINED	0xff
#define PAGE_SIZE		4096ULL

static int bad(int ret, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int bad(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

int bzimage_parse(const uint8_t *image, size_t len, size_t cmdline_len, struct bzimage *bz, char *err,
		  size_t errlen)
{
	unsigned int setup_sects;
	uint64_t syssize, pref;

	memset(bz, 0, sizeof(*bz));
	if (len < HEADER_MIN_END)
		return bad(-EINVAL, err, errlen, "not a bzImage (%zu bytes, too short for a setup header)", len);
	if (le_get16(image + OFF_BOOT_FLAG) != BOOT_FLAG_MAGIC)
		return bad(-EINVAL, err, errlen, "not a bzImage (boot_flag is 0x%04x, not 0xaa55)",
			   le_get16(image + OFF_BOOT_FLAG));
	if (memcmp(image + OFF_HEADER, "HdrS", 4))
		return bad(-EINVAL, err, errlen, "not a bzImage (no HdrS magic)");
	bz->version = le_get16(image + OFF_VERSION);
	if (bz->version < MIN_VERSION)
		return bad(-EINVAL, err, errlen, "boot protocol version %u.%02u is too old (need 2.12 or later)",
			   bz->version >> 8, bz->version & 0xff);
	if (!(le_get16(image + OFF_XLOADFLAGS) & XLF_KERNEL_64))
		return bad(-EINVAL, err, errlen, "xloadflags lacks XLF_KERNEL_64 (no 64-bit entry point)");
	if (!(image[OFF_LOADFLAGS] & LOADED_HIGH))
		return bad(-EINVAL, err, errlen, "loadflags lacks LOADED_HIGH (a zImage, not a bzImage)");

	/* setup_sects 0 means 4, from the days before the field existed. */
	setup_sects = image[OFF_SETUP_SECTS] ? image[OFF_SETUP_SECTS] : SETUP_SECTS_DEFAULT;
	bz->setup_size = ((size_t)setup_sects + 1) * SECTOR;
	if (bz->setup_size >= len)
		return bad(-EINVAL, err, errlen, "setup_sects %u puts the kernel at byte %zu, past the end (%zu bytes)",
			   setup_sects, bz->setup_size, len);
	bz->kernel_size = len - bz->setup_size;
	syssize = (uint64_t)le_get32(image + OFF_SYSSIZE) * 16;
	if (!syssize || syssize > bz->kernel_size)
		return bad(-EINVAL, err, errlen, "truncated: syssize says %llu bytes of kernel, the file has %zu",
			   (unsigned long long)syssize, bz->kernel_size);

	bz->cmdline_size = le_get32(image + OFF_CMDLINE_SIZE);
	if (cmdline_len > bz->cmdline_size)
		return bad(-E2BIG, err, errlen, "command line of %zu bytes is longer than the kernel's cmdline_size %u",
			   cmdline_len, bz->cmdline_size);
	bz->initrd_addr_max = le_get32(image + OFF_INITRD_ADDR_MAX);
	bz->init_size = le_get32(image + OFF_INIT_SIZE);
	/* A kernel that is not relocatable decompresses at pref_address whatever its load address. */
	pref = le_get64(image + OFF_PREF_ADDRESS);
	if (pref > UINT64_MAX - bz->init_size - BOOT_KERNEL_ADDR)
		return bad(-EINVAL, err, errlen, "pref_address 0x%llx is out of range", (unsigned long long)pref);
	bz->kernel_end = (pref > BOOT_KERNEL_ADDR ? pref : BOOT_KERNEL_ADDR) + bz->init_size;
	if (bz->kernel_end < BOOT_KERNEL_ADDR + bz->kernel_size)
		bz->kernel_end = BOOT_KERNEL_ADDR + bz->kernel_size;

	bz->header_end = OFF_HEADER + (size_t)image[OFF_JUMP_END];
	if (bz->header_end > bz->setup_size)
		bz->header_end = bz->setup_size;
	if (bz->header_end > OFF_E820_TABLE)
		bz->header_end = OFF_E820_TABLE;
	return 0;
}

int bzimage_place_initrd(const struct bzimage *bz, uint64_t low_ram, uint64_t size, uint64_t *addr, char *err,
			 size_t errlen)
{
	uint64_t top = low_ram;

	/* initrd_addr_max is the last byte allowed, so the initrd may end one byte above it. */
	if ((uint64_t)bz->initrd_addr_max + 1 < top)
		top = (uint64_t)bz->initrd_addr_max + 1;
	if (size > top || ((top - size) & ~(PAGE_SIZE - 1)) < bz->kernel_end)
		return bad(-ENOMEM, err, errlen,
			   "initrd of %llu bytes does not fit between the kernel (ends at 0x%llx) and 0x%llx",
			   (unsigned long long)size, (unsigned long long)bz->kernel_end, (unsigned long long)top);
	*addr = (top - size) & ~(PAGE_SIZE - 1);
	return 0;
}

void bzimage_zero_page(uint8_t zp[BOOT_ZERO_PAGE_SIZE], const uint8_t *image, const struct bzimage *bz,
		       const struct boot_layout *layout)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int i, n;
	uint8_t *e;

	memset(zp, 0, BOOT_ZERO_PAGE_SIZE);
	memcpy(zp + OFF_SETUP_SECTS, image + OFF_SETUP_SECTS, bz->header_end - OFF_SETUP_SECTS);
	zp[OFF_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	le_put32(zp + OFF_CMD_LINE_PTR, (uint32_t)layout->cmdline_addr);
	le_put32(zp + OFF_EXT_CMD_LINE_PTR, (uint32_t)(layout->cmdline_addr >> 32));
	le_put32(zp + OFF_RAMDISK_IMAGE, (uint32_t)layout->initrd_addr);
	le_put32(zp + OFF_EXT_RAMDISK_IMAGE, (uint32_t)(layout->initrd_addr >> 32));
	le_put32(zp + OFF_RAMDISK_SIZE, layout->initrd_size);

	n = e820_build(map, layout->low_ram, layout->high_ram);
	zp[OFF_E820_ENTRIES] = (uint8_t)n;
	for (i = 0; i < n && i < E820_TABLE_SLOTS; i++) {
		e = zp + OFF_E820_TABLE + i * E820_ENTRY_SIZE;
		le_put64(e, map[i].addr);
		le_put64(e + 8, map[i].size);
		le_put32(e + 16, map[i].type);
	}
}
