/* unit-sources: vmm/boot/pvh.c vmm/boot/e820.c */
/*
 * The PVH loader on hand-made ELF files: a good one loads and names its entry; every malformed field is refused
 * with a reason, never read past the buffer (ASan watches).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "boot/pvh.h"
#include "boot/e820.h"
#include "lib/le.h"

#define PHOFF		64
#define NOTE_OFF	0x100
#define SEG_OFF		0x200
#define SEG_SIZE	0x100
#define LOAD_ADDR	0x200000ULL
#define ENTRY		0x200040U

static uint8_t elf[0x400];
static char err[200];

/* An ELF64 x86-64 executable: one PT_LOAD of SEG_SIZE bytes (memsz twice that) and a PT_NOTE with the entry. */
static void make_elf(void)
{
	uint8_t *ph, *note;
	unsigned int i;

	memset(elf, 0, sizeof(elf));
	memcpy(elf, "\x7f" "ELF", 4);
	elf[4] = 2;
	elf[5] = 1;
	elf[6] = 1;
	le_put16(elf + 16, 2);
	le_put16(elf + 18, 62);
	le_put64(elf + 24, 0x1000000);		/* e_entry: not what PVH uses */
	le_put64(elf + 32, PHOFF);
	le_put16(elf + 54, 56);
	le_put16(elf + 56, 2);
	ph = elf + PHOFF;
	le_put32(ph, 1);
	le_put64(ph + 8, SEG_OFF);
	le_put64(ph + 24, LOAD_ADDR);
	le_put64(ph + 32, SEG_SIZE);
	le_put64(ph + 40, 2 * SEG_SIZE);
	ph += 56;
	le_put32(ph, 4);
	le_put64(ph + 8, NOTE_OFF);
	le_put64(ph + 32, 12 + 4 + 4);
	note = elf + NOTE_OFF;
	le_put32(note, 4);
	le_put32(note + 4, 4);
	le_put32(note + 8, 18);
	memcpy(note + 12, "Xen", 4);
	le_put32(note + 16, ENTRY);
	for (i = 0; i < SEG_SIZE; i++)
		elf[SEG_OFF + i] = (uint8_t)(i + 1);
}

static const char *test_parse_and_load(void)
{
	static uint8_t ram[4 << 20];
	struct pvh_image pi;
	unsigned int i;

	make_elf();
	CHECK(pvh_is_elf(elf, sizeof(elf)));
	CHECK_INT(pvh_parse(elf, sizeof(elf), &pi, err, sizeof(err)), 0);
	CHECK_INT(pi.entry, ENTRY);
	CHECK_INT(pi.kernel_start, LOAD_ADDR);
	CHECK_INT(pi.kernel_end, LOAD_ADDR + 2 * SEG_SIZE);
	memset(ram, 0xee, sizeof(ram));
	CHECK_INT(pvh_load(elf, sizeof(elf), ram, sizeof(ram), err, sizeof(err)), 0);
	for (i = 0; i < SEG_SIZE; i++)
		CHECK_INT(ram[LOAD_ADDR + i], (uint8_t)(i + 1));
	for (i = SEG_SIZE; i < 2 * SEG_SIZE; i++)
		CHECK_INT(ram[LOAD_ADDR + i], 0);	/* the bss part is zeroed */
	CHECK_INT(ram[LOAD_ADDR + 2 * SEG_SIZE], 0xee);	/* nothing beyond */
	/* too little RAM for the segment */
	CHECK_INT(pvh_load(elf, sizeof(elf), ram, LOAD_ADDR + SEG_SIZE, err, sizeof(err)), -ENOMEM);
	return NULL;
}

