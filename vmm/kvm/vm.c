#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/vm.h"
#include "lib/log.h"

/*
 * Intel without unrestricted guest needs three pages for a real-mode TSS and one for an identity map; put them
 * just below the IOAPIC in the MMIO hole, where no RAM or device lives (kvmtool's addresses).
 */
#define VM_IDENTITY_MAP_ADDR	0xfffbc000ULL
#define VM_TSS_ADDR		0xfffbd000ULL

static int vm_ioctl_fail(const char *what)
{
	int err = errno;

	log_error("%s: %s", what, strerror(err));
	return -err;
}

static int vm_add_memory(struct vm *vm, unsigned int slot, uint64_t gpa, uint8_t *host, uint64_t size)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return vm_ioctl_fail("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

int vm_create(struct vm *vm, uint64_t ram_size)
{
	struct kvm_pit_config pit = { .flags = 0 };
	uint64_t identity = VM_IDENTITY_MAP_ADDR;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->exit_fd = -1;
	vm->ram = MAP_FAILED;
	iotrap_init(&vm->io);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		log_error("/dev/kvm: %s", strerror(errno));
		goto out;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_error("/dev/kvm: KVM API version is not %d", KVM_API_VERSION);
		ret = -EPROTO;
		goto out;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		ret = vm->run_size < 0 ? vm_ioctl_fail("KVM_GET_VCPU_MMAP_SIZE") : -EPROTO;
		goto out;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = vm_ioctl_fail("KVM_CREATE_VM");
		goto out;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_ADDR) < 0) {
		ret = vm_ioctl_fail("KVM_SET_TSS_ADDR");
		goto out;
	}
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
		ret = vm_ioctl_fail("KVM_SET_IDENTITY_MAP_ADDR");
		goto out;
	}
	/* The PIC, IOAPIC, LAPICs and PIT live in the kernel: interrupts and timers never leave it. */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = vm_ioctl_fail("KVM_CREATE_IRQCHIP");
		goto out;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = vm_ioctl_fail("KVM_CREATE_PIT2");
		goto out;
	}

	/* MAP_NORESERVE: pages the guest never touches cost nothing, like on real hardware's idle DIMMs. */
	vm->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		ret = -errno;
		log_error("guest memory of %llu bytes: %s", (unsigned long long)ram_size, strerror(errno));
		goto out;
	}
	vm->ram_size = ram_size;
	vm->low_size = ram_size < VM_MMIO_HOLE_START ? ram_size : VM_MMIO_HOLE_START;
	ret = vm_add_memory(vm, 0, 0, vm->ram, vm->low_size);
	if (ret < 0)
		goto out;
	if (ram_size > vm->low_size) {
		ret = vm_add_memory(vm, 1, VM_HIGH_RAM_START, vm->ram + vm->low_size, ram_size - vm->low_size);
		if (ret < 0)
			goto out;
	}

	vm->exit_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->exit_fd < 0) {
		ret = vm_ioctl_fail("eventfd");
		goto out;
	}
	return 0;
out:
	vm_destroy(vm);
	return ret;
}

void vm_destroy(struct vm *vm)
{
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	if (vm->ram != MAP_FAILED)
		munmap(vm->ram, vm->ram_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->exit_fd = vm->vm_fd = vm->kvm_fd = -1;
	vm->ram = MAP_FAILED;
}

void *vm_gpa_to_host(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t high = vm->ram_size - vm->low_size, off;

	if (gpa < vm->low_size)
		return len <= vm->low_size - gpa ? vm->ram + gpa : NULL;
	if (gpa < VM_HIGH_RAM_START)
		return NULL;
	off = gpa - VM_HIGH_RAM_START;
	if (off >= high || len > high - off)
		return NULL;
	return vm->ram + vm->low_size + off;
}

int vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0)
		return -errno;
	return 0;
}

void vm_request_exit(struct vm *vm, enum vm_exit reason)
{
	int running = VM_RUNNING;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->exit_reason, &running, (int)reason))
		return;
	if (write(vm->exit_fd, &one, sizeof(one)) < 0)
		log_error("waking the main thread: %s", strerror(errno));
	/* Parked vCPUs and a thread waiting for them to park must see the exit too. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}
