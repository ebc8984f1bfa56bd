#ifndef SHRIKE_HW_ABSENT_H
#define SHRIKE_HW_ABSENT_H

#include "kvm/vm.h"

/*
 * Ports a PC guest probes at every boot for hardware this VMM does not have: the PCI configuration mechanism
 * (0xcf8-0xcff: no host bridge), COM2-COM4, Super I/O index ports, the DMA page register. They read as all ones
 * and ignore writes, as unknown ports do, but without the "no device there" log line: these are expected, and
 * logging them buried the lines that matter (about 15 per guest boot).
 */
int absent_create(struct vm *vm);

#endif
