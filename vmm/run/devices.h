#ifndef SHRIKE_RUN_DEVICES_H
#define SHRIKE_RUN_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "kvm/vm.h"
#include "lib/evloop.h"
#include "run/opts.h"
#include "virtio/mmio.h"

/*
 * The device table. Each device file registers itself with one line,
 *
 *	RUN_DEVICE(virtio_rng, "virtio-rng", 10, rng_run_create);
 *
 * and a device Kconfig leaves out is simply not linked, so not in the table. run_devices_create() calls each
 * entry's create function once, lowest order first; that function makes the instances the options ask for
 * (none, one, one per --disk...). A virtio device takes the VM's next virtio-mmio slot when it is made, so the
 * order fixes the slots and with them the guest's names (/dev/vda..., eth0...). docs/vmm.md, "Adding a device",
 * is the checklist.
 */
#define RUN_DEVICE_MAX_CLEANUPS	8

struct run_device_env {
	struct vm *vm;
	struct evloop *loop;		/* the event thread's loop, not running yet */
	const struct run_opts *opts;
	/* Where a virtio-console's output goes: run/console.c's console_out_emit(). */
	void (*console_emit)(void *opaque, const uint8_t *buf, size_t len);
	void *console_opaque;
	/* Filled in by the create functions: the devices run talks to once the guest runs (NULL when absent)... */
	struct virtio_dev *balloon;
	struct virtio_dev *console;
	/* ...and every virtio device, in slot order, for the firmware tables, the event thread and teardown. */
	struct virtio_dev *virtio[VIRTIO_MMIO_MAX_DEVICES];
	unsigned int nr_virtio;
	/* What other devices asked to have done at teardown (run_devices_on_teardown()). */
	struct run_device_cleanup {
		void (*fn)(void *opaque);
		void *opaque;
	} cleanups[RUN_DEVICE_MAX_CLEANUPS];
	unsigned int nr_cleanups;
};

struct run_device {
	const char *name;		/* unique; "--disk: this shrike is built without virtio-blk" looks it up */
	unsigned int order;		/* lowest first; gaps of 10 leave room between */
	/* Makes the instances env->opts asks for, each virtio one recorded with run_devices_add(). */
	int (*create)(struct run_device_env *env);
};

/*
 * Registers a device: a pointer to its entry in the section shrike_run_devices, which the linker gathers from
 * every object and brackets with __start_ and __stop_ symbols. `used` keeps the compiler from dropping the
 * unreferenced pointer, `retain` keeps ld --gc-sections (the mgmt build) from dropping the section. Pointers,
 * not the entries themselves, so that no alignment padding between objects can shift the array.
 */
#define RUN_DEVICE(id, name_, order_, create_)							\
	static const struct run_device run_device_##id = {					\
		.name = (name_), .order = (order_), .create = (create_),			\
	};											\
	static const struct run_device *const run_device_entry_##id				\
		__attribute__((used, retain, section("shrike_run_devices"))) = &run_device_##id

/* For create functions: a virtio device made; run announces it, moves its queues and destroys it at the end. */
static inline void run_devices_add(struct run_device_env *env, struct virtio_dev *dev)
{
	env->virtio[env->nr_virtio++] = dev;	/* no overflow: the transport has no more slots than this */
}

/*
 * For create functions of devices that are not virtio (hw/): fn(opaque) frees what the device holds, called
 * after the vCPU and event threads stopped, the last registered first. Returns 0, or -ENOSPC (logged).
 */
int run_devices_on_teardown(struct run_device_env *env, void (*fn)(void *opaque), void *opaque);

/* The entry called name, or NULL when this build has no such device. */
const struct run_device *run_device_find(const char *name);

/*
 * Walks the table: every device the options in env ask for, in order, each virtio one with its queue kicks and
 * interrupt on env->loop. Returns 0 or the first -errno (logged); what was made is in env either way, for
 * run_devices_destroy().
 */
int run_devices_create(struct run_device_env *env);

/* Appends each virtio device's virtio_mmio.device= to the NUL-terminated cmdline; -ENOSPC (logged) if full. */
int run_devices_cmdline(const struct run_device_env *env, char *cmdline, size_t size);

/* Destroys what run_devices_create() made, cleanups included; the vCPU and event threads must be stopped. */
void run_devices_destroy(struct run_device_env *env);

#endif
