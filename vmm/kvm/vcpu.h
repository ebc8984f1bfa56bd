#ifndef SHRIKE_KVM_VCPU_H
#define SHRIKE_KVM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm/vm.h"
#include "run/stats.h"

struct vcpu {
	struct vm *vm;
	unsigned int id;	/* also its APIC ID */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	_Atomic bool started;	/* set by the main thread, read by pause on the event thread */
	struct stats_vcpu *stats;	/* its exits, by reason */
};

/* Creates vCPU `id` of nr_vcpus with its CPUID, MSRs and LAPIC set up. Returns 0 or -errno (logged). */
int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned int id, unsigned int nr_vcpus,
		const struct kvm_cpuid2 *cpuid);

/*
 * Puts the boot vCPU in 64-bit mode at `entry` with rsi = `zero_page`, per the Linux boot protocol: flat GDT,
 * identity-mapped page tables for the first 4 GiB. The other vCPUs wait for the guest's INIT/SIPI in the
 * in-kernel LAPIC and need nothing.
 */
int vcpu_setup_long_mode(struct vcpu *vcpu, uint64_t entry, uint64_t zero_page);

/* Puts the boot vCPU at a PVH entry point: 32-bit protected mode, paging off, %ebx = start_info (boot_pvh.h). */
int vcpu_setup_pvh(struct vcpu *vcpu, uint32_t entry, uint32_t start_info);

/* Starts the vCPU's thread, which runs the guest until the VM is asked to exit. */
int vcpu_start(struct vcpu *vcpu);

/* Makes a running vCPU leave KVM_RUN and its thread end, and waits for it. */
void vcpu_stop(struct vcpu *vcpu);

void vcpu_destroy(struct vcpu *vcpu);

/*
 * Pause: every vCPU thread leaves KVM_RUN and parks; returns once all n have (or the VM is exiting). The guest's
 * memory and devices stay as they are; its clock keeps running (kvm-clock), as with `virsh suspend`.
 */
void vcpus_pause(struct vcpu *vcpus, unsigned int n);
void vcpus_resume(struct vcpu *vcpus);

#endif
