/*
 * A 64-bit payload that drives a virtio-rng device through the VMM's own VM, vCPU thread, run loop, iotrap
 * registry and virtio-mmio transport on the host's /dev/kvm, handing it malformed chains: a cycle, a buffer
 * outside RAM, addr + len overflowing 2^64, a zero-length buffer, then a good chain and a queue size changed after
 * DRIVER_OK. The VMM must survive each, answer with NEEDS_RESET, log once, and work again after a reset. Prints
 * tests/run lines; exits 77 without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/i8042.h"
#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"
#include "virtio/mmio.h"
#include "virtio/queue.h"
#include "virtio/rng.h"

#include "payload.h"

#define RAM_SIZE	0x10000
#define PAYLOAD_ADDR	0x1000
#define DESC_GPA	0x2000
#define AVAIL_GPA	0x3000	/* one avail ring per round, 0x100 apart */
#define USED_GPA	0x4000
#define RESULT_GPA	0x5000	/* status after each round's notify; +0x20: after its QueueNum write */
#define BUF_GPA		0x6000
#define ZERO_PAGE_ADDR	0x7000
#define ROUNDS		5
#define TIMEOUT_MS	10000

/*
 * (GNU as, .code64, Intel syntax)
 *	mov rbx, 0xd0000000 ; mov esi, 0x3000 ; mov edi, 0x5000 ; mov ecx, 5
 * round:
 *	Status = 0, 3; DriverFeaturesSel = 1; DriverFeatures = 1 (VERSION_1); Status = 0xb
 *	QueueSel = 0; QueueNum = 8; QueueDesc = 0x2000; QueueDriver = esi; QueueDevice = 0x4000; QueueReady = 1
 *	Status = 0xf; QueueNotify = 0; [rdi] = Status
 *	QueueNum = 4; [rdi + 0x20] = Status
 *	add esi, 0x100 ; add edi, 4 ; dec ecx ; jnz round
 *	Status = 0; [rdi + 0x20] = Status
 *	mov al, 0xfe ; out 0x64, al ; hlt		reset through the i8042
 */
static const uint8_t payload[] = {
	0x48, 0xbb, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x00, 0x00, 0x00, 0xbe, 0x00,
	0x30, 0x00, 0x00, 0xbf, 0x00, 0x50, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00,
	0x00, 0xc7, 0x43, 0x70, 0x00, 0x00, 0x00, 0x00, 0xc7, 0x43, 0x70, 0x03,
	0x00, 0x00, 0x00, 0xc7, 0x43, 0x24, 0x01, 0x00, 0x00, 0x00, 0xc7, 0x43,
	0x20, 0x01, 0x00, 0x00, 0x00, 0xc7, 0x43, 0x70, 0x0b, 0x00, 0x00, 0x00,
	0xc7, 0x43, 0x30, 0x00, 0x00, 0x00, 0x00, 0xc7, 0x43, 0x38, 0x08, 0x00,
	0x00, 0x00, 0xc7, 0x83, 0x80, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
	0x89, 0xb3, 0x90, 0x00, 0x00, 0x00, 0xc7, 0x83, 0xa0, 0x00, 0x00, 0x00,
	0x00, 0x40, 0x00, 0x00, 0xc7, 0x43, 0x44, 0x01, 0x00, 0x00, 0x00, 0xc7,
	0x43, 0x70, 0x0f, 0x00, 0x00, 0x00, 0xc7, 0x43, 0x50, 0x00, 0x00, 0x00,
	0x00, 0x8b, 0x43, 0x70, 0x89, 0x07, 0xc7, 0x43, 0x38, 0x04, 0x00, 0x00,
	0x00, 0x8b, 0x43, 0x70, 0x89, 0x47, 0x20, 0x81, 0xc6, 0x00, 0x01, 0x00,
	0x00, 0x83, 0xc7, 0x04, 0xff, 0xc9, 0x75, 0x81, 0xc7, 0x43, 0x70, 0x00,
	0x00, 0x00, 0x00, 0x8b, 0x43, 0x70, 0x89, 0x47, 0x20, 0xb0, 0xfe, 0xe6,
	0x64, 0xf4,
};

static void set_desc(uint8_t *ram, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(ram + DESC_GPA + i * sizeof(d), &d, sizeof(d));
}

/* Round r makes descriptor r available on its own avail ring. */
static void prepare(uint8_t *ram)
{
	uint16_t ring[3];
	unsigned int r;

	set_desc(ram, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);	/* points at itself */
	set_desc(ram, 1, RAM_SIZE, 16, VIRTQ_DESC_F_WRITE, 0);				/* beyond RAM */
	set_desc(ram, 2, UINT64_MAX - 0xf, 0x20, VIRTQ_DESC_F_WRITE, 0);		/* wraps past 2^64 */
	set_desc(ram, 3, BUF_GPA, 0, VIRTQ_DESC_F_WRITE, 0);				/* zero length */
	set_desc(ram, 4, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);				/* good */
	for (r = 0; r < ROUNDS; r++) {
		ring[0] = 0;
		ring[1] = 1;
		ring[2] = (uint16_t)r;
		memcpy(ram + AVAIL_GPA + r * 0x100, ring, sizeof(ring));
	}
}

