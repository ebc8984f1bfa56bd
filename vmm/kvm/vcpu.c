#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "lib/log.h"

/* Boot-time structures in low guest memory, below the zero page's neighbours and above the real-mode IVT. */
#define BOOT_GDT_ADDR		0x500ULL
#define BOOT_PML4_ADDR		0x9000ULL
#define BOOT_PDPT_ADDR		0xa000ULL
#define BOOT_PD_ADDR		0xb000ULL	/* four page directories, one per GiB */
#define BOOT_MAPPED_GIB		4

#define PTE_PRESENT_RW		0x3ULL
#define PTE_HUGE		0x80ULL
#define GIB			0x40000000ULL
#define HUGE_PAGE		0x200000ULL

/* The boot protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
#define GDT_CODE		2
#define GDT_DATA		3
#define GDT_TSS			4
#define GDT_CODE32		5	/* for the PVH entry: 32-bit protected mode */
#define GDT_ENTRIES		6

#define CR0_PE			(1ULL << 0)
#define CR0_ET			(1ULL << 4)
#define CR0_PG			(1ULL << 31)
#define CR4_PAE			(1ULL << 5)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)

#define MSR_IA32_MISC_ENABLE	0x1a0
#define MISC_ENABLE_FAST_STRING	0x1ULL
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MTRR_ENABLE_WB		0x806ULL	/* MTRRs on, default type write-back */

#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

/* The signal that kicks a vCPU thread out of KVM_RUN; its handler does nothing, the EINTR is the point. */
#define VCPU_KICK_SIGNAL	SIGUSR1

static int vcpu_fail(const struct vcpu *vcpu, const char *what)
{
	int err = errno;

	log_error("vCPU %u: %s: %s", vcpu->id, what, strerror(err));
	return -err;
}

static int setup_msrs(struct vcpu *vcpu)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[2];
	} msrs = {
		.hdr.nmsrs = 2,
		.entries = {
			{ .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING },
			{ .index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLE_WB },
		},
	};
	int n;

	n = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (n < 0)
		return vcpu_fail(vcpu, "KVM_SET_MSRS");
	if (n != 2) {
		log_error("vCPU %u: KVM_SET_MSRS: MSR 0x%x refused", vcpu->id, msrs.entries[n].index);
		return -EINVAL;
	}
	return 0;
}

static uint32_t lvt_mode(uint32_t lvt, uint32_t mode)
{
	return (lvt & ~0x700U) | mode << 8;
}

/* As on a PC, the PIC's output reaches the LAPIC through LINT0 and NMIs through LINT1. */
static int setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t v;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return vcpu_fail(vcpu, "KVM_GET_LAPIC");
	memcpy(&v, lapic.regs + APIC_LVT_LINT0, sizeof(v));
	v = lvt_mode(v, APIC_MODE_EXTINT);
	memcpy(lapic.regs + APIC_LVT_LINT0, &v, sizeof(v));
	memcpy(&v, lapic.regs + APIC_LVT_LINT1, sizeof(v));
	v = lvt_mode(v, APIC_MODE_NMI);
	memcpy(lapic.regs + APIC_LVT_LINT1, &v, sizeof(v));
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return vcpu_fail(vcpu, "KVM_SET_LAPIC");
	return 0;
}

int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned int id, unsigned int nr_vcpus,
		const struct kvm_cpuid2 *cpuid)
{
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->run = MAP_FAILED;
	vcpu->stats = stats_vcpu(id);
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		return vcpu_fail(vcpu, "KVM_CREATE_VCPU");
	vcpu->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = vcpu_fail(vcpu, "mmap of kvm_run");
		goto out;
	}
	ret = cpuid_set(vcpu->fd, cpuid, id, nr_vcpus);
	if (ret < 0)
		goto out;
	ret = setup_msrs(vcpu);
	if (ret < 0)
		goto out;
	ret = setup_lapic(vcpu);
	if (ret < 0)
		goto out;
	return 0;
out:
	vcpu_destroy(vcpu);
	return ret;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run != MAP_FAILED)
		munmap(vcpu->run, (size_t)vcpu->vm->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = MAP_FAILED;
	vcpu->fd = -1;
}

