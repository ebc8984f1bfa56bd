#ifndef SHRIKE_RUN_LOAD_H
#define SHRIKE_RUN_LOAD_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm/vm.h"
#include "run/opts.h"
#include "virtio/mmio.h"

/* How the boot vCPU starts: the bzImage's 64-bit entry with the zero page, or a PVH entry with its start info. */
struct run_boot {
	bool pvh;
	uint64_t entry;
	uint64_t arg;		/* the zero page or the start info */
};

/*
 * Loads the kernel of o (a bzImage, or an ELF vmlinux with a PVH note), its initrd, cmdline (the user's plus the
 * devices'), the zero page or PVH start info, and the MP table into guest memory; cpuid gives the MP table its
 * CPU signature. Returns 0 with *boot set, or -errno (logged, naming the file).
 */
int run_load_guest(struct vm *vm, const struct run_opts *o, const char *cmdline, const struct kvm_cpuid2 *cpuid,
		   struct run_boot *boot);

/*
 * Writes the ACPI tables (fw/acpi.h) describing nr_vcpus CPUs, COM1 and the nr virtio devices in devs, and creates
 * the ACPI registers they point at (hw/acpi_pm.h). Returns 0 or -errno (logged).
 */
int run_load_acpi(struct vm *vm, unsigned int nr_vcpus, struct virtio_dev *const *devs, unsigned int nr);

#endif
