#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "boot/pvh.h"
#include "boot/e820.h"
#include "lib/le.h"

#define ELF_HEADER_SIZE		64
#define ELF_PHDR_SIZE		56
#define ELFCLASS64		2
#define ELFDATA2LSB		1
#define ET_EXEC			2
#define EM_X86_64		62
#define PT_LOAD			1
#define PT_NOTE			4
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define ELF_MAX_PHDRS		64
#define PVH_MIN_LOAD_ADDR	0x100000ULL

/* struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h), version 1 */
#define SI_SIZE			56
#define SI_MODULE_SIZE		32
#define SI_MEMMAP_ENTRY_SIZE	24
#define SI_VERSION		1

int pvh_is_elf(const uint8_t *image, size_t len)
{
	return len >= 4 && !memcmp(image, "\x7f" "ELF", 4);
}

struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void get_phdr(const uint8_t *p, struct phdr *ph)
{
	ph->type = le_get32(p);
	ph->offset = le_get64(p + 8);
	ph->paddr = le_get64(p + 24);
	ph->filesz = le_get64(p + 32);
	ph->memsz = le_get64(p + 40);
}

/* The program headers' position, checked to lie inside the file; 0 or -EINVAL with err set. */
static int phdrs(const uint8_t *image, size_t len, uint64_t *off, unsigned int *n, char *err, size_t errlen)
{
	if (len < ELF_HEADER_SIZE || !pvh_is_elf(image, len)) {
		snprintf(err, errlen, "not an ELF file");
		return -EINVAL;
	}
	if (image[4] != ELFCLASS64 || image[5] != ELFDATA2LSB || le_get16(image + 18) != EM_X86_64) {
		snprintf(err, errlen, "not a 64-bit little-endian x86-64 ELF file (class %u, data %u, machine %u)",
			 image[4], image[5], le_get16(image + 18));
		return -EINVAL;
	}
	if (le_get16(image + 16) != ET_EXEC) {
		snprintf(err, errlen, "e_type is %u, not an executable (2)", le_get16(image + 16));
		return -EINVAL;
	}
	*off = le_get64(image + 32);
	*n = le_get16(image + 56);
	if (le_get16(image + 54) != ELF_PHDR_SIZE || *n == 0 || *n > ELF_MAX_PHDRS || *off > len ||
	    (uint64_t)*n * ELF_PHDR_SIZE > len - *off) {
		snprintf(err, errlen, "program headers (e_phoff 0x%llx, e_phnum %u, e_phentsize %u) are not inside "
			 "the file", (unsigned long long)*off, *n, le_get16(image + 54));
		return -EINVAL;
	}
	return 0;
}

/* Looks through one PT_NOTE segment for Xen's PHYS32_ENTRY note; 1 if found, 0 if not, -EINVAL if malformed. */
static int find_entry_note(const uint8_t *p, uint64_t size, uint32_t *entry)
{
	uint64_t at = 0, namesz, descsz, name_pad, desc_pad;
	uint32_t type;

	while (size - at >= 12) {
		namesz = le_get32(p + at);
		descsz = le_get32(p + at + 4);
		type = le_get32(p + at + 8);
		name_pad = (namesz + 3) & ~3ULL;
		desc_pad = (descsz + 3) & ~3ULL;
		at += 12;
		if (name_pad > size - at || desc_pad > size - at - name_pad)
			return -EINVAL;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && !memcmp(p + at, "Xen", 4) && descsz >= 4) {
			*entry = le_get32(p + at + name_pad);
			return 1;
		}
		at += name_pad + desc_pad;
	}
	return 0;
}

