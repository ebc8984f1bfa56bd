#include <stdio.h>

#include "kvm/probe.h"

void kvm_probe_report(int rc, const struct kvm_probe_result *r)
{
	if (rc == 0)
		printf("kvm: ok (api %d, guest computed %u)\n", r->api_version, r->value);
	else
		printf("kvm: unavailable: %s\n", r->error);
}
