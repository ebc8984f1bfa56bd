#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/cpuid.h"
#include "lib/log.h"

/* Enough for every CPU KVM knows; KVM_GET_SUPPORTED_CPUID says E2BIG if not, and we double. */
#define CPUID_FIRST_GUESS	100
#define CPUID_MAX_ENTRIES	3200

#define LEAF_FEATURES		0x1
#define LEAF_CACHE_PARAMS	0x4
#define LEAF_TOPOLOGY		0xb
#define LEAF_TOPOLOGY_V2	0x1f
#define LEAF_AMD_SIZES		0x80000008

#define FEAT_ECX_HYPERVISOR	(1U << 31)
#define FEAT_EDX_HTT		(1U << 28)
#define TOPO_TYPE_SMT		1
#define TOPO_TYPE_CORE		2

struct kvm_cpuid2 *cpuid_supported(int kvm_fd)
{
	struct kvm_cpuid2 *c = NULL;
	unsigned int n;

	for (n = CPUID_FIRST_GUESS; n <= CPUID_MAX_ENTRIES; n *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c) {
			log_error("CPUID table: out of memory");
			return NULL;
		}
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		if (errno != E2BIG)
			break;
	}
	log_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	free(c);
	return NULL;
}

/* Bits an APIC ID needs to number n cores: ceil(log2(n)). */
static unsigned int id_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

static void topology_leaf(struct kvm_cpuid_entry2 *e, unsigned int id, unsigned int nr_vcpus)
{
	/* Level 0: one thread per core. Level 1: nr_vcpus cores per package. Then the list ends. */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = TOPO_TYPE_SMT << 8;
		break;
	case 1:
		e->eax = id_bits(nr_vcpus);
		e->ebx = nr_vcpus;
		e->ecx = TOPO_TYPE_CORE << 8 | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = id;
}

int cpuid_set(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int id, unsigned int nr_vcpus)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *c;
	unsigned int i;
	size_t size;
	int ret = 0;

	size = sizeof(*c) + supported->nent * sizeof(c->entries[0]);
	c = malloc(size);
	if (!c) {
		log_error("vCPU %u: CPUID: out of memory", id);
		return -ENOMEM;
	}
	memcpy(c, supported, size);
	for (i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		switch (e->function) {
		case LEAF_FEATURES:
			/* The guest learns it is virtual (and looks for KVM's leaves) from the hypervisor bit. */
			e->ecx |= FEAT_ECX_HYPERVISOR;
			e->ebx = (e->ebx & 0x0000ffff) | id << 24 | (nr_vcpus & 0xff) << 16;
			if (nr_vcpus > 1)
				e->edx |= FEAT_EDX_HTT;
			break;
		case LEAF_CACHE_PARAMS:
			/* Subleaves with cache type 0 end the list and must stay all zero. */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x03ffffff) | ((1U << id_bits(nr_vcpus)) - 1) << 26;
			break;
		case LEAF_TOPOLOGY:
		case LEAF_TOPOLOGY_V2:
			topology_leaf(e, id, nr_vcpus);
			break;
		case LEAF_AMD_SIZES:
			e->ecx = (e->ecx & ~0xf0ffU) | id_bits(nr_vcpus) << 12 | (nr_vcpus - 1);
			break;
		}
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		log_error("vCPU %u: KVM_SET_CPUID2: %s", id, strerror(errno));
	}
	free(c);
	return ret;
}
