/* unit-sources: vmm/fw/acpi.c vmm/fw/aml.c */
/*
 * The ACPI tables: structure and checksums here; when acpica-tools is installed, iasl also disassembles the DSDT,
 * which catches AML the guest's interpreter would refuse.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fw/acpi.h"
#include "fw/aml.h"
#include "lib/le.h"

static uint8_t area[ACPI_TABLES_SIZE];

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const uint8_t *at(uint64_t gpa)
{
	return gpa >= ACPI_TABLES_ADDR && gpa < ACPI_TABLES_ADDR + sizeof(area) ? area + (gpa - ACPI_TABLES_ADDR)
										   : NULL;
}

static const struct acpi_devices two_cpus = {
	.nr_vcpus = 2, .ioapic_id = 2, .serial_port = 0x3f8, .serial_irq = 4, .nr_virtio = 2,
	.virtio = { { 0xd0000000, 0x200, 5 }, { 0xd0001000, 0x200, 6 } },
};

/* As many virtio devices as run makes at most, on the pins virtio/mmio.c hands out. */
static const unsigned int virtio_pins[] = { 5, 6, 7, 9, 10, 11, 12, 14, 17, 18, 19, 20, 21, 22, 23 };

static struct acpi_devices all_pins(void)
{
	struct acpi_devices d = two_cpus;
	unsigned int i;

	d.nr_virtio = sizeof(virtio_pins) / sizeof(virtio_pins[0]);
	for (i = 0; i < d.nr_virtio; i++) {
		d.virtio[i].base = 0xd0000000 + i * 0x1000;
		d.virtio[i].size = 0x200;
		d.virtio[i].irq = virtio_pins[i];
	}
	return d;
}

static const uint8_t *build(const struct acpi_devices *d, int *used)
{
	memset(area, 0xee, sizeof(area));
	*used = acpi_build(area, ACPI_TABLES_ADDR, sizeof(area), d);
	return area;
}

static const uint8_t *dsdt_of(void)
{
	const uint8_t *xsdt = at(le_get64(area + 24));
	const uint8_t *fadt = xsdt ? at(le_get64(xsdt + 36)) : NULL;

	return fadt ? at(le_get64(fadt + 140)) : NULL;
}

static const char *test_tables(void)
{
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
	int used;

	rsdp = build(&two_cpus, &used);
	CHECK(used > 0);
	CHECK(!memcmp(rsdp, "RSD PTR ", 8));
	CHECK_INT(sum(rsdp, 20), 0);
	CHECK_INT(sum(rsdp, 36), 0);
	CHECK_INT(rsdp[15], 2);
	xsdt = at(le_get64(rsdp + 24));
	CHECK(xsdt && !memcmp(xsdt, "XSDT", 4));
	CHECK_INT(le_get32(xsdt + 4), 36 + 16);
	CHECK_INT(sum(xsdt, le_get32(xsdt + 4)), 0);
	fadt = at(le_get64(xsdt + 36));
	madt = at(le_get64(xsdt + 44));
	CHECK(fadt && !memcmp(fadt, "FACP", 4));
	CHECK_INT(le_get32(fadt + 4), 276);
	CHECK_INT(sum(fadt, 276), 0);
	CHECK(le_get32(fadt + 112) & (1U << 20));		/* hardware-reduced */
	CHECK_INT(le_get64(fadt + 244 + 4), ACPI_SLEEP_CONTROL_PORT);
	CHECK_INT(le_get64(fadt + 256 + 4), ACPI_SLEEP_STATUS_PORT);
	CHECK_INT(le_get64(fadt + 116 + 4), ACPI_RESET_PORT);
	CHECK_INT(fadt[128], ACPI_RESET_VALUE);
	CHECK(madt && !memcmp(madt, "APIC", 4));
	CHECK_INT(le_get32(madt + 4), 36 + 8 + 2 * 8 + 12);
	CHECK_INT(sum(madt, le_get32(madt + 4)), 0);
	CHECK_INT(madt[44 + 8 + 3], 1);				/* second LAPIC: APIC ID 1 */
	CHECK_INT(madt[44 + 16], 1);				/* then the IOAPIC */
	CHECK_INT(le_get32(madt + 44 + 16 + 4), 0xfec00000);
	dsdt = dsdt_of();
	CHECK(dsdt && !memcmp(dsdt, "DSDT", 4));
	CHECK_INT(sum(dsdt, le_get32(dsdt + 4)), 0);
	/* Everything lies inside what acpi_build() said it used. */
	CHECK(dsdt + le_get32(dsdt + 4) <= area + used);
	CHECK(fadt + 276 <= area + used);
	/* ... and exactly that much room is enough, with nothing written beyond it. */
	memset(area, 0xee, sizeof(area));
	CHECK_INT(acpi_build(area, ACPI_TABLES_ADDR, (size_t)used, &two_cpus), used);
	CHECK_INT(area[used], 0xee);
	return NULL;
}

