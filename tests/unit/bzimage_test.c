/* unit-sources: vmm/boot/bzimage.c vmm/boot/e820.c */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "boot/bzimage.h"
#include "boot/e820.h"
#include "kvm/vm.h"
#include "lib/le.h"

/* A synthetic bzImage: 4 setup sectors + boot sector, then KERNEL_BYTES of "kernel", header as Linux 6.x has it. */
#define SETUP_SECTS	4
#define SETUP_BYTES	((SETUP_SECTS + 1) * 512)
#define KERNEL_BYTES	8192
#define IMAGE_BYTES	(SETUP_BYTES + KERNEL_BYTES)
#define INIT_SIZE	0x800000
#define MIB		0x100000ULL

static uint8_t image[IMAGE_BYTES];
static char err[160];

static void make_image(void)
{
	memset(image, 0, sizeof(image));
	image[0x1f1] = SETUP_SECTS;
	le_put32(image + 0x1f4, KERNEL_BYTES / 16);	/* syssize */
	le_put16(image + 0x1fe, 0xaa55);
	image[0x200] = 0xeb;				/* jmp over the header to 0x26c */
	image[0x201] = 0x6a;
	memcpy(image + 0x202, "HdrS", 4);
	le_put16(image + 0x206, 0x020f);
	image[0x211] = 0x01;				/* LOADED_HIGH */
	le_put32(image + 0x22c, 0x7fffffff);		/* initrd_addr_max */
	le_put32(image + 0x230, 0x200000);			/* kernel_alignment */
	le_put16(image + 0x236, 0x0003);			/* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	le_put32(image + 0x238, 2047);			/* cmdline_size */
	le_put32(image + 0x258, 0x1000000);		/* pref_address */
	le_put32(image + 0x260, INIT_SIZE);
	memset(image + SETUP_BYTES, 0x90, KERNEL_BYTES);
}

static int parse(size_t len, size_t cmdline_len, struct bzimage *bz)
{
	err[0] = '\0';
	return bzimage_parse(image, len, cmdline_len, bz, err, sizeof(err));
}

static const char *test_valid(void)
{
	struct bzimage bz;

	make_image();
	CHECK_INT(parse(IMAGE_BYTES, 100, &bz), 0);
	CHECK_INT(bz.setup_size, SETUP_BYTES);
	CHECK_INT(bz.kernel_size, KERNEL_BYTES);
	CHECK_INT(bz.version, 0x020f);
	CHECK_INT(bz.cmdline_size, 2047);
	CHECK_INT(bz.initrd_addr_max, 0x7fffffff);
	/* not relocatable here: decompressed at pref_address (16 MiB) */
	CHECK_INT(bz.kernel_end, 0x1000000 + INIT_SIZE);
	CHECK_INT(bz.header_end, 0x26c);
	return NULL;
}

static const char *test_setup_sects_zero_means_four(void)
{
	struct bzimage bz;

	make_image();
	image[0x1f1] = 0;
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), 0);
	CHECK_INT(bz.setup_size, 5 * 512);
	return NULL;
}

static const char *test_truncated_header(void)
{
	struct bzimage bz;

	make_image();
	CHECK_INT(parse(0x200, 0, &bz), -EINVAL);
	CHECK(strstr(err, "too short for a setup header"));
	CHECK_INT(parse(0, 0, &bz), -EINVAL);
	return NULL;
}

static const char *test_truncated_kernel(void)
{
	struct bzimage bz;

	make_image();
	CHECK_INT(parse(IMAGE_BYTES - 16, 0, &bz), -EINVAL);
	CHECK(strstr(err, "syssize"));
	return NULL;
}

static const char *test_bad_boot_flag(void)
{
	struct bzimage bz;

	make_image();
	le_put16(image + 0x1fe, 0x55aa);
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), -EINVAL);
	CHECK_STR(err, "not a bzImage (boot_flag is 0x55aa, not 0xaa55)");
	return NULL;
}

static const char *test_bad_magic(void)
{
	struct bzimage bz;

	make_image();
	memcpy(image + 0x202, "HdrZ", 4);
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), -EINVAL);
	CHECK_STR(err, "not a bzImage (no HdrS magic)");
	return NULL;
}

static const char *test_old_version(void)
{
	struct bzimage bz;

	make_image();
	le_put16(image + 0x206, 0x020b);
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), -EINVAL);
	CHECK_STR(err, "boot protocol version 2.11 is too old (need 2.12 or later)");
	return NULL;
}

static const char *test_no_64bit_entry(void)
{
	struct bzimage bz;

	make_image();
	le_put16(image + 0x236, 0x0002);
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), -EINVAL);
	CHECK(strstr(err, "XLF_KERNEL_64"));
	return NULL;
}

static const char *test_not_loaded_high(void)
{
	struct bzimage bz;

	make_image();
	image[0x211] = 0;
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), -EINVAL);
	CHECK(strstr(err, "LOADED_HIGH"));
	return NULL;
}

static const char *test_setup_sects_too_large(void)
{
	struct bzimage bz;

	make_image();
	image[0x1f1] = 255;	/* 128 KiB of setup in a 10 KiB file */
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), -EINVAL);
	CHECK(strstr(err, "setup_sects 255"));
	return NULL;
}

static const char *test_cmdline_too_long(void)
{
	struct bzimage bz;

	make_image();
	CHECK_INT(parse(IMAGE_BYTES, 2047, &bz), 0);
	CHECK_INT(parse(IMAGE_BYTES, 2048, &bz), -E2BIG);
	CHECK(strstr(err, "cmdline_size 2047"));
	return NULL;
}