/* Each corruption and the words its error must contain. */
static const char *test_malformed(void)
{
	static const struct {
		unsigned int off;
		unsigned int width;
		uint64_t value;
		const char *why;
	} bad[] = {
		{ 0, 1, 0, "not an ELF file" },
		{ 4, 1, 1, "not a 64-bit" },			/* ELFCLASS32 */
		{ 18, 2, 3, "not a 64-bit" },			/* EM_386 */
		{ 16, 2, 3, "not an executable" },		/* ET_DYN */
		{ 32, 8, 0x3f0, "program headers" },		/* e_phoff past the end */
		{ 32, 8, UINT64_MAX - 8, "program headers" },	/* e_phoff + size wraps */
		{ 56, 2, 0, "program headers" },		/* e_phnum 0 */
		{ 54, 2, 32, "program headers" },		/* e_phentsize */
		{ PHOFF + 8, 8, 0x380, "not inside the file" },	/* segment's file bytes past the end */
		{ PHOFF + 32, 8, UINT64_MAX, "not inside the file" },
		{ PHOFF + 40, 8, 1, "make no sense" },		/* filesz > memsz */
		{ PHOFF + 24, 8, UINT64_MAX - 0x10, "make no sense" },	/* paddr + memsz wraps */
		{ PHOFF + 24, 8, 0x1000, "below 1 MiB" },
		{ NOTE_OFF + 8, 4, 17, "no PVH entry note" },	/* another note type */
		{ NOTE_OFF + 12, 1, 'Y', "no PVH entry note" },	/* another owner */
		{ NOTE_OFF + 4, 4, 0x1000, "a note runs past" },	/* descsz past the segment */
		{ NOTE_OFF, 4, 0xfffffff0, "a note runs past" },	/* namesz huge */
		{ NOTE_OFF + 16, 4, 0x100000, "outside the kernel" },	/* entry not in a segment */
		{ PHOFF, 4, 6, "no PT_LOAD" },			/* the only PT_LOAD made PT_PHDR */
	};
	struct pvh_image pi;
	unsigned int i, k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_elf();
		for (k = 0; k < bad[i].width; k++)
			elf[bad[i].off + k] = (uint8_t)(bad[i].value >> (8 * k));
		err[0] = '\0';
		if (pvh_parse(elf, sizeof(elf), &pi, err, sizeof(err)) != -EINVAL)
			return check_fail(__FILE__, __LINE__, "corruption %u accepted", i);
		if (!strstr(err, bad[i].why))
			return check_fail(__FILE__, __LINE__, "corruption %u: '%s' lacks '%s'", i, err, bad[i].why);
	}
	/* truncated files: every length short of the whole */
	make_elf();
	for (i = 0; i < NOTE_OFF + 20; i++)
		CHECK_INT(pvh_parse(elf, i, &pi, err, sizeof(err)), -EINVAL);
	return NULL;
}

static const char *test_start_info(void)
{
	struct pvh_layout l = { .low_ram = 128 << 20, .cmdline_addr = 0x20000, .initrd_addr = 0x7000000,
				.initrd_size = 12345, .rsdp_addr = 0xe0000 };
	uint8_t buf[512];
	const uint8_t *mm;

	memset(buf, 0xee, sizeof(buf));
	CHECK(pvh_start_info_size() < sizeof(buf));
	pvh_start_info(buf, 0x7000, &l);
	CHECK_INT(le_get32(buf), PVH_START_INFO_MAGIC);
	CHECK_INT(le_get32(buf + 4), 1);			/* version */
	CHECK_INT(le_get32(buf + 12), 1);			/* one module: the initrd */
	CHECK_INT(le_get64(buf + 16), 0x7000 + 56);
	CHECK_INT(le_get64(buf + 56), 0x7000000);
	CHECK_INT(le_get64(buf + 64), 12345);
	CHECK_INT(le_get64(buf + 24), 0x20000);
	CHECK_INT(le_get64(buf + 32), 0xe0000);
	CHECK_INT(le_get64(buf + 40), 0x7000 + 56 + 32);
	CHECK_INT(le_get32(buf + 48), 3);			/* base RAM, BIOS area, RAM from 1 MiB */
	mm = buf + 56 + 32;
	CHECK_INT(le_get64(mm + 24 * 2), E820_HIGH_START);
	CHECK_INT(le_get64(mm + 24 * 2 + 8), (128 << 20) - E820_HIGH_START);
	CHECK_INT(le_get32(mm + 24 * 2 + 16), E820_RAM);
	CHECK_INT(buf[pvh_start_info_size()], 0xee);
	/* no initrd: no module */
	l.initrd_addr = 0;
	pvh_start_info(buf, 0x7000, &l);
	CHECK_INT(le_get32(buf + 12), 0);
	CHECK_INT(le_get64(buf + 16), 0);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "pvh-parse-and-load", test_parse_and_load },
		{ "pvh-malformed", test_malformed },
		{ "pvh-start-info", test_start_info },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