static const char *test_too_small(void)
{
	CHECK_INT(acpi_build(area, ACPI_TABLES_ADDR, 100, &two_cpus), -ENOSPC);
	CHECK_INT(acpi_build(area, ACPI_TABLES_ADDR, 400, &two_cpus), -ENOSPC);
	return NULL;
}

static const char *test_bad_devices(void)
{
	struct acpi_devices d = two_cpus;

	d.nr_vcpus = 0;
	CHECK_INT(acpi_build(area, ACPI_TABLES_ADDR, sizeof(area), &d), -EINVAL);
	d = two_cpus;
	d.nr_virtio = ACPI_MAX_VIRTIO + 1;
	CHECK_INT(acpi_build(area, ACPI_TABLES_ADDR, sizeof(area), &d), -EINVAL);
	/* Only IOAPIC pins, and not the GED's */
	d = two_cpus;
	d.virtio[1].irq = 24;
	CHECK_INT(acpi_build(area, ACPI_TABLES_ADDR, sizeof(area), &d), -EINVAL);
	d.virtio[1].irq = ACPI_GED_GSI;
	CHECK_INT(acpi_build(area, ACPI_TABLES_ADDR, sizeof(area), &d), -EINVAL);
	return NULL;
}

/* The Extended Interrupt descriptor of GSI gsi in the DSDT: consumer, edge-triggered, active high, one GSI. */
static bool dsdt_has_irq(const uint8_t *dsdt, unsigned int gsi)
{
	uint8_t want[9] = { 0x89, 6, 0, 0x03, 1 };
	uint32_t i, len = le_get32(dsdt + 4);

	le_put32(want + 5, gsi);
	for (i = 0; i + sizeof(want) <= len; i++)
		if (!memcmp(dsdt + i, want, sizeof(want)))
			return true;
	return false;
}

/* Every pin run hands out, 17-23 as well as the ISA ones, is named for its device, as the guest needs it. */
static const char *test_all_pins(void)
{
	struct acpi_devices d = all_pins();
	const uint8_t *dsdt;
	unsigned int i;
	int used;

	build(&d, &used);
	CHECK(used > 0);
	dsdt = dsdt_of();
	CHECK(dsdt && !memcmp(dsdt, "DSDT", 4));
	CHECK_INT(sum(dsdt, le_get32(dsdt + 4)), 0);
	for (i = 0; i < d.nr_virtio; i++)
		CHECK(dsdt_has_irq(dsdt, d.virtio[i].irq));
	CHECK(dsdt_has_irq(dsdt, ACPI_GED_GSI));
	CHECK(!dsdt_has_irq(dsdt, 8));
	return NULL;
}