static const char *test_initrd_placement(void)
{
	struct bzimage bz;
	uint64_t addr;

	make_image();
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), 0);
	/* 256 MiB of RAM: as high as possible, page aligned, ending inside RAM */
	CHECK_INT(bzimage_place_initrd(&bz, 256 * MIB, 12345, &addr, err, sizeof(err)), 0);
	CHECK_INT(addr, (256 * MIB - 12345) & ~0xfffULL);
	CHECK(addr + 12345 <= 256 * MIB);
	/* 3 GiB of low RAM: initrd_addr_max (2 GiB - 1) is the limit */
	CHECK_INT(bzimage_place_initrd(&bz, 3072 * MIB, 4096, &addr, err, sizeof(err)), 0);
	CHECK_INT(addr, 0x80000000ULL - 4096);
	CHECK_INT(addr % 4096, 0);
	return NULL;
}

static const char *test_initrd_too_big(void)
{
	struct bzimage bz;
	uint64_t addr = 0;

	make_image();
	CHECK_INT(parse(IMAGE_BYTES, 0, &bz), 0);
	/* it would overlap the kernel decompressing at 16..24 MiB */
	CHECK_INT(bzimage_place_initrd(&bz, 32 * MIB, 9 * MIB, &addr, err, sizeof(err)), -ENOMEM);
	CHECK(strstr(err, "does not fit"));
	CHECK_INT(bzimage_place_initrd(&bz, 32 * MIB, 64 * MIB, &addr, err, sizeof(err)), -ENOMEM);
	CHECK_INT(bzimage_place_initrd(&bz, 32 * MIB, UINT64_MAX, &addr, err, sizeof(err)), -ENOMEM);
	CHECK_INT(addr, 0);
	return NULL;
}

static const char *test_e820_split(void)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned int n;

	/* 4 GiB: 3 GiB below the hole, 1 GiB from 4 GiB */
	n = e820_build(map, 3072 * MIB, 1024 * MIB);
	CHECK_INT(n, 4);
	CHECK_INT(map[0].addr, 0);
	CHECK_INT(map[0].size, 0x9fc00);
	CHECK_INT(map[0].type, E820_RAM);
	CHECK_INT(map[1].addr, 0xe0000);	/* ACPI tables and MP table */
	CHECK_INT(map[1].type, E820_RESERVED);
	CHECK_INT(map[2].addr, MIB);
	CHECK_INT(map[2].addr + map[2].size, VM_MMIO_HOLE_START);
	CHECK_INT(map[2].type, E820_RAM);
	CHECK_INT(map[3].addr, VM_HIGH_RAM_START);
	CHECK_INT(map[3].size, 1024 * MIB);
	/* 256 MiB: nothing above the hole */
	n = e820_build(map, 256 * MIB, 0);
	CHECK_INT(n, 3);
	CHECK_INT(map[2].addr + map[2].size, 256 * MIB);
	return NULL;
}

static const char *test_zero_page(void)
{
	struct boot_layout layout = {
		.low_ram = 3072 * MIB, .high_ram = 1024 * MIB, .cmdline_addr = 0x20000, .cmdline_len = 13,
		.initrd_addr = 0x7f000000, .initrd_size = 0x123456,
	};
	static uint8_t zp[BOOT_ZERO_PAGE_SIZE];
	struct bzimage bz;
	const uint8_t *e;

	make_image();
	CHECK_INT(parse(IMAGE_BYTES, 13, &bz), 0);
	memset(zp, 0xcc, sizeof(zp));
	bzimage_zero_page(zp, image, &bz, &layout);
	CHECK(!memcmp(zp + 0x202, "HdrS", 4));		/* the setup header is copied */
	CHECK_INT(zp[0x1f1], SETUP_SECTS);
	CHECK_INT(zp[0x210], 0xff);			/* type_of_loader */
	CHECK_INT(le_get32(zp + 0x228), 0x20000);		/* cmd_line_ptr */
	CHECK_INT(le_get32(zp + 0x0c8), 0);
	CHECK_INT(le_get32(zp + 0x218), 0x7f000000);	/* ramdisk_image */
	CHECK_INT(le_get32(zp + 0x21c), 0x123456);		/* ramdisk_size */
	CHECK_INT(zp[0x26c], 0);			/* after the header: zeroed, not copied */
	CHECK_INT(zp[0x1e8], 4);			/* e820_entries */
	e = zp + 0x2d0 + 3 * 20;
	CHECK_INT(le_get64(e), VM_HIGH_RAM_START);
	CHECK_INT(le_get64(e + 8), 1024 * MIB);
	CHECK_INT(le_get32(e + 16), E820_RAM);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "bzimage-valid", test_valid },
		{ "bzimage-setup-sects-zero-means-four", test_setup_sects_zero_means_four },
		{ "bzimage-truncated-header", test_truncated_header },
		{ "bzimage-truncated-kernel", test_truncated_kernel },
		{ "bzimage-bad-boot-flag", test_bad_boot_flag },
		{ "bzimage-bad-magic", test_bad_magic },
		{ "bzimage-old-version", test_old_version },
		{ "bzimage-no-64bit-entry", test_no_64bit_entry },
		{ "bzimage-not-loaded-high", test_not_loaded_high },
		{ "bzimage-setup-sects-too-large", test_setup_sects_too_large },
		{ "bzimage-cmdline-too-long", test_cmdline_too_long },
		{ "bzimage-initrd-placement", test_initrd_placement },
		{ "bzimage-initrd-too-big", test_initrd_too_big },
		{ "e820-split-around-hole", test_e820_split },
		{ "bzimage-zero-page", test_zero_page },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
