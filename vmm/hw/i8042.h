#ifndef SHRIKE_HW_I8042_H
#define SHRIKE_HW_I8042_H

#include "kvm/vm.h"

/*
 * Just enough of the PC keyboard controller for a guest to reset the machine with it (Linux reboot=k): command
 * 0xfe (pulse the reset line) ends the VM with a reboot. There is no keyboard or mouse behind it.
 */
int i8042_create(struct vm *vm);

#endif
