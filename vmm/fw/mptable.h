#ifndef SHRIKE_FW_MPTABLE_H
#define SHRIKE_FW_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * An Intel MultiProcessor Specification 1.4 table: how a guest without ACPI finds its CPUs (APIC IDs 0..n-1), the
 * IOAPIC and the routing of IRQ n to IOAPIC pin n for all 24 pins (KVM's default GSI routing): ISA IRQs 0-15 as
 * the ISA bus has them, and 16-23, edge-triggered and active high, for virtio-mmio devices named on the command
 * line (a pin the table leaves out gets no Linux IRQ, and the device's request_irq() fails).
 */
#define MPTABLE_ADDR		0xf0000ULL
#define MPTABLE_MAX_VCPUS	64
#define MPTABLE_IOAPIC_ADDR	0xfec00000U
#define MPTABLE_LAPIC_ADDR	0xfee00000U
#define MPTABLE_IOAPIC_PINS	24

/* The bytes mptable_build() writes for n vCPUs. */
size_t mptable_size(unsigned int nr_vcpus);

/*
 * Writes the floating pointer and the configuration table for nr_vcpus (1..MPTABLE_MAX_VCPUS) into buf, which
 * the guest will see at guest-physical address gpa; buf holds mptable_size() bytes. cpu_signature and
 * cpu_features are CPUID leaf 1 EAX and EDX, which the spec wants in each processor entry.
 */
void mptable_build(uint8_t *buf, uint64_t gpa, unsigned int nr_vcpus, uint32_t cpu_signature,
		   uint32_t cpu_features);

#endif
