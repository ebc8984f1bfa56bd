/*
 * A 16-bit payload run through the VMM's own VM, vCPU thread, run loop and iotrap registry on the host's
 * /dev/kvm: port and MMIO accesses reach the registered handler, unknown ones read all ones, and the i8042
 * reset ends the VM as a reboot. Prints tests/run lines; exits 77 without /dev/kvm.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hw/i8042.h"
#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

#include "payload.h"

#define RAM_SIZE	0x10000
#define PAYLOAD_ADDR	0x1000
#define TEST_PORT	0x500
#define TEST_MMIO	0x20000
#define TIMEOUT_MS	10000

/*
 *	mov dx, 0x500 ; mov al, 0x42 ; out dx, al	write 0x42 to the device
 *	in ax, dx ; mov bx, ax				read 2 bytes from it
 *	mov dx, 0x600 ; in ax, dx ; mov cx, ax		read 2 bytes from nowhere
 *	mov dx, 0x501 ; mov ax, bx ; out dx, ax		report both through the device
 *	mov ax, cx ; out dx, ax
 *	mov ax, 0x2000 ; mov ds, ax			MMIO at 0x20000
 *	mov byte [0], 0x77 ; mov al, [4]		write, then read the device
 *	mov dx, 0x502 ; out dx, al
 *	mov ax, 0x3000 ; mov ds, ax ; mov al, [0]	read MMIO from nowhere
 *	out dx, al
 *	mov al, 0xfe ; out 0x64, al			reset through the i8042
 *	hlt
 */
static const uint8_t payload[] = {
	0xba, 0x00, 0x05, 0xb0, 0x42, 0xee,
	0xed, 0x89, 0xc3,
	0xba, 0x00, 0x06, 0xed, 0x89, 0xc1,
	0xba, 0x01, 0x05, 0x89, 0xd8, 0xef,
	0x89, 0xc8, 0xef,
	0xb8, 0x00, 0x20, 0x8e, 0xd8,
	0xc6, 0x06, 0x00, 0x00, 0x77, 0xa0, 0x04, 0x00,
	0xba, 0x02, 0x05, 0xee,
	0xb8, 0x00, 0x30, 0x8e, 0xd8, 0xa0, 0x00, 0x00,
	0xee,
	0xb0, 0xfe, 0xe6, 0x64,
	0xf4,
};

#define MAX_LOG 16

struct access {
	uint64_t addr;
	uint32_t len;
	bool is_write;
	uint64_t value;
};

static struct access log_[MAX_LOG];
static unsigned int nlog;

static void device(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct access *a;

	(void)opaque;
	if (!is_write)
		memset(data, 0x5a, len);
	if (nlog == MAX_LOG)
		return;
	a = &log_[nlog++];
	a->addr = addr;
	a->len = len;
	a->is_write = is_write;
	a->value = 0;
	memcpy(&a->value, data, len);
}

static bool seen(uint64_t addr, bool is_write, uint32_t len, uint64_t value)
{
	unsigned int i;

	for (i = 0; i < nlog; i++)
		if (log_[i].addr == addr && log_[i].is_write == is_write && log_[i].len == len &&
		    (!is_write || log_[i].value == value))
			return true;
	return false;
}

static int setup_real_mode(struct vcpu *vcpu)
{
	struct kvm_regs regs = { .rip = PAYLOAD_ADDR, .rflags = 0x2 };
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int main(void)
{
	struct kvm_cpuid2 *cpuid;
	struct pollfd pfd;
	struct vcpu vcpu;
	struct vm vm;
	int reason, n;
	char why[80];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		printf("skip kvm-iotrap-payload: no usable /dev/kvm\n");
		return 77;
	}
	if (vm_create(&vm, RAM_SIZE) < 0) {
		printf("not ok kvm-iotrap-payload: could not create the VM (see above)\n");
		return 1;
	}
	memcpy(vm_gpa_to_host(&vm, PAYLOAD_ADDR, sizeof(payload)), payload, sizeof(payload));
	cpuid = cpuid_supported(vm.kvm_fd);
	if (!cpuid || iotrap_register(&vm.io, IOTRAP_PIO, TEST_PORT, 4, device, NULL) < 0 ||
	    iotrap_register(&vm.io, IOTRAP_MMIO, TEST_MMIO, 0x1000, device, NULL) < 0 || i8042_create(&vm) < 0 ||
	    vcpu_create(&vcpu, &vm, 0, 1, cpuid) < 0 || setup_real_mode(&vcpu) < 0 || vcpu_start(&vcpu) < 0) {
		printf("not ok kvm-iotrap-payload: could not set up the vCPU (see above)\n");
		return 1;
	}
	pfd = (struct pollfd){ .fd = vm.exit_fd, .events = POLLIN };
	n = poll(&pfd, 1, TIMEOUT_MS);
	if (n <= 0)
		vm_request_exit(&vm, VM_EXIT_ERROR);
	vcpu_stop(&vcpu);
	reason = atomic_load(&vm.exit_reason);

	payload_verdict("kvm-iotrap-pio-write", seen(TEST_PORT, true, 1, 0x42), "no 1-byte write of 0x42 to port 0x500");
	payload_verdict("kvm-iotrap-pio-read", seen(TEST_PORT, false, 2, 0) && seen(TEST_PORT + 1, true, 2, 0x5a5a),
		"guest did not read 0x5a5a from the device");
	payload_verdict("kvm-iotrap-pio-unknown-all-ones", seen(TEST_PORT + 1, true, 2, 0xffff),
		"unknown port did not read 0xffff");
	payload_verdict("kvm-iotrap-mmio", seen(TEST_MMIO, true, 1, 0x77) && seen(TEST_PORT + 2, true, 1, 0x5a),
		"MMIO write 0x77 or read 0x5a at 0x20000 not seen");
	payload_verdict("kvm-iotrap-mmio-unknown-all-ones", seen(TEST_PORT + 2, true, 1, 0xff),
		"unknown MMIO did not read 0xff");
	snprintf(why, sizeof(why), "VM ended with reason %d, expected %d (reboot)", reason, VM_EXIT_REBOOT);
	payload_verdict("kvm-i8042-reset-is-reboot", reason == VM_EXIT_REBOOT, why);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	return payload_status();
}
