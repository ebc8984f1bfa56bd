/* unit-sources: vmm/fw/mptable.c */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "fw/mptable.h"
#include "lib/le.h"

static uint8_t buf[4096];

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const char *test_structure(void)
{
	const uint8_t *fp = buf, *hdr = buf + 16, *e;
	unsigned int i, len;

	memset(buf, 0xee, sizeof(buf));
	mptable_build(buf, MPTABLE_ADDR, 2, 0x00000f6b, 0x078bfbff);
	/* the floating pointer points right behind itself and sums to zero */
	CHECK(!memcmp(fp, "_MP_", 4));
	CHECK_INT(le_get32(fp + 4), MPTABLE_ADDR + 16);
	CHECK_INT(fp[8], 1);
	CHECK_INT(sum(fp, 16), 0);
	/* the configuration table covers exactly what mptable_size() promised */
	CHECK(!memcmp(hdr, "PCMP", 4));
	len = le_get16(hdr + 4);
	CHECK_INT(16 + len, mptable_size(2));
	CHECK_INT(sum(hdr, len), 0);
	CHECK_INT(le_get16(hdr + 34), 2 + 2 + 24 + 2);	/* CPUs, bus + IOAPIC, IOAPIC pins, LINT0/1 */
	CHECK_INT(le_get32(hdr + 36), MPTABLE_LAPIC_ADDR);
	CHECK_INT(buf[mptable_size(2)], 0xee);		/* nothing written beyond */
	/* CPU 0 is the enabled boot processor, CPU 1 enabled, APIC IDs 0 and 1 */
	e = hdr + 44;
	CHECK_INT(e[0], 0);
	CHECK_INT(e[1], 0);
	CHECK_INT(e[3], 0x03);
	CHECK_INT(le_get32(e + 4), 0x00000f6b);
	CHECK_INT(e[20 + 1], 1);
	CHECK_INT(e[20 + 3], 0x01);
	/* the ISA bus, then the IOAPIC with the first ID after the CPUs */
	e += 2 * 20;
	CHECK_INT(e[0], 1);
	CHECK(!memcmp(e + 2, "ISA   ", 6));
	e += 8;
	CHECK_INT(e[0], 2);
	CHECK_INT(e[1], 2);
	CHECK_INT(le_get32(e + 4), MPTABLE_IOAPIC_ADDR);
	/*
	 * IRQ n goes to IOAPIC pin n: ISA IRQs 0-15 as the bus defines them (flags 0), 16-23 said to be edge and
	 * active high (polarity 01, trigger 01), as the VMM pulses them
	 */
	for (i = 0; i < 24; i++) {
		e += 8;
		CHECK_INT(e[0], 3);
		CHECK_INT(e[1], 0);
		CHECK_INT(le_get16(e + 2), i < 16 ? 0x0000 : 0x0005);
		CHECK_INT(e[4], 0);
		CHECK_INT(e[5], i);
		CHECK_INT(e[6], 2);
		CHECK_INT(e[7], i);
	}
	/* then LINT0 (ExtINT) and LINT1 (NMI) */
	e += 8;
	CHECK_INT(e[0], 4);
	CHECK_INT(e[1], 3);
	e += 8;
	CHECK_INT(e[0], 4);
	CHECK_INT(e[1], 1);
	CHECK(e + 8 == hdr + len);
	return NULL;
}

static const char *test_most_vcpus_fit_bios_area(void)
{
	memset(buf, 0, sizeof(buf));
	mptable_build(buf, MPTABLE_ADDR, MPTABLE_MAX_VCPUS, 0, 0);
	CHECK(mptable_size(MPTABLE_MAX_VCPUS) <= sizeof(buf));
	CHECK_INT(sum(buf + 16, le_get16(buf + 16 + 4)), 0);
	CHECK_INT(buf[16 + 44 + 63 * 20 + 1], 63);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "mptable-structure", test_structure },
		{ "mptable-64-vcpus", test_most_vcpus_fit_bios_area },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
