#include <errno.h>
#include <string.h>

#include "config/limits.h"
#include "lib/log.h"
#include "run/devices.h"

/* The disks and NICs a configuration may give a guest always find a virtio-mmio slot. */
_Static_assert(GUEST_FIXED_VIRTIO + GUEST_MAX_DISKS + GUEST_MAX_NICS <= VIRTIO_MMIO_MAX_DEVICES,
	       "more disks and NICs than virtio-mmio slots");

/*
 * The linker's brackets around the table. Weak: a build with no device at all has no such section and no such
 * symbols, and the table is then empty.
 */
extern const struct run_device *const __start_shrike_run_devices[] __attribute__((weak));
extern const struct run_device *const __stop_shrike_run_devices[] __attribute__((weak));

/* Whether a comes before b: by order, then by name, so that the walk never depends on the link order. */
static bool before(const struct run_device *a, const struct run_device *b)
{
	return a->order != b->order ? a->order < b->order : strcmp(a->name, b->name) < 0;
}

/* The entry after prev in walking order, the first one for NULL, NULL after the last; a table has a handful. */
static const struct run_device *next_device(const struct run_device *prev)
{
	const struct run_device *const *p, *best = NULL;

	for (p = __start_shrike_run_devices; p && p < __stop_shrike_run_devices; p++)
		if ((!prev || before(prev, *p)) && (!best || before(*p, best)))
			best = *p;
	return best;
}

const struct run_device *run_device_find(const char *name)
{
	const struct run_device *d;

	for (d = next_device(NULL); d; d = next_device(d))
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

int run_devices_on_teardown(struct run_device_env *env, void (*fn)(void *opaque), void *opaque)
{
	if (env->nr_cleanups == RUN_DEVICE_MAX_CLEANUPS) {
		log_error("devices: more than %d teardown steps", RUN_DEVICE_MAX_CLEANUPS);
		return -ENOSPC;
	}
	env->cleanups[env->nr_cleanups++] = (struct run_device_cleanup){ .fn = fn, .opaque = opaque };
	return 0;
}

int run_devices_create(struct run_device_env *env)
{
	const struct run_device *d;
	unsigned int i;
	int ret;

	for (d = next_device(NULL); d; d = next_device(d)) {
		ret = d->create(env);
		if (ret < 0)
			return ret;
	}
	/* Queue kicks and device I/O on the event thread: a vCPU never waits for a disk or a tap. */
	for (i = 0; i < env->nr_virtio; i++)
		virtio_mmio_use_eventfds(env->virtio[i], env->loop);
	return 0;
}

int run_devices_cmdline(const struct run_device_env *env, char *cmdline, size_t size)
{
	unsigned int i;

	for (i = 0; i < env->nr_virtio; i++)
		if (virtio_mmio_cmdline(env->virtio[i], cmdline, size) < 0) {
			log_error("--cmdline leaves no room to announce the virtio devices");
			return -ENOSPC;
		}
	return 0;
}

void run_devices_destroy(struct run_device_env *env)
{
	const struct run_device_cleanup *c;
	unsigned int i;

	while (env->nr_cleanups) {
		c = &env->cleanups[--env->nr_cleanups];
		c->fn(c->opaque);
	}
	for (i = 0; i < env->nr_virtio; i++) {
		virtio_mmio_close_eventfds(env->virtio[i]);
		env->virtio[i]->ops->destroy(env->virtio[i]);
	}
	env->nr_virtio = 0;
	env->balloon = env->console = NULL;
}
