#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "kvm/probe.h"

#define GUEST_PAGE	0x1000		/* guest-physical address of the one memory page, and of the payload */
#define GUEST_PAGE_SIZE	0x1000
/* Intel without unrestricted guest emulates real mode through a TSS; three pages out of the guest's way. */
#define GUEST_TSS	0xfffbd000
/* The VM has no devices, so any port exits to us; 0xe9 is the conventional debug port. */
#define GUEST_PORT	0xe9
/* The guest exits twice (out, hlt); the rest is slack for KVM_RUN calls a stray signal interrupts. */
#define RUN_LIMIT	16
/* The guest runs ~200 instructions: well under a millisecond even on a software-nested KVM. */
#define RUN_TIMEOUT_S	2

/*
 * 16-bit real mode, loaded at GUEST_PAGE with cs = 0:
 *
 *	mov	cx, 100		; b9 64 00
 *	xor	ax, ax		; 31 c0
 * 1:	add	ax, cx		; 01 c8
 *	loop	1b		; e2 fc
 *	out	0xe9, ax	; e7 e9
 *	hlt			; f4
 */
static const uint8_t payload[] = {
	0xb9, 0x64, 0x00,
	0x31, 0xc0,
	0x01, 0xc8,
	0xe2, 0xfc,
	0xe7, GUEST_PORT,
	0xf4,
};

/*
 * A guest that never exits would keep KVM_RUN busy forever and hang the boot, which no count of KVM_RUN calls
 * can prevent: a one-shot SIGALRM interrupts it. The handler reads the vCPU's kvm_run from here.
 */
static struct kvm_run *volatile watchdog_run;

static int fail(struct kvm_probe_result *r, const char *what, int err)
{
	snprintf(r->error, sizeof(r->error), "%s: %s", what, strerror(err));
	return -err;
}

static int fail_errno(struct kvm_probe_result *r, const char *what)
{
	return fail(r, what, errno);
}

static void watchdog_fire(int sig)
{
	struct kvm_run *run = watchdog_run;

	(void)sig;
	/* A signal during KVM_RUN makes it return EINTR; one between two calls would be lost without this. */
	if (run)
		run->immediate_exit = 1;
}

static void watchdog_disarm(const struct sigaction *old_action, const sigset_t *old_mask)
{
	struct itimerval off = { 0 };

	setitimer(ITIMER_REAL, &off, NULL);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	sigaction(SIGALRM, old_action, NULL);
	watchdog_run = NULL;
}

static int watchdog_arm(struct kvm_run *run, struct sigaction *old_action, sigset_t *old_mask)
{
	struct sigaction sa = { .sa_handler = watchdog_fire };	/* no SA_RESTART: KVM_RUN must return */
	struct itimerval timeout = { .it_value = { .tv_sec = RUN_TIMEOUT_S } };
	sigset_t alrm;
	int err;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	watchdog_run = run;
	if (sigaction(SIGALRM, &sa, old_action) < 0) {
		err = errno;
		watchdog_run = NULL;
		return -err;
	}
	sigprocmask(SIG_UNBLOCK, &alrm, old_mask);
	if (setitimer(ITIMER_REAL, &timeout, NULL) < 0) {
		err = errno;
		watchdog_disarm(old_action, old_mask);
		return -err;
	}
	return 0;
}

