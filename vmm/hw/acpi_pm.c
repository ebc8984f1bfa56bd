#include <string.h>

#include "hw/acpi_pm.h"
#include "fw/acpi.h"
#include "lib/log.h"

#define SLEEP_TYPE_SHIFT	2
#define SLEEP_TYPE_MASK		0x7
#define SLEEP_ENABLE		0x20

static void acpi_pm_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	uint8_t v = data[0];

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (addr == ACPI_SLEEP_CONTROL_PORT && (v & SLEEP_ENABLE) &&
	    ((v >> SLEEP_TYPE_SHIFT) & SLEEP_TYPE_MASK) == ACPI_S5_SLEEP_TYPE)
		vm_request_exit(vm, VM_EXIT_POWEROFF);
	else if (addr == ACPI_RESET_PORT && v == ACPI_RESET_VALUE)
		vm_request_exit(vm, VM_EXIT_REBOOT);
}

int acpi_pm_create(struct vm *vm)
{
	int ret = iotrap_register(&vm->io, IOTRAP_PIO, ACPI_SLEEP_CONTROL_PORT, 3, acpi_pm_io, vm);

	if (ret < 0)
		log_error("ACPI registers at port 0x%x: %s", ACPI_SLEEP_CONTROL_PORT, strerror(-ret));
	return ret;
}

void acpi_pm_power_button(struct vm *vm)
{
	vm_irq_line(vm, ACPI_GED_GSI, 1);
	vm_irq_line(vm, ACPI_GED_GSI, 0);
}
