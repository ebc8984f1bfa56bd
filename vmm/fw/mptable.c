#include <string.h>

#include "fw/mptable.h"
#include "lib/le.h"

#define FLOATING_SIZE		16
#define HEADER_SIZE		44
#define CPU_ENTRY_SIZE		20
#define SMALL_ENTRY_SIZE	8	/* bus, IOAPIC, interrupt source, local interrupt */
#define ISA_IRQS		16
#define IRQ_ENTRIES		MPTABLE_IOAPIC_PINS
#define LOCAL_IRQS		2

#define ENTRY_CPU		0
#define ENTRY_BUS		1
#define ENTRY_IOAPIC		2
#define ENTRY_IOINT		3
#define ENTRY_LINT		4

#define CPU_ENABLED		0x01
#define CPU_BSP			0x02
#define LAPIC_VERSION		0x14
#define IOAPIC_VERSION		0x11
#define IOAPIC_USABLE		0x01
#define INT_TYPE_INT		0
#define INT_TYPE_NMI		1
#define INT_TYPE_EXTINT		3
/* Polarity and trigger as the bus defines them: ISA is active high, edge. */
#define INT_FLAGS_BUS		0x0000
/*
 * Said outright above the ISA range: Linux takes a non-PCI bus's source IRQ as the IRQ number, so pin 17 is
 * IRQ 17, and with these flags programs the pin as the VMM pulses it (virtio/mmio.c).
 */
#define INT_FLAGS_EDGE_HIGH	0x0005
#define ISA_BUS_ID		0
#define ALL_LAPICS		0xff
#define SPEC_REV		4	/* 1.4 */

/* Every MP structure sums to zero over its bytes. */
static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

size_t mptable_size(unsigned int nr_vcpus)
{
	return FLOATING_SIZE + HEADER_SIZE + nr_vcpus * CPU_ENTRY_SIZE +
	       (2 + IRQ_ENTRIES + LOCAL_IRQS) * SMALL_ENTRY_SIZE;
}

static uint8_t *put_interrupt(uint8_t *p, unsigned int entry, unsigned int type, unsigned int flags,
			      unsigned int src_irq, unsigned int dst_apic, unsigned int dst_pin)
{
	p[0] = (uint8_t)entry;
	p[1] = (uint8_t)type;
	le_put16(p + 2, (uint16_t)flags);
	p[4] = ISA_BUS_ID;
	p[5] = (uint8_t)src_irq;
	p[6] = (uint8_t)dst_apic;
	p[7] = (uint8_t)dst_pin;
	return p + SMALL_ENTRY_SIZE;
}

void mptable_build(uint8_t *buf, uint64_t gpa, unsigned int nr_vcpus, uint32_t cpu_signature,
		   uint32_t cpu_features)
{
	uint8_t *fp = buf, *hdr = buf + FLOATING_SIZE, *p;
	unsigned int i, ioapic_id = nr_vcpus;

	memset(buf, 0, mptable_size(nr_vcpus));

	p = hdr + HEADER_SIZE;
	for (i = 0; i < nr_vcpus; i++) {
		p[0] = ENTRY_CPU;
		p[1] = (uint8_t)i;
		p[2] = LAPIC_VERSION;
		p[3] = CPU_ENABLED | (i == 0 ? CPU_BSP : 0);
		le_put32(p + 4, cpu_signature);
		le_put32(p + 8, cpu_features);
		p += CPU_ENTRY_SIZE;
	}
	p[0] = ENTRY_BUS;
	p[1] = ISA_BUS_ID;
	memcpy(p + 2, "ISA   ", 6);
	p += SMALL_ENTRY_SIZE;
	p[0] = ENTRY_IOAPIC;
	p[1] = (uint8_t)ioapic_id;
	p[2] = IOAPIC_VERSION;
	p[3] = IOAPIC_USABLE;
	le_put32(p + 4, MPTABLE_IOAPIC_ADDR);
	p += SMALL_ENTRY_SIZE;
	for (i = 0; i < IRQ_ENTRIES; i++)
		p = put_interrupt(p, ENTRY_IOINT, INT_TYPE_INT, i < ISA_IRQS ? INT_FLAGS_BUS : INT_FLAGS_EDGE_HIGH, i,
				  ioapic_id, i);
	/* The PIC reaches the boot CPU through LINT0; LINT1 carries NMIs to all. */
	p = put_interrupt(p, ENTRY_LINT, INT_TYPE_EXTINT, INT_FLAGS_BUS, 0, 0, 0);
	p = put_interrupt(p, ENTRY_LINT, INT_TYPE_NMI, INT_FLAGS_BUS, 0, ALL_LAPICS, 1);

	memcpy(hdr, "PCMP", 4);
	le_put16(hdr + 4, (uint16_t)(p - hdr));
	hdr[6] = SPEC_REV;
	memcpy(hdr + 8, "SHRIKE  ", 8);
	memcpy(hdr + 16, "VMM         ", 12);
	le_put16(hdr + 34, (uint16_t)(nr_vcpus + 2 + IRQ_ENTRIES + LOCAL_IRQS));
	le_put32(hdr + 36, MPTABLE_LAPIC_ADDR);
	hdr[7] = checksum(hdr, (size_t)(p - hdr));

	memcpy(fp, "_MP_", 4);
	le_put32(fp + 4, (uint32_t)(gpa + FLOATING_SIZE));
	fp[8] = 1;	/* length in 16-byte units */
	fp[9] = SPEC_REV;
	fp[10] = checksum(fp, FLOATING_SIZE);
}
