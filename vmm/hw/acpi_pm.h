#ifndef SHRIKE_HW_ACPI_PM_H
#define SHRIKE_HW_ACPI_PM_H

#include "kvm/vm.h"

/*
 * The registers the hardware-reduced FADT names (fw/acpi.h): sleep control (a write of SLP_EN with the _S5
 * sleep type powers the VM off), sleep status (reads 0) and reset (the reset value reboots it). And the power
 * button: a pulse on the Generic Event Device's interrupt, which the guest's ACPI turns into a power button
 * notification, the equivalent of pressing the button on a PC (`virsh shutdown`).
 */
int acpi_pm_create(struct vm *vm);

/* Asks the guest to shut down; it decides how, and may ignore it. */
void acpi_pm_power_button(struct vm *vm);

#endif
