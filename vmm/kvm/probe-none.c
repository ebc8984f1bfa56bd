#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvm/probe.h"

/* Linked instead of probe.c when CONFIG_KVM_PROBE is off, so callers need no #ifdef. */
int kvm_probe(struct kvm_probe_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->error, sizeof(r->error), "probe not built in (CONFIG_KVM_PROBE is not set)");
	return -ENOSYS;
}
