/* unit-sources: vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/log.c */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "bus/iotrap.h"
#include "check.h"
#include "kvm/vm.h"

struct probe {
	unsigned int calls;
	uint64_t addr;
	uint32_t len;
	bool is_write;
	uint8_t written;
};

static void probe_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct probe *p = opaque;

	p->calls++;
	p->addr = addr;
	p->len = len;
	p->is_write = is_write;
	if (is_write)
		p->written = data[0];
	else
		memset(data, 0x5a, len);
}

static struct iotrap t;

static const char *test_overlap_refused(void)
{
	struct probe a = { 0 };

	iotrap_init(&t);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x3f8, 8, probe_io, &a), 0);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x3ff, 1, probe_io, &a), -EEXIST);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x3f0, 9, probe_io, &a), -EEXIST);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x3f0, 0x100, probe_io, &a), -EEXIST);
	/* touching but not overlapping is fine, on either side */
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x3f0, 8, probe_io, &a), 0);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x400, 1, probe_io, &a), 0);
	/* the same addresses on the other bus are a different space */
	CHECK_INT(iotrap_register(&t, IOTRAP_MMIO, 0x3f8, 8, probe_io, &a), 0);
	return NULL;
}

static const char *test_bad_ranges_refused(void)
{
	struct probe a = { 0 };

	iotrap_init(&t);
	CHECK_INT(iotrap_register(&t, IOTRAP_MMIO, 0x1000, 0, probe_io, &a), -EINVAL);
	/* wrapping past the top of the address space */
	CHECK_INT(iotrap_register(&t, IOTRAP_MMIO, UINT64_MAX - 0xf, 0x20, probe_io, &a), -EINVAL);
	CHECK_INT(iotrap_register(&t, IOTRAP_MMIO, UINT64_MAX, 2, probe_io, &a), -EINVAL);
	/* the very last bytes are fine */
	CHECK_INT(iotrap_register(&t, IOTRAP_MMIO, UINT64_MAX - 0xf, 0x10, probe_io, &a), 0);
	CHECK_INT(iotrap_register(&t, IOTRAP_MMIO, 0, UINT64_MAX, probe_io, &a), -EEXIST);
	/* ports end at 0xffff */
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0xfffe, 4, probe_io, &a), -EINVAL);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x10000, 1, probe_io, &a), -EINVAL);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0xfffe, 2, probe_io, &a), 0);
	CHECK_INT(iotrap_register(&t, IOTRAP_NR_BUSES, 0, 1, probe_io, &a), -EINVAL);
	return NULL;
}

static const char *test_dispatch(void)
{
	struct probe a = { 0 }, b = { 0 };
	uint8_t data[8] = { 0x42 };

	iotrap_init(&t);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x60, 1, probe_io, &a), 0);
	CHECK_INT(iotrap_register(&t, IOTRAP_PIO, 0x64, 1, probe_io, &b), 0);
	CHECK(iotrap_dispatch(&t, IOTRAP_PIO, 0x64, data, 1, true));
	CHECK_INT(b.calls, 1);
	CHECK_INT(a.calls, 0);
	CHECK_INT(b.addr, 0x64);
	CHECK_INT(b.written, 0x42);
	CHECK(iotrap_dispatch(&t, IOTRAP_PIO, 0x60, data, 1, false));
	CHECK_INT(a.calls, 1);
	CHECK_INT(data[0], 0x5a);
	/* an MMIO access at the same number is not a port access */
	CHECK(!iotrap_dispatch(&t, IOTRAP_MMIO, 0x60, data, 1, false));
	CHECK_INT(a.calls, 1);
	return NULL;
}

static const char *test_unknown_read_all_ones(void)
{
	struct probe a = { 0 };
	uint8_t data[8];
	int i, saved, null;

	iotrap_init(&t);
	CHECK_INT(iotrap_register(&t, IOTRAP_MMIO, 0xd0000000, 0x200, probe_io, &a), 0);
	memset(data, 0, sizeof(data));
	CHECK(!iotrap_dispatch(&t, IOTRAP_MMIO, 0xd0001000, data, 4, false));
	CHECK_INT(data[0] & data[1] & data[2] & data[3], 0xff);
	CHECK_INT(data[4], 0);
	/* straddling the end of a range is not the device's business either */
	memset(data, 0, sizeof(data));
	CHECK(!iotrap_dispatch(&t, IOTRAP_MMIO, 0xd00001fc, data, 8, false));
	for (i = 0; i < 8; i++)
		CHECK_INT(data[i], 0xff);
	CHECK(!iotrap_dispatch(&t, IOTRAP_MMIO, UINT64_MAX, data, 8, false));
	CHECK(!iotrap_dispatch(&t, IOTRAP_MMIO, 0xd0000000, data, 0, false));
	CHECK(!iotrap_dispatch(&t, IOTRAP_MMIO, 0xd0000000, data, 9, false));
	CHECK_INT(a.calls, 0);
	/* the last 8 bytes of the range are the device's */
	CHECK(iotrap_dispatch(&t, IOTRAP_MMIO, 0xd00001f8, data, 8, false));
	CHECK_INT(a.calls, 1);
	/* a guest scanning thousands of addresses does not grow anything; its log lines are not ours to show */
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	CHECK(saved >= 0 && null >= 0);
	dup2(null, STDERR_FILENO);
	for (i = 0; i < 1000; i++)
		iotrap_dispatch(&t, IOTRAP_PIO, (uint64_t)i, data, 1, true);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	CHECK_INT(t.nr_unknown[IOTRAP_PIO], IOTRAP_MAX_UNKNOWN);
	return NULL;
}

static const char *test_gpa_to_host(void)
{
	static uint8_t ram[4096];
	struct vm vm = { .ram = ram, .ram_size = 4096, .low_size = 2048 };

	/* low RAM is [0, 2048) and high RAM [4 GiB, 4 GiB + 2048) */
	CHECK(vm_gpa_to_host(&vm, 0, 2048) == ram);
	CHECK(vm_gpa_to_host(&vm, 2047, 1) == ram + 2047);
	CHECK(!vm_gpa_to_host(&vm, 2047, 2));
	CHECK(!vm_gpa_to_host(&vm, 2048, 1));
	CHECK(!vm_gpa_to_host(&vm, 1, UINT64_MAX));
	CHECK(!vm_gpa_to_host(&vm, VM_MMIO_HOLE_START, 1));
	CHECK(vm_gpa_to_host(&vm, VM_HIGH_RAM_START, 2048) == ram + 2048);
	CHECK(vm_gpa_to_host(&vm, VM_HIGH_RAM_START + 2047, 1) == ram + 4095);
	CHECK(!vm_gpa_to_host(&vm, VM_HIGH_RAM_START + 2047, 2));
	CHECK(!vm_gpa_to_host(&vm, VM_HIGH_RAM_START + 1, UINT64_MAX));
	CHECK(!vm_gpa_to_host(&vm, UINT64_MAX, 1));
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "iotrap-overlap-refused", test_overlap_refused },
		{ "iotrap-bad-ranges-refused", test_bad_ranges_refused },
		{ "iotrap-dispatch", test_dispatch },
		{ "iotrap-unknown-read-all-ones", test_unknown_read_all_ones },
		{ "vm-gpa-to-host-bounds", test_gpa_to_host },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
