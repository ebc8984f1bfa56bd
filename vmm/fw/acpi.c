#include <errno.h>
#include <string.h>

#include "fw/acpi.h"
#include "fw/aml.h"
#include "fw/mptable.h"
#include "lib/le.h"

#define OEM_ID			"SHRIKE"
#define OEM_TABLE_ID		"SHRIKEVM"
#define CREATOR_ID		"SHRK"
#define HEADER_SIZE		36
#define RSDP_SIZE		36

#define FADT_REVISION		6
#define FADT_MINOR		5
#define FADT_SIZE		276
#define FADT_FLAG_PWR_BUTTON	(1U << 4)	/* no fixed-feature power button: ours is a device */
#define FADT_FLAG_SLP_BUTTON	(1U << 5)
#define FADT_FLAG_RESET_REG_SUP	(1U << 10)
#define FADT_FLAG_HW_REDUCED	(1U << 20)
#define IAPC_VGA_NOT_PRESENT	(1U << 2)
#define IAPC_MSI_NOT_SUPPORTED	(1U << 3)
#define IAPC_PCIE_ASPM_CONTROLS	(1U << 4)
#define ACPI_RTC_CENTURY	0x32	/* the CMOS byte that holds the century (hw/rtc.c) */
#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_LAPIC_ENABLED	1

/* Resource descriptors (ACPI 6.5, 6.4) */
#define RES_IRQ_NO_FLAGS	0x22
#define RES_IO			0x47
#define RES_END			0x79
#define RES_MEMORY32_FIXED	0x86
#define RES_EXT_IRQ		0x89
#define EXT_IRQ_CONSUMER	0x01
#define EXT_IRQ_EDGE		0x02
#define GED_NOTIFY_POWER	0x80

struct table_writer {
	uint8_t *buf;
	uint64_t gpa;
	size_t size;
	size_t used;
};

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