int pvh_parse(const uint8_t *image, size_t len, struct pvh_image *pi, char *err, size_t errlen)
{
	bool have_entry = false;
	struct phdr ph;
	unsigned int i, n;
	uint64_t off;
	int ret;

	memset(pi, 0, sizeof(*pi));
	pi->kernel_start = UINT64_MAX;
	ret = phdrs(image, len, &off, &n, err, errlen);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		get_phdr(image + off + (uint64_t)i * ELF_PHDR_SIZE, &ph);
		if (ph.type != PT_LOAD && ph.type != PT_NOTE)
			continue;
		if (ph.offset > len || ph.filesz > len - ph.offset) {
			snprintf(err, errlen, "program header %u: file bytes 0x%llx+0x%llx are not inside the file", i,
				 (unsigned long long)ph.offset, (unsigned long long)ph.filesz);
			return -EINVAL;
		}
		if (ph.type == PT_NOTE) {
			uint32_t entry;

			ret = find_entry_note(image + ph.offset, ph.filesz, &entry);
			if (ret < 0) {
				snprintf(err, errlen, "program header %u: a note runs past its segment", i);
				return -EINVAL;
			}
			if (ret > 0) {
				pi->entry = entry;
				have_entry = true;
			}
			continue;
		}
		if (ph.filesz > ph.memsz || ph.paddr > UINT64_MAX - ph.memsz) {
			snprintf(err, errlen, "program header %u: p_filesz 0x%llx, p_memsz 0x%llx at p_paddr 0x%llx make "
				 "no sense", i, (unsigned long long)ph.filesz, (unsigned long long)ph.memsz,
				 (unsigned long long)ph.paddr);
			return -EINVAL;
		}
		if (ph.paddr < pi->kernel_start)
			pi->kernel_start = ph.paddr;
		if (ph.paddr + ph.memsz > pi->kernel_end)
			pi->kernel_end = ph.paddr + ph.memsz;
		pi->nr_segments++;
	}
	if (!pi->nr_segments) {
		snprintf(err, errlen, "no PT_LOAD segment");
		return -EINVAL;
	}
	/* Below 1 MiB are the boot structures the VMM writes (GDT, start info, command line, ACPI, MP table). */
	if (pi->kernel_start < PVH_MIN_LOAD_ADDR) {
		snprintf(err, errlen, "a segment loads at 0x%llx, below 1 MiB", (unsigned long long)pi->kernel_start);
		return -EINVAL;
	}
	if (!have_entry) {
		snprintf(err, errlen, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY; build the kernel with CONFIG_PVH)");
		return -EINVAL;
	}
	if (pi->entry < pi->kernel_start || pi->entry >= pi->kernel_end) {
		snprintf(err, errlen, "the PVH entry 0x%x is outside the kernel's segments", pi->entry);
		return -EINVAL;
	}
	return 0;
}

int pvh_load(const uint8_t *image, size_t len, uint8_t *ram, uint64_t ram_size, char *err, size_t errlen)
{
	struct phdr ph;
	unsigned int i, n;
	uint64_t off;
	int ret;

	ret = phdrs(image, len, &off, &n, err, errlen);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		get_phdr(image + off + (uint64_t)i * ELF_PHDR_SIZE, &ph);
		if (ph.type != PT_LOAD)
			continue;
		/* pvh_parse() checked the file side; the memory side depends on --mem. */
		if (ph.offset > len || ph.filesz > len - ph.offset || ph.filesz > ph.memsz || ph.paddr > ram_size ||
		    ph.memsz > ram_size - ph.paddr) {
			snprintf(err, errlen, "segment %u (0x%llx bytes at 0x%llx) does not fit in guest RAM", i,
				 (unsigned long long)ph.memsz, (unsigned long long)ph.paddr);
			return -ENOMEM;
		}
		memcpy(ram + ph.paddr, image + ph.offset, ph.filesz);
		memset(ram + ph.paddr + ph.filesz, 0, ph.memsz - ph.filesz);
	}
	return 0;
}

size_t pvh_start_info_size(void)
{
	return SI_SIZE + SI_MODULE_SIZE + E820_MAX_ENTRIES * SI_MEMMAP_ENTRY_SIZE;
}

void pvh_start_info(uint8_t *buf, uint64_t gpa, const struct pvh_layout *l)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	uint8_t *mod = buf + SI_SIZE, *mm = mod + SI_MODULE_SIZE;
	unsigned int i, n = e820_build(map, l->low_ram, l->high_ram);

	memset(buf, 0, pvh_start_info_size());
	le_put32(buf, PVH_START_INFO_MAGIC);
	le_put32(buf + 4, SI_VERSION);
	le_put32(buf + 12, l->initrd_addr ? 1 : 0);		/* nr_modules */
	le_put64(buf + 16, l->initrd_addr ? gpa + SI_SIZE : 0);	/* modlist_paddr */
	le_put64(buf + 24, l->cmdline_addr);
	le_put64(buf + 32, l->rsdp_addr);
	le_put64(buf + 40, gpa + SI_SIZE + SI_MODULE_SIZE);	/* memmap_paddr */
	le_put32(buf + 48, n);
	le_put64(mod, l->initrd_addr);
	le_put64(mod + 8, l->initrd_size);
	for (i = 0; i < n; i++, mm += SI_MEMMAP_ENTRY_SIZE) {
		le_put64(mm, map[i].addr);
		le_put64(mm + 8, map[i].size);
		le_put32(mm + 16, map[i].type);
	}
}
