#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/bzimage.h"
#include "boot/pvh.h"
#include "fw/acpi.h"
#include "fw/mptable.h"
#include "hw/acpi_pm.h"
#include "hw/serial.h"
#include "lib/file.h"
#include "lib/log.h"
#include "run/load.h"

/* Low-memory addresses of what the loader writes besides the kernel (see docs/vmm.md, memory layout). */
#define ZERO_PAGE_ADDR		0x7000ULL
#define CMDLINE_ADDR		0x20000ULL

/* The tables describe every device the transport can hand out, and every vCPU run takes. */
_Static_assert(VIRTIO_MMIO_MAX_DEVICES <= ACPI_MAX_VIRTIO, "more virtio-mmio slots than the DSDT describes");
_Static_assert(GUEST_MAX_VCPUS <= MPTABLE_MAX_VCPUS, "more vCPUs than the MP table and the MADT describe");

/* Reads the whole of path into a new buffer; every failure is logged with what the file was for. */
static int read_file(const char *what, const char *path, uint8_t **buf, size_t *len)
{
	int ret = file_read(path, SIZE_MAX - 1, buf, len);

	if (ret == 0 && *len == 0) {
		free(*buf);
		*buf = NULL;
		ret = -EINVAL;
	}
	if (ret == -EINVAL)
		log_error("%s %s: not a regular, non-empty file", what, path);
	else if (ret == -EIO)
		log_error("%s %s: file shrank while reading", what, path);
	else if (ret < 0)
		log_error("%s %s: %s", what, path, strerror(-ret));
	return ret;
}

/*
 * Loads the initrd: where the bzImage's header allows (bz), or for a PVH kernel as high in low RAM as it goes,
 * above floor (the kernel's end). Sets *addr and *size.
 */
static int load_initrd(struct vm *vm, const struct bzimage *bz, uint64_t floor, const char *path, uint64_t *addr,
		       uint32_t *size)
{
	char err[160];
	uint8_t *data;
	size_t len;
	void *dst;
	int ret;

	ret = read_file("initrd", path, &data, &len);
	if (ret < 0)
		return ret;
	if (len > UINT32_MAX) {
		log_error("initrd %s: %zu bytes, more than the boot protocol's 4 GiB", path, len);
		ret = -EFBIG;
		goto out;
	}
	if (bz) {
		ret = bzimage_place_initrd(bz, vm->low_size, len, addr, err, sizeof(err));
	} else if (len > vm->low_size || ((vm->low_size - len) & ~0xfffULL) < floor) {
		snprintf(err, sizeof(err), "%zu bytes do not fit between the kernel's end 0x%" PRIx64 " and the end "
			 "of low RAM", len, floor);
		ret = -ENOMEM;
	} else {
		*addr = (vm->low_size - len) & ~0xfffULL;
	}
	if (ret < 0) {
		log_error("initrd %s: %s (--mem too small?)", path, err);
		goto out;
	}
	dst = vm_gpa_to_host(vm, *addr, len);
	if (!dst) {
		ret = -ENOMEM;
		log_error("initrd %s: does not fit in guest RAM", path);
		goto out;
	}
	memcpy(dst, data, len);
	*size = (uint32_t)len;
out:
	free(data);
	return ret;
}

static int load_bzimage(struct vm *vm, const struct run_opts *o, const uint8_t *image, size_t len,
			const char *cmdline, struct run_boot *be)
{
	struct boot_layout layout = { 0 };
	size_t cmdline_len = strlen(cmdline);
	struct bzimage bz;
	char err[160];
	uint8_t *dst;
	int ret;

	ret = bzimage_parse(image, len, cmdline_len, &bz, err, sizeof(err));
	if (ret < 0) {
		log_error("kernel %s: %s", o->kernel, err);
		return ret;
	}
	dst = vm_gpa_to_host(vm, BOOT_KERNEL_ADDR, bz.kernel_size);
	if (!dst || bz.kernel_end > vm->low_size) {
		log_error("kernel %s: needs RAM up to 0x%" PRIx64 ", more than --mem gives", o->kernel,
			  bz.kernel_end);
		return -ENOMEM;
	}
	memcpy(dst, image + bz.setup_size, bz.kernel_size);
	layout.low_ram = vm->low_size;
	layout.high_ram = vm->ram_size - vm->low_size;
	layout.cmdline_addr = CMDLINE_ADDR;
	layout.cmdline_len = (uint32_t)cmdline_len;
	if (o->initrd) {
		ret = load_initrd(vm, &bz, 0, o->initrd, &layout.initrd_addr, &layout.initrd_size);
		if (ret < 0)
			return ret;
	}
	bzimage_zero_page(vm_gpa_to_host(vm, ZERO_PAGE_ADDR, BOOT_ZERO_PAGE_SIZE), image, &bz, &layout);
	*be = (struct run_boot){ .entry = BOOT_KERNEL_ADDR + BOOT_ENTRY_64_OFFSET, .arg = ZERO_PAGE_ADDR };
	return 0;
}