static int write_boot_tables(struct vm *vm)
{
	static const uint64_t gdt[GDT_ENTRIES] = {
		[GDT_CODE] = 0x00af9b000000ffffULL,	/* 64-bit code, execute/read, 4 GiB flat */
		[GDT_DATA] = 0x00cf93000000ffffULL,	/* read/write data, 4 GiB flat */
		[GDT_TSS] = 0x00008b0000000fffULL,	/* busy TSS: entry checks want a valid TR */
		[GDT_CODE32] = 0x00cf9b000000ffffULL,	/* 32-bit code, execute/read, 4 GiB flat */
	};
	uint64_t *pml4, *pdpt, *pd;
	unsigned int i;
	void *p;

	p = vm_gpa_to_host(vm, BOOT_GDT_ADDR, sizeof(gdt));
	pml4 = vm_gpa_to_host(vm, BOOT_PML4_ADDR, 4096);
	pdpt = vm_gpa_to_host(vm, BOOT_PDPT_ADDR, 4096);
	pd = vm_gpa_to_host(vm, BOOT_PD_ADDR, 4096 * BOOT_MAPPED_GIB);
	if (!p || !pml4 || !pdpt || !pd)
		return -ENOMEM;
	memcpy(p, gdt, sizeof(gdt));
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | PTE_PRESENT_RW;
	for (i = 0; i < BOOT_MAPPED_GIB; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096ULL) | PTE_PRESENT_RW;
	for (i = 0; i < BOOT_MAPPED_GIB * 512; i++)
		pd[i] = i * HUGE_PAGE | PTE_PRESENT_RW | PTE_HUGE;
	return 0;
}

static void flat_segment(struct kvm_segment *s, unsigned int index, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = (uint16_t)(index * 8),
		.type = type,
		.present = 1,
		.s = 1,
		.l = code64,
		.db = !code64,
		.g = 1,
	};
}

/* The boot vCPU's registers: flat segments from the boot GDT, long mode (paging on) or 32-bit protected mode. */
static int setup_boot_cpu(struct vcpu *vcpu, const struct kvm_regs *regs, bool long_mode)
{
	struct kvm_sregs sregs;

	if (write_boot_tables(vcpu->vm) < 0) {
		log_error("guest RAM too small for the boot page tables");
		return -ENOMEM;
	}
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return vcpu_fail(vcpu, "KVM_GET_SREGS");
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
	/* Interrupts stay off until the kernel loads its own IDT; an empty one makes any fault a clean triple. */
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	flat_segment(&sregs.cs, long_mode ? GDT_CODE : GDT_CODE32, 0xb, long_mode);
	flat_segment(&sregs.ds, GDT_DATA, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.base = 0, .limit = 0xfff, .selector = GDT_TSS * 8, .type = 0xb, .present = 1,
	};
	if (long_mode) {
		sregs.cr3 = BOOT_PML4_ADDR;
		sregs.cr4 = CR4_PAE;
		sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
		sregs.efer = EFER_LME | EFER_LMA;
	} else {
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.cr0 = CR0_PE | CR0_ET;
		sregs.efer = 0;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return vcpu_fail(vcpu, "KVM_SET_SREGS");
	if (ioctl(vcpu->fd, KVM_SET_REGS, regs) < 0)
		return vcpu_fail(vcpu, "KVM_SET_REGS");
	return 0;
}

int vcpu_setup_long_mode(struct vcpu *vcpu, uint64_t entry, uint64_t zero_page)
{
	struct kvm_regs regs = { .rip = entry, .rsi = zero_page, .rflags = 0x2 };	/* bit 1 is always set */

	return setup_boot_cpu(vcpu, &regs, true);
}

int vcpu_setup_pvh(struct vcpu *vcpu, uint32_t entry, uint32_t start_info)
{
	struct kvm_regs regs = { .rip = entry, .rbx = start_info, .rflags = 0x2 };

	return setup_boot_cpu(vcpu, &regs, false);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	/* A string instruction (rep outsb) comes as count accesses of size bytes each, back to back. */
	for (i = 0; i < run->io.count; i++)
		iotrap_dispatch(&vcpu->vm->io, IOTRAP_PIO, run->io.port, data + (size_t)i * run->io.size,
				run->io.size, is_write);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vcpu->vm, VM_EXIT_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vcpu->vm, VM_EXIT_REBOOT);
		break;
	default:
		log_error("vCPU %u: guest crashed (system event %u)", vcpu->id, vcpu->run->system_event.type);
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH);
		break;
	}
}

