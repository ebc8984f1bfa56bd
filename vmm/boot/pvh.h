#ifndef SHRIKE_BOOT_PVH_H
#define SHRIKE_BOOT_PVH_H

#include <stddef.h>
#include <stdint.h>

/*
 * The second boot path: an uncompressed ELF vmlinux entered through its PVH note (the x86/HVM direct boot ABI
 * that Linux implements with CONFIG_PVH, and Firecracker and Cloud Hypervisor use). The kernel needs no
 * decompression; it starts in 32-bit protected mode with paging off and %ebx pointing at a struct
 * hvm_start_info that gives the command line, the initrd, the memory map and the RSDP. Byte buffers only, so
 * the host unit tests cover it.
 */

#define PVH_START_INFO_MAGIC	0x336ec578U

struct pvh_image {
	uint32_t entry;			/* the PVH entry point, a physical address */
	uint64_t kernel_start;		/* lowest physical address a PT_LOAD segment covers */
	uint64_t kernel_end;		/* first byte above the highest one */
	unsigned int nr_segments;
};

/* Whether image starts like an ELF file (so run picks this path rather than the bzImage one). */
int pvh_is_elf(const uint8_t *image, size_t len);

/*
 * Checks an ELF64 x86-64 executable: header, program headers and notes all inside the file, a PT_LOAD's file
 * part inside it and no bigger than its memory part, no wrapping addresses, and a XEN_ELFNOTE_PHYS32_ENTRY note.
 * Returns 0, or -EINVAL with the reason in err ("no PVH entry note (build the kernel with CONFIG_PVH)").
 */
int pvh_parse(const uint8_t *image, size_t len, struct pvh_image *pi, char *err, size_t errlen);

/*
 * Copies each PT_LOAD segment to ram + p_paddr and zeroes the rest of its memory size. ram_size bytes of RAM
 * start at guest-physical 0; a segment outside them is -ENOMEM with the reason in err.
 */
int pvh_load(const uint8_t *image, size_t len, uint8_t *ram, uint64_t ram_size, char *err, size_t errlen);

struct pvh_layout {
	uint64_t low_ram, high_ram;	/* as for the bzImage zero page */
	uint64_t cmdline_addr;
	uint64_t initrd_addr;		/* 0: none */
	uint64_t initrd_size;
	uint64_t rsdp_addr;		/* 0: none */
};

/* Bytes pvh_start_info() writes: the start info, one module entry and the memory map. */
size_t pvh_start_info_size(void);

/* Writes struct hvm_start_info (version 1) and what it points to into buf, which the guest sees at gpa. */
void pvh_start_info(uint8_t *buf, uint64_t gpa, const struct pvh_layout *layout);

#endif
