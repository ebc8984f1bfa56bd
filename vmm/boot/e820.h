#ifndef SHRIKE_BOOT_E820_H
#define SHRIKE_BOOT_E820_H

#include <stdint.h>

#define E820_RAM	1
#define E820_RESERVED	2

/* The guest's view of low memory, shared by the e820 map, the MP table and the boot page tables. */
#define E820_BASE_RAM_END	0x9fc00ULL	/* 639 KiB: the classic end of conventional memory */
#define E820_BIOS_START		0xe0000ULL	/* the BIOS area: ACPI tables and the MP table, where the guest looks */
#define E820_HIGH_START		0x100000ULL

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

#define E820_MAX_ENTRIES	4

/*
 * The memory map for low_ram bytes of RAM from 0 and high_ram bytes from 4 GiB: conventional memory, the
 * reserved BIOS area, RAM from 1 MiB to the MMIO hole, RAM above 4 GiB. Returns the number of entries.
 */
unsigned int e820_build(struct e820_entry map[E820_MAX_ENTRIES], uint64_t low_ram, uint64_t high_ram);

#endif
