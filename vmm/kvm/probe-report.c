#include <stdio.h>

#include "kvm/probe.h"

void kvm_probe_verdict(int rc, const struct kvm_probe_result *r, char *buf, size_t size)
{
	if (rc == 0)
		snprintf(buf, size, "kvm: ok (api %d, guest computed %u)", r->api_version, r->value);
	else
		snprintf(buf, size, "kvm: unavailable: %s", r->error);
}

void kvm_probe_report(int rc, const struct kvm_probe_result *r)
{
	char line[192];

	kvm_probe_verdict(rc, r, line, sizeof(line));
	printf("%s\n", line);
}