static int setup_vcpu(int vcpu, struct kvm_probe_result *r)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = GUEST_PAGE, .rflags = 0x2 };	/* bit 1 of rflags is reserved, always 1 */

	/* The vCPU starts at the reset vector f000:fff0; point cs at the payload instead. */
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail_errno(r, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail_errno(r, "KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail_errno(r, "KVM_SET_REGS");
	return 0;
}

static int run_guest(int vcpu, struct kvm_run *run, struct kvm_probe_result *r)
{
	bool seen = false;
	uint16_t value;
	int i;

	for (i = 0; i < RUN_LIMIT; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno != EINTR)
				return fail_errno(r, "KVM_RUN");
			if (run->immediate_exit) {
				snprintf(r->error, sizeof(r->error), "guest did not halt within %d s", RUN_TIMEOUT_S);
				return -ETIMEDOUT;
			}
			continue;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != GUEST_PORT ||
			    run->io.size != sizeof(value) || run->io.count != 1) {
				snprintf(r->error, sizeof(r->error), "guest did unexpected I/O: %s port 0x%x size %u",
					 run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
					 run->io.size);
				return -EIO;
			}
			memcpy(&value, (const char *)run + run->io.data_offset, sizeof(value));
			r->value = value;
			seen = true;
			break;
		case KVM_EXIT_HLT:
			if (!seen) {
				snprintf(r->error, sizeof(r->error), "guest halted without writing its result");
				return -EIO;
			}
			if (r->value != KVM_PROBE_EXPECTED) {
				snprintf(r->error, sizeof(r->error), "guest computed %u, expected %u", r->value,
					 KVM_PROBE_EXPECTED);
				return -EIO;
			}
			return 0;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(r->error, sizeof(r->error), "KVM_RUN: entry failed, hardware reason 0x%llx",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return -EIO;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(r->error, sizeof(r->error), "KVM_RUN: internal error, suberror %u",
				 run->internal.suberror);
			return -EIO;
		default:
			snprintf(r->error, sizeof(r->error), "KVM_RUN: unexpected exit reason %u", run->exit_reason);
			return -EIO;
		}
	}
	snprintf(r->error, sizeof(r->error), "guest did not halt after %d KVM_RUN calls", RUN_LIMIT);
	return -EIO;
}

int kvm_probe(struct kvm_probe_result *r)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_PAGE,
		.memory_size = GUEST_PAGE_SIZE,
	};
	struct kvm_run *run = MAP_FAILED;
	void *mem = MAP_FAILED;
	int kvm, vm = -1, vcpu = -1;
	struct sigaction old_action;
	sigset_t old_mask;
	int run_size = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail_errno(r, "/dev/kvm");

	r->api_version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (r->api_version < 0) {
		ret = fail_errno(r, "KVM_GET_API_VERSION");
		goto out;
	}
	if (r->api_version != KVM_API_VERSION) {
		snprintf(r->error, sizeof(r->error), "KVM_GET_API_VERSION: %d, expected %d", r->api_version,
			 KVM_API_VERSION);
		ret = -EPROTO;
		goto out;
	}

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		ret = fail_errno(r, "KVM_CREATE_VM");
		goto out;
	}
	if (ioctl(vm, KVM_SET_TSS_ADDR, GUEST_TSS) < 0) {
		ret = fail_errno(r, "KVM_SET_TSS_ADDR");
		goto out;
	}

	mem = mmap(NULL, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		ret = fail_errno(r, "guest memory");
		goto out;
	}
	memcpy(mem, payload, sizeof(payload));
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		ret = fail_errno(r, "KVM_SET_USER_MEMORY_REGION");
		goto out;
	}

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		ret = fail_errno(r, "KVM_CREATE_VCPU");
		goto out;
	}
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0) {
		ret = fail_errno(r, "KVM_GET_VCPU_MMAP_SIZE");
		goto out;
	}
	if ((size_t)run_size < sizeof(*run)) {
		snprintf(r->error, sizeof(r->error), "KVM_GET_VCPU_MMAP_SIZE: %d, smaller than struct kvm_run",
			 run_size);
		ret = -EPROTO;
		goto out;
	}
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		ret = fail_errno(r, "vCPU mmap");
		goto out;
	}

	ret = setup_vcpu(vcpu, r);
	if (ret < 0)
		goto out;

	ret = watchdog_arm(run, &old_action, &old_mask);
	if (ret < 0) {
		ret = fail(r, "watchdog timer", -ret);
		goto out;
	}
	ret = run_guest(vcpu, run, r);
	watchdog_disarm(&old_action, &old_mask);

out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (mem != MAP_FAILED)
		munmap(mem, GUEST_PAGE_SIZE);
	close(kvm);
	return ret;
}