static int load_pvh(struct vm *vm, const struct run_opts *o, const uint8_t *image, size_t len,
		    struct run_boot *be)
{
	struct pvh_layout layout = { 0 };
	struct pvh_image pi;
	uint32_t initrd_size = 0;
	char err[160];
	int ret;

	ret = pvh_parse(image, len, &pi, err, sizeof(err));
	if (ret == 0)
		ret = pvh_load(image, len, vm->ram, vm->low_size, err, sizeof(err));
	if (ret < 0) {
		log_error("kernel %s: %s", o->kernel, err);
		return ret;
	}
	layout.low_ram = vm->low_size;
	layout.high_ram = vm->ram_size - vm->low_size;
	layout.cmdline_addr = CMDLINE_ADDR;
	layout.rsdp_addr = o->no_acpi ? 0 : ACPI_TABLES_ADDR;
	if (o->initrd) {
		ret = load_initrd(vm, NULL, pi.kernel_end, o->initrd, &layout.initrd_addr, &initrd_size);
		if (ret < 0)
			return ret;
		layout.initrd_size = initrd_size;
	}
	pvh_start_info(vm_gpa_to_host(vm, ZERO_PAGE_ADDR, pvh_start_info_size()), ZERO_PAGE_ADDR, &layout);
	*be = (struct run_boot){ .pvh = true, .entry = pi.entry, .arg = ZERO_PAGE_ADDR };
	return 0;
}

int run_load_guest(struct vm *vm, const struct run_opts *o, const char *cmdline, const struct kvm_cpuid2 *cpuid,
		   struct run_boot *be)
{
	uint32_t signature = 0, features = 0;
	uint8_t *image;
	unsigned int i;
	size_t len;
	int ret;

	memcpy(vm_gpa_to_host(vm, CMDLINE_ADDR, strlen(cmdline) + 1), cmdline, strlen(cmdline) + 1);
	ret = read_file("kernel", o->kernel, &image, &len);
	if (ret < 0)
		return ret;
	if (pvh_is_elf(image, len))
		ret = load_pvh(vm, o, image, len, be);
	else
		ret = load_bzimage(vm, o, image, len, cmdline, be);
	free(image);
	if (ret < 0)
		return ret;
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1) {
			signature = cpuid->entries[i].eax;
			features = cpuid->entries[i].edx;
		}
	mptable_build(vm_gpa_to_host(vm, MPTABLE_ADDR, mptable_size(o->vcpus)), MPTABLE_ADDR, o->vcpus, signature,
		      features);
	return 0;
}

int run_load_acpi(struct vm *vm, unsigned int nr_vcpus, struct virtio_dev *const *devs, unsigned int nr)
{
	struct acpi_devices d = {
		.nr_vcpus = nr_vcpus,
		.ioapic_id = (uint8_t)nr_vcpus,		/* as in the MP table */
		.serial_port = SERIAL_COM1_PORT,
		.serial_irq = SERIAL_COM1_IRQ,
		.nr_virtio = nr,
	};
	uint8_t *area = vm_gpa_to_host(vm, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);
	unsigned int i;
	int ret;

	/* More than the tables take is acpi_build()'s -EINVAL. */
	for (i = 0; i < nr && i < ACPI_MAX_VIRTIO; i++) {
		d.virtio[i].base = devs[i]->base;
		d.virtio[i].size = VIRTIO_MMIO_SIZE;
		d.virtio[i].irq = devs[i]->irq;
	}
	ret = area ? acpi_build(area, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &d) : -ENOMEM;
	if (ret < 0) {
		log_error("ACPI tables: %s", strerror(-ret));
		return ret;
	}
	return acpi_pm_create(vm);
}