/* Room for len bytes, 16-byte aligned, zeroed; NULL if the area is full. */
static uint8_t *take(struct table_writer *w, size_t len, uint64_t *gpa)
{
	size_t at = (w->used + 15) & ~(size_t)15;

	if (at > w->size || len > w->size - at)
		return NULL;
	w->used = at + len;
	*gpa = w->gpa + at;
	memset(w->buf + at, 0, len);
	return w->buf + at;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t revision)
{
	memcpy(t, sig, 4);
	le_put32(t + 4, len);
	t[8] = revision;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	le_put32(t + 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	le_put32(t + 32, 1);
}

static void seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* A Generic Address Structure naming one byte-wide I/O port. */
static void gas_port(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8;
	g[2] = 0;
	g[3] = GAS_ACCESS_BYTE;
	le_put64(g + 4, port);
}

static int build_fadt(struct table_writer *w, uint64_t dsdt, uint64_t *gpa)
{
	uint8_t *t = take(w, FADT_SIZE, gpa);

	if (!t)
		return -ENOSPC;
	header(t, "FACP", FADT_SIZE, FADT_REVISION);
	t[108] = ACPI_RTC_CENTURY;
	le_put16(t + 109, IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED | IAPC_PCIE_ASPM_CONTROLS);
	le_put32(t + 112, FADT_FLAG_HW_REDUCED | FADT_FLAG_PWR_BUTTON | FADT_FLAG_SLP_BUTTON |
		 FADT_FLAG_RESET_REG_SUP);
	gas_port(t + 116, ACPI_RESET_PORT);
	t[128] = ACPI_RESET_VALUE;
	t[131] = FADT_MINOR;
	le_put64(t + 140, dsdt);
	gas_port(t + 244, ACPI_SLEEP_CONTROL_PORT);
	gas_port(t + 256, ACPI_SLEEP_STATUS_PORT);
	memcpy(t + 268, "SHRIKEVM", 8);	/* hypervisor vendor identity */
	seal(t, FADT_SIZE);
	return 0;
}

static int build_madt(struct table_writer *w, const struct acpi_devices *d, uint64_t *gpa)
{
	uint32_t len = HEADER_SIZE + 8 + 8 * d->nr_vcpus + 12;
	uint8_t *t = take(w, len, gpa), *e;
	unsigned int i;

	if (!t)
		return -ENOSPC;
	header(t, "APIC", len, 5);
	le_put32(t + 36, MPTABLE_LAPIC_ADDR);
	le_put32(t + 40, 0);		/* no 8259 pair: hardware-reduced guests do not use one */
	e = t + 44;
	for (i = 0; i < d->nr_vcpus; i++, e += 8) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC ID */
		le_put32(e + 4, MADT_LAPIC_ENABLED);
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = d->ioapic_id;
	le_put32(e + 4, MPTABLE_IOAPIC_ADDR);
	le_put32(e + 8, 0);		/* GSI base */
	seal(t, len);
	return 0;
}

static void res_ext_irq(uint8_t *r, unsigned int gsi)
{
	r[0] = RES_EXT_IRQ;
	le_put16(r + 1, 6);
	r[3] = EXT_IRQ_CONSUMER | EXT_IRQ_EDGE;	/* every line here is pulsed, active high */
	r[4] = 1;
	le_put32(r + 5, gsi);
}

static void device_ids(struct aml *a, const char *hid, unsigned int uid)
{
	aml_name_decl(a, "_HID");
	aml_string(a, hid);
	aml_name_decl(a, "_UID");
	aml_integer(a, uid);
}

static void dsdt_serial(struct aml *a, const struct acpi_devices *d)
{
	uint8_t crs[8 + 3 + 2] = { RES_IO, 0x01 }, *r = crs + 8;
	size_t dev;

	le_put16(crs + 2, d->serial_port);
	le_put16(crs + 4, d->serial_port);
	crs[6] = 1;
	crs[7] = 8;
	r[0] = RES_IRQ_NO_FLAGS;
	le_put16(r + 1, (uint16_t)(1U << d->serial_irq));
	r[3] = RES_END;
	dev = aml_device_begin(a, "COM1");
	device_ids(a, "PNP0501", 0);
	aml_name_decl(a, "_CRS");
	aml_buffer(a, crs, sizeof(crs));
	aml_end(a, dev);
}

/*
 * The CMOS RTC (hw/rtc.c) at ports 0x70-0x71. Without it in the DSDT a hardware-reduced guest has no IRQ 8 to
 * give its rtc-cmos driver, which then refuses the device.
 */
static void dsdt_rtc(struct aml *a)
{
	static const uint8_t crs[] = {
		RES_IO, 0x01, 0x70, 0x00, 0x70, 0x00, 1, 2,
		RES_IRQ_NO_FLAGS, 1U << 8 & 0xff, (1U << 8) >> 8,
		RES_END, 0,
	};
	size_t dev = aml_device_begin(a, "RTC_");

	device_ids(a, "PNP0B00", 0);
	aml_name_decl(a, "_CRS");
	aml_buffer(a, crs, sizeof(crs));
	aml_end(a, dev);
}

static void dsdt_virtio(struct aml *a, const struct acpi_devices *d, unsigned int i)
{
	uint8_t crs[12 + 9 + 2] = { RES_MEMORY32_FIXED, 9, 0, 1 };
	char name[5] = "VR00";
	size_t dev;

	le_put32(crs + 4, (uint32_t)d->virtio[i].base);
	le_put32(crs + 8, d->virtio[i].size);
	res_ext_irq(crs + 12, d->virtio[i].irq);
	crs[21] = RES_END;
	name[2] = (char)('0' + i / 10);
	name[3] = (char)('0' + i % 10);
	dev = aml_device_begin(a, name);
	device_ids(a, "LNRO0005", i);
	aml_name_decl(a, "_CRS");
	aml_buffer(a, crs, sizeof(crs));
	aml_end(a, dev);
}

/* The power button, and the Generic Event Device whose interrupt makes the guest's ACPI notify it. */
static void dsdt_power_button(struct aml *a)
{
	uint8_t crs[9 + 2];
	size_t dev, method, cond;

	dev = aml_device_begin(a, "PWRB");
	device_ids(a, "PNP0C0C", 0);
	aml_end(a, dev);

	res_ext_irq(crs, ACPI_GED_GSI);
	crs[9] = RES_END;
	crs[10] = 0;
	dev = aml_device_begin(a, "GED0");
	device_ids(a, "ACPI0013", 0);
	aml_name_decl(a, "_CRS");
	aml_buffer(a, crs, sizeof(crs));
	method = aml_method_begin(a, "_EVT", 1);
	cond = aml_if_arg_equals(a, 0, ACPI_GED_GSI);
	aml_notify(a, "\\_SB_.PWRB", GED_NOTIFY_POWER);
	aml_end(a, cond);
	aml_end(a, method);
	aml_end(a, dev);
}

static int build_dsdt(struct table_writer *w, const struct acpi_devices *d, uint64_t *gpa)
{
	size_t room = w->size - w->used > 16 ? w->size - w->used - 16 : 0;
	uint8_t *t = take(w, room, gpa);
	struct aml a;
	size_t scope, pkg;
	unsigned int i;

	if (!t || room < HEADER_SIZE)
		return -ENOSPC;
	aml_init(&a, t + HEADER_SIZE, room - HEADER_SIZE);
	aml_name_decl(&a, "_S5_");
	pkg = aml_package_begin(&a, 2);
	aml_integer(&a, ACPI_S5_SLEEP_TYPE);
	aml_integer(&a, 0);
	aml_end(&a, pkg);
	scope = aml_scope_begin(&a, "\\_SB_");
	if (d->serial_port)
		dsdt_serial(&a, d);
	dsdt_rtc(&a);
	for (i = 0; i < d->nr_virtio; i++)
		dsdt_virtio(&a, d, i);
	dsdt_power_button(&a);
	aml_end(&a, scope);
	if (a.overflow)
		return -ENOSPC;
	/* Give back what the DSDT did not use. */
	w->used -= room - HEADER_SIZE - a.len;
	header(t, "DSDT", (uint32_t)(HEADER_SIZE + a.len), 2);
	seal(t, (uint32_t)(HEADER_SIZE + a.len));
	return 0;
}

int acpi_build(uint8_t *buf, uint64_t gpa, size_t size, const struct acpi_devices *d)
{
	struct table_writer w = { .buf = buf, .gpa = gpa, .size = size };
	uint64_t rsdp_gpa, xsdt, fadt, madt, dsdt;
	uint32_t xsdt_len = HEADER_SIZE + 2 * 8;
	uint8_t *rsdp, *x;
	unsigned int i;
	int ret;

	if (d->nr_vcpus == 0 || d->nr_vcpus > MPTABLE_MAX_VCPUS || d->nr_virtio > ACPI_MAX_VIRTIO ||
	    d->serial_irq > 15)
		return -EINVAL;
	for (i = 0; i < d->nr_virtio; i++)
		if (d->virtio[i].irq >= ACPI_IOAPIC_PINS || d->virtio[i].irq == ACPI_GED_GSI)
			return -EINVAL;
	rsdp = take(&w, RSDP_SIZE, &rsdp_gpa);
	x = take(&w, xsdt_len, &xsdt);
	if (!rsdp || !x)
		return -ENOSPC;
	ret = build_madt(&w, d, &madt);
	if (ret < 0)
		return ret;
	ret = build_dsdt(&w, d, &dsdt);
	if (ret < 0)
		return ret;
	ret = build_fadt(&w, dsdt, &fadt);
	if (ret < 0)
		return ret;

	header(x, "XSDT", xsdt_len, 1);
	le_put64(x + 36, fadt);
	le_put64(x + 44, madt);
	seal(x, xsdt_len);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	rsdp[15] = 2;			/* ACPI 2.0+: use the XSDT */
	le_put32(rsdp + 20, RSDP_SIZE);
	le_put64(rsdp + 24, xsdt);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, RSDP_SIZE);
	return (int)w.used;
}
