#include "boot/e820.h"
#include "kvm/vm.h"

unsigned int e820_build(struct e820_entry map[E820_MAX_ENTRIES], uint64_t low_ram, uint64_t high_ram)
{
	unsigned int n = 0;

	map[n++] = (struct e820_entry){ 0, E820_BASE_RAM_END, E820_RAM };
	/* Reserved so the guest keeps its hands off the MP table there. */
	map[n++] = (struct e820_entry){ E820_BIOS_START, E820_HIGH_START - E820_BIOS_START, E820_RESERVED };
	if (low_ram > E820_HIGH_START)
		map[n++] = (struct e820_entry){ E820_HIGH_START, low_ram - E820_HIGH_START, E820_RAM };
	if (high_ram)
		map[n++] = (struct e820_entry){ VM_HIGH_RAM_START, high_ram, E820_RAM };
	return n;
}
