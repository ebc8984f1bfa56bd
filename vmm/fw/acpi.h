#ifndef SHRIKE_FW_ACPI_H
#define SHRIKE_FW_ACPI_H

#include <stddef.h>
#include <stdint.h>

/*
 * Minimal ACPI for the guest, the way Firecracker and QEMU microvm do it: RSDP, XSDT, a hardware-reduced FADT
 * (no PM1 blocks, no SCI, no legacy PIC), a MADT with the LAPICs and the IOAPIC, and a DSDT that describes COM1,
 * the virtio-mmio devices, a power button and the Generic Event Device that presses it. Power-off and reset go
 * through the FADT's sleep control and reset registers, which hw/acpi_pm.c serves.
 *
 * With ACPI the guest learns its devices from the DSDT, not from virtio_mmio.device= on the command line, and a
 * guest without ACPI support (or booted with acpi=off) still finds its CPUs in the MP table.
 */
#define ACPI_TABLES_ADDR	0xe0000ULL	/* in the BIOS area, where the guest scans for the RSDP */
#define ACPI_TABLES_SIZE	0x10000

#define ACPI_SLEEP_CONTROL_PORT	0x600
#define ACPI_SLEEP_STATUS_PORT	0x601
#define ACPI_RESET_PORT		0x602
#define ACPI_RESET_VALUE	0x01
/* _S5's sleep type: the guest writes SLP_EN | 5 << 2 to the sleep control register to power off. */
#define ACPI_S5_SLEEP_TYPE	5
/* The Generic Event Device's interrupt: above the ISA range, so no legacy device can ever claim it. */
#define ACPI_GED_GSI		16

/* IOAPIC pins 0-23 (KVM's); the DSDT names each virtio device's pin, edge-triggered and active high. */
#define ACPI_IOAPIC_PINS	24
#define ACPI_MAX_VIRTIO		(ACPI_IOAPIC_PINS - 1)	/* one pin each; the GED has one more */

struct acpi_devices {
	unsigned int nr_vcpus;		/* APIC IDs 0..nr_vcpus-1 */
	uint8_t ioapic_id;
	uint16_t serial_port;		/* COM1, 0 if none */
	unsigned int serial_irq;
	unsigned int nr_virtio;
	struct {
		uint64_t base;
		uint32_t size;
		unsigned int irq;
	} virtio[ACPI_MAX_VIRTIO];
};

/*
 * Writes all tables into buf (size bytes), which the guest sees at gpa, RSDP first. Returns the bytes used, or
 * -ENOSPC if they do not fit, -EINVAL for more devices than the tables take or a virtio IRQ that is no IOAPIC pin
 * or is the GED's.
 */
int acpi_build(uint8_t *buf, uint64_t gpa, size_t size, const struct acpi_devices *devs);

#endif
