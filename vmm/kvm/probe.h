#ifndef SHRIKE_KVM_PROBE_H
#define SHRIKE_KVM_PROBE_H

#include <stddef.h>

/*
 * A smoke test of /dev/kvm that needs nothing but the device: build a VM with one page of memory and one vCPU,
 * run a real-mode guest that sums 1..100 and writes the result to an I/O port, and check the host saw 5050.
 * It proves the ioctls, the run loop and guest execution work before anything tries to boot a real guest.
 */

#define KVM_PROBE_EXPECTED 5050

struct kvm_probe_result {
	int api_version;	/* KVM_GET_API_VERSION, 0 if /dev/kvm could not be opened */
	unsigned int value;	/* what the guest wrote to the port */
	char error[128];	/* on failure: what failed, e.g. "KVM_CREATE_VM: Permission denied" */
};

/* Returns 0 if the guest computed KVM_PROBE_EXPECTED, else -errno; -ENOENT means /dev/kvm does not exist. */
int kvm_probe(struct kvm_probe_result *r);

/* Prints the verdict line users see at boot and from `shrike kvm-probe`. */
void kvm_probe_report(int rc, const struct kvm_probe_result *r);
/* The same line without its line end, for PID 1, which shows it through its console buffer. */
void kvm_probe_verdict(int rc, const struct kvm_probe_result *r, char *buf, size_t size);

#endif