/* PkgLength: one byte up to 63, then two bytes up to 4095 (ACPI 6.5, 20.2.4). */
static const char *test_pkg_length(void)
{
	static uint8_t buf[8192];
	static uint8_t filler[5000];
	struct aml a;
	size_t mark;

	aml_init(&a, buf, sizeof(buf));
	mark = aml_package_begin(&a, 0);
	aml_end(&a, mark);
	CHECK(!a.overflow);
	CHECK_INT(a.len, 3);				/* PackageOp, PkgLength 2, NumElements 0 */
	CHECK_INT(buf[1], 2);

	aml_init(&a, buf, sizeof(buf));
	mark = aml_package_begin(&a, 0);
	aml_bytes(&a, filler, 100);
	aml_end(&a, mark);
	CHECK_INT(a.len, 1 + 2 + 1 + 100);
	CHECK_INT(buf[1], 0x40 | ((2 + 1 + 100) & 0xf));
	CHECK_INT(buf[2], (2 + 1 + 100) >> 4);

	aml_init(&a, buf, sizeof(buf));
	mark = aml_package_begin(&a, 0);
	aml_bytes(&a, filler, sizeof(filler));
	aml_end(&a, mark);
	CHECK_INT(a.len, 1 + 3 + 1 + sizeof(filler));
	CHECK_INT(buf[1] >> 6, 2);
	CHECK_INT((buf[1] & 0xf) | buf[2] << 4 | buf[3] << 12, 3 + 1 + sizeof(filler));
	return NULL;
}

static const char *test_aml_names_and_overflow(void)
{
	uint8_t buf[16];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "\\_SB_.PWRB");
	CHECK(!a.overflow);
	CHECK_INT(a.len, 10);
	CHECK_INT(buf[0], '\\');
	CHECK_INT(buf[1], 0x2e);
	CHECK(!memcmp(buf + 2, "_SB_PWRB", 8));
	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "PWR");				/* not four characters */
	CHECK(a.overflow);
	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "a string longer than sixteen bytes");
	CHECK(a.overflow);
	CHECK(a.len <= sizeof(buf));
	return NULL;
}

/* iasl -d must take the DSDT without errors and find every device in it. */
static const char *test_iasl_disassembles(void)
{
	char dir[] = "/tmp/shrike-acpi-XXXXXX", cmd[512], line[256];
	const uint8_t *dsdt;
	struct acpi_devices d = all_pins();
	int used, found = 0;
	FILE *f;

	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		printf("# iasl not installed (acpica-tools): DSDT not disassembled\n");
		return NULL;
	}
	build(&d, &used);
	dsdt = dsdt_of();
	CHECK(dsdt && mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "%s/dsdt.dat", dir);
	f = fopen(cmd, "wb");
	CHECK(f);
	CHECK_INT(fwrite(dsdt, 1, le_get32(dsdt + 4), f), le_get32(dsdt + 4));
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dsdt.dat >iasl.log 2>&1 && cat dsdt.dsl", dir);
	f = popen(cmd, "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f))
		found |= (strstr(line, "\"PNP0501\"") ? 1 : 0) | (strstr(line, "\"LNRO0005\"") ? 2 : 0) |
			 (strstr(line, "\"ACPI0013\"") ? 4 : 0) | (strstr(line, "Notify (\\_SB.PWRB, 0x80)") ? 8 : 0) |
			 (strstr(line, "Name (_S5,") ? 16 : 0) | (strstr(line, "0xD0001000") ? 32 : 0) |
			 (strstr(line, "\"PNP0B00\"") ? 64 : 0) | (strstr(line, "0x0000000E,") ? 128 : 0) |
			 (strstr(line, "0x00000017,") ? 256 : 0) | (strstr(line, "Edge, ActiveHigh") ? 512 : 0);
	CHECK_INT(pclose(f), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return "could not remove the scratch directory";
	CHECK_INT(found, 1023);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "acpi-tables", test_tables },
		{ "acpi-too-small", test_too_small },
		{ "acpi-bad-devices", test_bad_devices },
		{ "acpi-virtio-all-pins", test_all_pins },
		{ "aml-pkg-length", test_pkg_length },
		{ "aml-names-and-overflow", test_aml_names_and_overflow },
		{ "acpi-iasl-disassembles", test_iasl_disassembles },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
