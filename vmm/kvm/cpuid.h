#ifndef SHRIKE_KVM_CPUID_H
#define SHRIKE_KVM_CPUID_H

#include <linux/kvm.h>

/* KVM_GET_SUPPORTED_CPUID into a new allocation the caller frees, or NULL (logged). */
struct kvm_cpuid2 *cpuid_supported(int kvm_fd);

/*
 * Sets the CPUID of vCPU index `id` of nr_vcpus from the supported table: hypervisor bit, APIC ID and a topology
 * of nr_vcpus cores in one package. Returns 0 or -errno (logged).
 */
int cpuid_set(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int id, unsigned int nr_vcpus);

#endif