/* A crash report for whoever reads the log: where the guest was and what its CPU state said. */
static void log_crash(struct vcpu *vcpu, const char *what)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		log_error("vCPU %u: %s", vcpu->id, what);
		return;
	}
	log_error("vCPU %u: %s at rip 0x%llx rsp 0x%llx rflags 0x%llx cr0 0x%llx cr2 0x%llx cr3 0x%llx "
		  "cr4 0x%llx idt 0x%llx+0x%x cs 0x%x", vcpu->id, what, (unsigned long long)r.rip,
		  (unsigned long long)r.rsp, (unsigned long long)r.rflags, (unsigned long long)s.cr0,
		  (unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
		  (unsigned long long)s.idt.base, s.idt.limit, s.cs.selector);
}

static enum stats_exit exit_kind(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO:
		return STATS_EXIT_IO;
	case KVM_EXIT_MMIO:
		return STATS_EXIT_MMIO;
	case KVM_EXIT_INTR:
		return STATS_EXIT_INTR;
	case KVM_EXIT_SHUTDOWN:
		return STATS_EXIT_SHUTDOWN;
	case KVM_EXIT_SYSTEM_EVENT:
		return STATS_EXIT_SYSTEM_EVENT;
	case KVM_EXIT_FAIL_ENTRY:
		return STATS_EXIT_FAIL_ENTRY;
	case KVM_EXIT_INTERNAL_ERROR:
		return STATS_EXIT_INTERNAL_ERROR;
	default:
		return STATS_EXIT_OTHER;
	}
}

/* Handles one exit; returns false once the vCPU should stop. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	stats_add(&vcpu->stats->exits[exit_kind(run->exit_reason)], 1);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		iotrap_dispatch(&vcpu->vm->io, IOTRAP_MMIO, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
				run->mmio.is_write);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		log_crash(vcpu, "guest triple fault");
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		log_error("vCPU %u: KVM_RUN: entry failed, hardware reason 0x%llx", vcpu->id,
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		log_error("vCPU %u: KVM internal error, suberror %u", vcpu->id, run->internal.suberror);
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH);
		return false;
	default:
		log_error("vCPU %u: unexpected exit reason %u", vcpu->id, run->exit_reason);
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH);
		return false;
	}
}

/*
 * Waits while the VM is paused. The kick that brought the thread here set immediate_exit; it is cleared for the
 * next KVM_RUN, unless the VM is exiting, whose vcpu_stop() needs it set.
 */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->paused) && atomic_load(&vm->exit_reason) == VM_RUNNING)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	if (atomic_load(&vm->exit_reason) == VM_RUNNING)
		vcpu->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	while (atomic_load(&vcpu->vm->exit_reason) == VM_RUNNING) {
		if (atomic_load(&vcpu->vm->paused)) {
			vcpu_park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				stats_add(&vcpu->stats->exits[STATS_EXIT_INTR], 1);
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vcpu_fail(vcpu, "KVM_RUN");
			vm_request_exit(vcpu->vm, VM_EXIT_ERROR);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_start(struct vcpu *vcpu)
{
	struct sigaction sa = { .sa_handler = kick_handler };	/* no SA_RESTART: KVM_RUN must return */
	int err;

	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return vcpu_fail(vcpu, "sigaction");
	err = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (err) {
		log_error("vCPU %u: thread: %s", vcpu->id, strerror(err));
		return -err;
	}
	vcpu->started = true;
	return 0;
}

void vcpu_stop(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	/* immediate_exit covers a kick that lands just before the thread enters KVM_RUN. */
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

void vcpus_pause(struct vcpu *vcpus, unsigned int n)
{
	struct vm *vm = vcpus[0].vm;
	unsigned int i, running = 0;

	pthread_mutex_lock(&vm->pause_lock);
	/*
	 * Only threads that exist can be kicked and waited for; one started later sees paused before its first
	 * KVM_RUN and parks by itself.
	 */
	for (i = 0; i < n; i++)
		running += vcpus[i].started;
	if (!atomic_load(&vm->paused)) {
		atomic_store(&vm->paused, true);
		/* immediate_exit covers a thread just about to enter KVM_RUN, which the signal would miss. */
		for (i = 0; i < n; i++) {
			if (!vcpus[i].started)
				continue;
			vcpus[i].run->immediate_exit = 1;
			pthread_kill(vcpus[i].thread, VCPU_KICK_SIGNAL);
		}
	}
	while (vm->parked < running && atomic_load(&vm->exit_reason) == VM_RUNNING)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vcpus_resume(struct vcpu *vcpus)
{
	struct vm *vm = vcpus[0].vm;

	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->paused, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}