static uint32_t result(const uint8_t *ram, unsigned int off)
{
	uint32_t v;

	memcpy(&v, ram + RESULT_GPA + off, 4);
	return v;
}

/* Lines the VMM wrote to stderr (redirected to a file by main) that mention a needed reset. */
static int reset_lines(int fd)
{
	char buf[4096], *p;
	ssize_t n;
	int lines = 0;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "needs a reset")); p++)
		lines++;
	return lines;
}

int main(void)
{
	static const char *const names[ROUNDS - 1] = { "cycle", "outside-ram", "addr-len-overflow", "zero-length" };
	struct kvm_cpuid2 *cpuid;
	struct virtio_dev *rng = NULL;
	char path[] = "/tmp/shrike-virtio-payload-XXXXXX", name[64], why[96];
	struct pollfd pfd;
	struct vcpu vcpu;
	struct vm vm;
	int reason, n, log_fd, saved;
	unsigned int r;
	uint8_t *ram;
	uint16_t used_idx;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		printf("skip kvm-virtio-payload: no usable /dev/kvm\n");
		return 77;
	}
	if (vm_create(&vm, RAM_SIZE) < 0) {
		printf("not ok kvm-virtio-payload: could not create the VM (see above)\n");
		return 1;
	}
	ram = vm_gpa_to_host(&vm, 0, RAM_SIZE);
	memcpy(ram + PAYLOAD_ADDR, payload, sizeof(payload));
	prepare(ram);
	cpuid = cpuid_supported(vm.kvm_fd);
	if (!cpuid || virtio_rng_create(&vm, &rng) < 0 || i8042_create(&vm) < 0 ||
	    vcpu_create(&vcpu, &vm, 0, 1, cpuid) < 0 ||
	    vcpu_setup_long_mode(&vcpu, PAYLOAD_ADDR, ZERO_PAGE_ADDR) < 0) {
		printf("not ok kvm-virtio-payload: could not set up the VM (see above)\n");
		return 1;
	}
	/* The VMM's log goes to a file for counting, then to our stderr. */
	log_fd = mkstemp(path);
	saved = dup(STDERR_FILENO);
	if (log_fd < 0 || saved < 0) {
		printf("not ok kvm-virtio-payload: temporary file: %s\n", strerror(errno));
		return 1;
	}
	unlink(path);
	dup2(log_fd, STDERR_FILENO);
	if (vcpu_start(&vcpu) < 0)
		vm_request_exit(&vm, VM_EXIT_ERROR);
	pfd = (struct pollfd){ .fd = vm.exit_fd, .events = POLLIN };
	n = poll(&pfd, 1, TIMEOUT_MS);
	if (n <= 0)
		vm_request_exit(&vm, VM_EXIT_ERROR);
	vcpu_stop(&vcpu);
	dup2(saved, STDERR_FILENO);
	reason = atomic_load(&vm.exit_reason);

	snprintf(why, sizeof(why), "VM ended with reason %d, expected %d (the payload's reboot)", reason,
		 VM_EXIT_REBOOT);
	payload_verdict("kvm-virtio-payload-survives", reason == VM_EXIT_REBOOT, why);
	for (r = 0; r < ROUNDS - 1; r++) {
		snprintf(name, sizeof(name), "kvm-virtio-%s-needs-reset", names[r]);
		snprintf(why, sizeof(why), "Status after notify is 0x%x, expected 0x4f", result(ram, r * 4));
		payload_verdict(name, result(ram, r * 4) == 0x4f, why);
	}
	memcpy(&used_idx, ram + USED_GPA + 2, 2);
	snprintf(why, sizeof(why), "Status 0x%x, used idx %u after a good chain; expected 0xf and 1",
		 result(ram, (ROUNDS - 1) * 4), used_idx);
	payload_verdict("kvm-virtio-works-after-reset", result(ram, (ROUNDS - 1) * 4) == 0xf && used_idx == 1, why);
	snprintf(why, sizeof(why), "Status 0x%x after QueueNum written after DRIVER_OK, expected 0x4f",
		 result(ram, 0x20 + (ROUNDS - 1) * 4));
	payload_verdict("kvm-virtio-queue-frozen-after-driver-ok", result(ram, 0x20 + (ROUNDS - 1) * 4) == 0x4f, why);
	snprintf(why, sizeof(why), "Status 0x%x after writing 0, expected 0", result(ram, 0x20 + ROUNDS * 4));
	payload_verdict("kvm-virtio-status-0-resets", result(ram, 0x20 + ROUNDS * 4) == 0, why);
	n = reset_lines(log_fd);
	snprintf(why, sizeof(why), "%d log lines about a needed reset, expected 1", n);
	payload_verdict("kvm-virtio-violation-logged-once", n == 1, why);
	vcpu_destroy(&vcpu);
	rng->ops->destroy(rng);
	vm_destroy(&vm);
	free(cpuid);
	return payload_status();
}
