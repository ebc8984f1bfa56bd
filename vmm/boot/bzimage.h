#ifndef SHRIKE_BOOT_BZIMAGE_H
#define SHRIKE_BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst) for a bzImage entered in 64-bit mode. Everything
 * here works on byte buffers and plain numbers, no KVM, so the host unit tests cover it.
 */

#define BOOT_ZERO_PAGE_SIZE	4096
/* Where the protected-mode kernel goes; its 64-bit entry point is 0x200 further. */
#define BOOT_KERNEL_ADDR	0x100000ULL
#define BOOT_ENTRY_64_OFFSET	0x200

struct bzimage {
	size_t setup_size;		/* boot sector and real-mode setup, (setup_sects + 1) * 512 bytes */
	size_t kernel_size;		/* the protected-mode kernel after it */
	uint16_t version;		/* boot protocol version, 0x020c is 2.12 */
	uint32_t cmdline_size;		/* longest command line, without its NUL */
	uint32_t initrd_addr_max;	/* last byte an initrd may occupy */
	uint32_t init_size;		/* memory the kernel needs from its load address while decompressing */
	size_t header_end;		/* end of the setup header in the image, for copying it into the zero page */
	uint64_t kernel_end;		/* first byte above the kernel while it loads and decompresses itself */
};

/* What the zero page describes besides the setup header. */
struct boot_layout {
	uint64_t low_ram;		/* RAM bytes from 0 (below the MMIO hole) */
	uint64_t high_ram;		/* RAM bytes from 4 GiB */
	uint64_t cmdline_addr;
	uint32_t cmdline_len;		/* without the NUL */
	uint64_t initrd_addr;		/* 0 with no initrd */
	uint32_t initrd_size;
};

/*
 * Checks the setup header of image[0..len) and fills bz. On a bad image returns -EINVAL (-E2BIG if the command
 * line is too long) and writes the reason into err, naming the field, e.g. "not a bzImage (no HdrS magic)".
 * cmdline_len is the length of the command line the caller wants to pass.
 */
int bzimage_parse(const uint8_t *image, size_t len, size_t cmdline_len, struct bzimage *bz, char *err,
		  size_t errlen);

/*
 * Where an initrd of size bytes goes: as high as initrd_addr_max and the end of low RAM allow, page aligned, above
 * the decompressing kernel. Returns 0 and sets *addr, or -ENOMEM with the reason in err.
 */
int bzimage_place_initrd(const struct bzimage *bz, uint64_t low_ram, uint64_t size, uint64_t *addr, char *err,
			 size_t errlen);

/* Builds the zero page (struct boot_params) for a parsed image: setup header, loader fields, e820 map. */
void bzimage_zero_page(uint8_t zp[BOOT_ZERO_PAGE_SIZE], const uint8_t *image, const struct bzimage *bz,
		       const struct boot_layout *layout);

#endif
