/* unit-sources: vmm/run/devices.c vmm/virtio/mmio.c vmm/run/stats.c vmm/virtio/queue.c vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/evloop.c vmm/lib/log.c */
/*
 * The device table, shown with devices that exist only in this file: each is a create function and one
 * RUN_DEVICE() line, as docs/vmm.md's "Adding a device" says, and run's walker finds and makes them, and tears
 * them down, with nothing else told about them. None of the real devices is linked here, so the table holds
 * exactly these three.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run/devices.h"

static struct vm vm;
static struct evloop loop;
static struct run_opts opts;
static struct run_device_env env;
static char made[256];		/* what the create functions did, in order */
static unsigned int wanted;	/* test-virtio's instances */
static int early_fails;		/* test-early's result */
static unsigned int destroyed;

static void note(const char *what)
{
	size_t len = strlen(made);

	snprintf(made + len, sizeof(made) - len, "%s%s", len ? " " : "", what);
}

static void test_notify(struct virtio_dev *dev, unsigned int q)
{
	(void)dev;
	(void)q;
}

static void test_destroy(struct virtio_dev *dev)
{
	destroyed++;
	free(dev);
}

static const struct virtio_dev_ops test_ops = {
	.name = "virtio-test",
	.device_id = 0xfff,
	.nr_queues = 1,
	.queue_num_max = 8,
	.notify = test_notify,
	.destroy = test_destroy,
};

static void cleanup(void *opaque)
{
	note(opaque);
}

/*
 * Not virtio, as a device of hw/ would be: what it holds is freed through a teardown step. Entered out of order
 * on purpose: the walk goes by the order field, never by where an entry sits.
 */
static int late_create(struct run_device_env *e)
{
	note("late");
	if (run_devices_on_teardown(e, cleanup, "cleanup-1") < 0)
		return -ENOSPC;
	return run_devices_on_teardown(e, cleanup, "cleanup-2");
}

RUN_DEVICE(test_late, "test-late", 30, late_create);

/* A virtio device with as many instances as the test wants, each in the VM's next slot. */
static int virtio_create(struct run_device_env *e)
{
	struct virtio_dev *dev;
	unsigned int i;
	int ret;

	for (i = 0; i < wanted; i++) {
		dev = calloc(1, sizeof(*dev));
		if (!dev)
			return -ENOMEM;
		ret = virtio_mmio_init(dev, e->vm, &test_ops, NULL);
		if (ret < 0) {
			free(dev);
			return ret;
		}
		run_devices_add(e, dev);
		note("virtio");
	}
	return 0;
}

RUN_DEVICE(test_virtio, "test-virtio", 20, virtio_create);

static int early_create(struct run_device_env *e)
{
	(void)e;
	note("early");
	return early_fails;
}

RUN_DEVICE(test_early, "test-early", 10, early_create);

static void fresh(unsigned int n, int early)
{
	vm = (struct vm){ .vm_fd = -1, .kvm_fd = -1 };
	iotrap_init(&vm.io);
	opts = (struct run_opts){ .no_acpi = true };
	env = (struct run_device_env){ .vm = &vm, .loop = &loop, .opts = &opts };
	made[0] = '\0';
	wanted = n;
	early_fails = early;
	destroyed = 0;
}

static int walk_ret;

/* KVM refuses the eventfds of a VM without a descriptor, which the walker logs once: kept off the test's output. */
static void walk(void)
{
	walk_ret = run_devices_create(&env);
}

static const char *test_walk_order(void)
{
	char cmdline[256] = "console=ttyS0";

	fresh(2, 0);
	CHECK(check_stderr(walk, NULL, 0) >= 0);
	CHECK_INT(walk_ret, 0);
	CHECK_STR(made, "early virtio virtio late");
	CHECK_INT(env.nr_virtio, 2);
	CHECK_INT(env.virtio[0]->base, 0xd0000000);
	CHECK_INT(env.virtio[0]->irq, 5);
	CHECK_INT(env.virtio[1]->base, 0xd0001000);
	CHECK_INT(env.virtio[1]->irq, 6);
	CHECK_INT(run_devices_cmdline(&env, cmdline, sizeof(cmdline)), 0);
	CHECK_STR(cmdline, "console=ttyS0 virtio_mmio.device=0x200@0xd0000000:5 "
		  "virtio_mmio.device=0x200@0xd0001000:6");
	made[0] = '\0';
	run_devices_destroy(&env);
	CHECK_INT(destroyed, 2);
	CHECK_INT(env.nr_virtio, 0);
	CHECK_STR(made, "cleanup-2 cleanup-1");
	return NULL;
}

static const char *test_find(void)
{
	CHECK(run_device_find("test-virtio"));
	CHECK_INT(run_device_find("test-late")->order, 30);
	/* what a build without a device sees: "--disk: this shrike is built without virtio-blk" */
	CHECK(!run_device_find("virtio-blk"));
	CHECK(!run_device_find("test"));
	return NULL;
}

/* A failing device stops the walk; what was made before it is still there for teardown. */
static const char *test_failure_stops_walk(void)
{
	fresh(1, -EIO);
	CHECK(check_stderr(walk, NULL, 0) >= 0);
	CHECK_INT(walk_ret, -EIO);
	CHECK_STR(made, "early");
	CHECK_INT(env.nr_virtio, 0);
	return NULL;
}

/* More virtio devices than the transport has slots: the first one too many is refused and logged. */
static const char *test_slots_run_out(void)
{
	char text[256];

	fresh(VIRTIO_MMIO_MAX_DEVICES + 1, 0);
	CHECK(check_stderr(walk, text, sizeof(text)) >= 1);
	CHECK_INT(walk_ret, -ENOSPC);
	CHECK(strstr(text, "virtio-test: more than 15 virtio devices"));
	CHECK_INT(env.nr_virtio, VIRTIO_MMIO_MAX_DEVICES);
	CHECK_INT(env.virtio[VIRTIO_MMIO_MAX_DEVICES - 1]->irq, 23);
	run_devices_destroy(&env);
	CHECK_INT(destroyed, VIRTIO_MMIO_MAX_DEVICES);
	CHECK_STR(made, "early virtio virtio virtio virtio virtio virtio virtio virtio virtio virtio virtio virtio "
		  "virtio virtio virtio");
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "run-devices-walk-order", test_walk_order },
		{ "run-devices-find", test_find },
		{ "run-devices-failure-stops-walk", test_failure_stops_walk },
		{ "run-devices-slots-run-out", test_slots_run_out },
	};

	if (evloop_init(&loop) < 0)
		return 1;
	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
