#ifndef SHRIKE_KVM_VM_H
#define SHRIKE_KVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/iotrap.h"

/*
 * Guest-physical memory: RAM from 0 up to the 32-bit MMIO hole, the rest from 4 GiB up, both backed by one
 * anonymous mapping. The hole holds the IOAPIC, LAPIC and KVM's TSS/identity-map pages.
 */
#define VM_MMIO_HOLE_START	0xc0000000ULL
#define VM_HIGH_RAM_START	0x100000000ULL

/* Why a VM ended; run maps these to exit statuses. */
enum vm_exit {
	VM_RUNNING,
	VM_EXIT_POWEROFF,
	VM_EXIT_REBOOT,
	VM_EXIT_CRASH,
	VM_EXIT_ERROR,
	VM_EXIT_SIGNAL,		/* the host asked run to stop */
	VM_EXIT_WATCHDOG,	/* the guest's watchdog expired (hw/ib700.h) */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	uint8_t *ram;		/* ram_size bytes: [0, low_size) at gpa 0, the rest at VM_HIGH_RAM_START */
	uint64_t ram_size;
	uint64_t low_size;
	int run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	struct iotrap io;
	_Atomic int exit_reason;	/* enum vm_exit; the first vm_request_exit() wins */
	int exit_fd;		/* eventfd, readable once exit_reason is set */
	/* Pause (kvm/vcpu.c): the vCPU threads park on pause_cond while paused is set. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	_Atomic bool paused;
	unsigned int parked;	/* vCPU threads parked, under pause_lock */
	unsigned int virtio_slots;	/* virtio-mmio windows and pins handed out (virtio/mmio.c) */
};

/* Opens /dev/kvm and builds a VM with ram_size bytes of RAM, irqchip and PIT. Errors are logged. */
int vm_create(struct vm *vm, uint64_t ram_size);
void vm_destroy(struct vm *vm);

/* The host address of guest bytes [gpa, gpa + len), or NULL unless all of them are RAM. */
void *vm_gpa_to_host(const struct vm *vm, uint64_t gpa, uint64_t len);

/* Asserts (level 1) or deasserts (0) an interrupt line of the in-kernel PIC and IOAPIC. */
int vm_irq_line(struct vm *vm, unsigned int irq, int level);

/* Records why the VM should stop (the first reason sticks) and wakes the thread waiting on exit_fd. */
void vm_request_exit(struct vm *vm, enum vm_exit reason);

#endif
