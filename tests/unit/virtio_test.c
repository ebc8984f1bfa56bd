/* unit-sources: vmm/virtio/queue.c vmm/virtio/mmio.c vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/log.c vmm/lib/evloop.c vmm/run/stats.c */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kvm/vm.h"
#include "virtio/mmio.h"
#include "virtio/queue.h"

/*
 * A fake guest: 64 KiB of RAM at gpa 0 with the rings of one 8-entry queue at fixed places, and buffers above.
 * Interrupts go to vm_fd -1 and fail quietly, which is all a test needs.
 */
#define RAM_SIZE	0x10000
#define DESC_GPA	0x1000
#define AVAIL_GPA	0x2000
#define USED_GPA	0x3000
#define BUF_GPA		0x8000
#define QNUM		8

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct vm vm;
static char err[160];

static struct virtq_desc *desc(unsigned int i)
{
	return (struct virtq_desc *)(ram + DESC_GPA) + i;
}

static void set_desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* Puts head into the avail ring and bumps its index, as a driver does. */
static void make_available(uint16_t head)
{
	uint16_t *avail = (uint16_t *)(ram + AVAIL_GPA);

	avail[2 + avail[1] % QNUM] = head;
	avail[1]++;
}

static void fresh_queue(struct virtq *q)
{
	memset(ram, 0, sizeof(ram));
	vm = (struct vm){ .ram = ram, .ram_size = RAM_SIZE, .low_size = RAM_SIZE, .vm_fd = -1, .kvm_fd = -1 };
	virtq_reset(q, 64);
	q->num = QNUM;
	q->desc_gpa = DESC_GPA;
	q->driver_gpa = AVAIL_GPA;
	q->device_gpa = USED_GPA;
}

static const char *test_valid_chain(void)
{
	struct virtq_chain c;
	struct virtq q;
	uint32_t *used;

	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), 0);
	set_desc(3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, BUF_GPA + 0x100, 32, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, BUF_GPA + 0x200, 64, VIRTQ_DESC_F_WRITE, 0);
	make_available(3);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), 1);
	CHECK_INT(c.head, 3);
	CHECK_INT(c.nr, 3);
	CHECK_INT(c.nr_readable, 1);
	CHECK(c.bufs[0].host == ram + BUF_GPA && c.bufs[0].len == 16 && !c.bufs[0].writable);
	CHECK(c.bufs[1].host == ram + BUF_GPA + 0x100 && c.bufs[1].writable);
	CHECK(c.bufs[2].host == ram + BUF_GPA + 0x200 && c.bufs[2].len == 64);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), 0);
	virtq_push(&q, 3, 96);
	used = (uint32_t *)(ram + USED_GPA);
	CHECK_INT(((uint16_t *)used)[1], 1);
	CHECK_INT(used[1], 3);
	CHECK_INT(used[2], 96);
	return NULL;
}

static const char *test_cycle(void)
{
	struct virtq_chain c;
	struct virtq q;

	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	make_available(1);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "longer than the queue size"));
	/* a descriptor pointing at itself */
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(4, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 4);
	make_available(4);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	return NULL;
}

static const char *test_chain_longer_than_queue(void)
{
	struct virtq_chain c;
	struct virtq q;
	unsigned int i;

	/* all 8 descriptors in one chain is fine; the 8th pointing on beyond the table is not */
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	for (i = 0; i < QNUM; i++)
		set_desc(i, BUF_GPA + i * 16, 16, i < QNUM - 1 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), 1);
	CHECK_INT(c.nr, QNUM);
	desc(QNUM - 1)->flags = VIRTQ_DESC_F_NEXT;
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "beyond the queue size"));
	/* a head index beyond the table */
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	make_available(QNUM);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	/* an avail index running more than a queue ahead */
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	((uint16_t *)(ram + AVAIL_GPA))[1] = QNUM + 1;
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	return NULL;
}

static const char *test_out_of_ram(void)
{
	struct virtq_chain c;
	struct virtq q;

	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(0, RAM_SIZE - 8, 16, 0, 0);
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not in guest RAM"));
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(0, VM_MMIO_HOLE_START, 16, 0, 0);
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	/* the last byte of RAM is fine */
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(0, RAM_SIZE - 1, 1, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), 1);
	/* rings outside RAM are refused when the queue goes ready */
	fresh_queue(&q);
	q.device_gpa = RAM_SIZE - 8;
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), -EINVAL);
	CHECK(!q.ready);
	fresh_queue(&q);
	q.desc_gpa = DESC_GPA + 8;
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "aligned"));
	return NULL;
}

static const char *test_addr_len_overflow(void)
{
	struct virtq_chain c;
	struct virtq q;

	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	/* addr + len wraps to a small number that would pass a naive end <= RAM_SIZE check */
	set_desc(0, UINT64_MAX - 0xf, 0x100, 0, 0);
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	fresh_queue(&q);
	q.desc_gpa = UINT64_MAX - 0xf;
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), -EINVAL);
	return NULL;
}

static const char *test_zero_length_and_bad_flags(void)
{
	struct virtq_chain c;
	struct virtq q;

	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(0, BUF_GPA, 0, 0, 0);
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "length 0"));
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "indirect"));
	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	set_desc(0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF_GPA, 16, 0, 0);
	make_available(0);
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), -EINVAL);
	return NULL;
}

static const char *test_queue_size(void)
{
	struct virtq q;

	fresh_queue(&q);
	CHECK(virtq_num_valid(&q, 1));
	CHECK(virtq_num_valid(&q, 64));
	CHECK(!virtq_num_valid(&q, 0));
	CHECK(!virtq_num_valid(&q, 6));
	CHECK(!virtq_num_valid(&q, 128));
	CHECK(!virtq_num_valid(&q, 0x10040));
	q.num = 12;
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), -EINVAL);
	CHECK(!q.ready);
	return NULL;
}

/* The transport, driven through the iotrap registry as a vCPU would. */
static void dummy_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct virtq_chain c;
	char why[160];
	int ret;

	while ((ret = virtq_pop(&dev->vqs[qi], dev->vm, &c, why, sizeof(why))) > 0)
		virtq_push(&dev->vqs[qi], c.head, 0);
	if (ret < 0)
		virtio_mmio_violation(dev, why);
}

static const struct virtio_dev_ops dummy_ops = {
	.name = "virtio-test",
	.device_id = 4,
	.nr_queues = 1,
	.queue_num_max = 64,
	.notify = dummy_notify,
};

static uint32_t rd(struct virtio_dev *dev, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(struct virtio_dev *dev, uint64_t off, uint32_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, true);
}

/* A driver's probe up to DRIVER_OK with queue 0 on the fake rings. */
static void driver_setup(struct virtio_dev *dev)
{
	wr(dev, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(dev, 0x024, 1);
	wr(dev, 0x020, 1);	/* VERSION_1 */
	wr(dev, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	wr(dev, 0x030, 0);
	wr(dev, 0x038, QNUM);
	wr(dev, 0x080, DESC_GPA);
	wr(dev, 0x090, AVAIL_GPA);
	wr(dev, 0x0a0, USED_GPA);
	wr(dev, 0x044, 1);
	wr(dev, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		       VIRTIO_STATUS_DRIVER_OK);
}

static struct virtio_dev dev;

static void fresh_dev(void)
{
	struct virtq q;

	fresh_queue(&q);
	iotrap_init(&vm.io);
	memset(&dev, 0, sizeof(dev));
}

static const char *test_mmio_registers(void)
{
	char cmdline[128] = "console=ttyS0";
	struct virtio_dev first;
	struct virtq_chain c;

	fresh_dev();
	/* The second device of the VM: its window and pin are the transport's second slot. */
	CHECK_INT(virtio_mmio_init(&first, &vm, &dummy_ops, NULL), 0);
	CHECK_INT(virtio_mmio_init(&dev, &vm, &dummy_ops, NULL), 0);
	CHECK_INT(rd(&dev, 0x000), 0x74726976);
	CHECK_INT(rd(&dev, 0x004), 2);
	CHECK_INT(rd(&dev, 0x008), 4);
	wr(&dev, 0x014, 1);
	CHECK_INT(rd(&dev, 0x010), 1);	/* VERSION_1 is bit 32 */
	CHECK_INT(rd(&dev, 0x034), 64);
	/* without VERSION_1 FEATURES_OK does not stick */
	wr(&dev, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	CHECK_INT(rd(&dev, 0x070), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(&dev, 0x070, 0);
	driver_setup(&dev);
	CHECK_INT(rd(&dev, 0x070) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
	CHECK_INT(rd(&dev, 0x044), 1);
	set_desc(2, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	make_available(2);
	wr(&dev, 0x050, 0);
	CHECK_INT(((uint16_t *)(ram + USED_GPA))[1], 1);
	CHECK_INT(virtq_pop(&dev.vqs[0], &vm, &c, err, sizeof(err)), 0);
	CHECK_INT(virtio_mmio_cmdline(&dev, cmdline, sizeof(cmdline)), 0);
	CHECK_STR(cmdline, "console=ttyS0 virtio_mmio.device=0x200@0xd0001000:6");
	CHECK_INT(virtio_mmio_cmdline(&dev, cmdline, 40), -ENOSPC);
	strcpy(cmdline, "quiet");
	CHECK_INT(virtio_mmio_cmdline(&dev, cmdline, 40), -ENOSPC);
	CHECK_STR(cmdline, "quiet");
	/* Status 0 resets the device */
	wr(&dev, 0x070, 0);
	CHECK_INT(rd(&dev, 0x070), 0);
	CHECK_INT(rd(&dev, 0x044), 0);
	return NULL;
}

static struct virtio_dev slots[VIRTIO_MMIO_MAX_DEVICES + 1];
static int too_many_ret;

static void one_too_many(void)
{
	too_many_ret = virtio_mmio_init(&slots[VIRTIO_MMIO_MAX_DEVICES], &vm, &dummy_ops, NULL);
}

/*
 * Each device takes the VM's next slot: its own window and IOAPIC pin, every pin one KVM's IOAPIC has and no
 * other device uses (timer, keyboard, cascade, COM1, RTC, the GED), and the first eight pins those of the ISA
 * range, as before pins 16-23 were added. One more device than slots is refused, with one logged line.
 */
static const char *test_mmio_slots(void)
{
	static const unsigned int isa[] = { 5, 6, 7, 9, 10, 11, 12, 14 };
	unsigned int i, j;
	char text[160];

	fresh_dev();
	for (i = 0; i < VIRTIO_MMIO_MAX_DEVICES; i++) {
		CHECK_INT(virtio_mmio_init(&slots[i], &vm, &dummy_ops, NULL), 0);
		CHECK_INT(slots[i].base, 0xd0000000ULL + i * 0x1000);
		CHECK(slots[i].irq < 24);
		CHECK(slots[i].irq > 2 && slots[i].irq != 4 && slots[i].irq != 8 && slots[i].irq != 16);
		if (i < 8)
			CHECK_INT(slots[i].irq, isa[i]);
		for (j = 0; j < i; j++)
			CHECK(slots[i].irq != slots[j].irq);
	}
	CHECK_INT(VIRTIO_MMIO_MAX_DEVICES, 15);
	CHECK_INT(slots[VIRTIO_MMIO_MAX_DEVICES - 1].irq, 23);
	CHECK_INT(check_stderr(one_too_many, text, sizeof(text)), 1);
	CHECK_INT(too_many_ret, -ENOSPC);
	CHECK(strstr(text, "more than 15 virtio devices"));
	CHECK_INT(vm.virtio_slots, VIRTIO_MMIO_MAX_DEVICES);
	return NULL;
}

static void hostile_driver(void)
{
	unsigned int i;

	driver_setup(&dev);
	/* a cycle, notified many times, then queue registers rewritten after DRIVER_OK */
	set_desc(1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	make_available(1);
	for (i = 0; i < 100; i++)
		wr(&dev, 0x050, 0);
	wr(&dev, 0x038, 4);
	wr(&dev, 0x080, 0);
	wr(&dev, 0x044, 0);
}

static const char *test_needs_reset_once(void)
{
	fresh_dev();
	CHECK_INT(virtio_mmio_init(&dev, &vm, &dummy_ops, NULL), 0);
	CHECK_INT(check_stderr(hostile_driver, NULL, 0), 1);
	CHECK_INT(rd(&dev, 0x070) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	CHECK_INT(rd(&dev, 0x060), VIRTIO_MMIO_INT_CONFIG);
	/* the queue registers did not move */
	CHECK_INT(dev.vqs[0].num, QNUM);
	CHECK_INT(dev.vqs[0].desc_gpa, DESC_GPA);
	CHECK_INT(rd(&dev, 0x044), 1);
	/* the driver cannot clear NEEDS_RESET but by a reset, after which the device works again */
	wr(&dev, 0x070, 0x0f);
	CHECK_INT(rd(&dev, 0x070) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	wr(&dev, 0x070, 0);
	CHECK_INT(rd(&dev, 0x070), 0);
	memset(ram + AVAIL_GPA, 0, 0x2000);
	driver_setup(&dev);
	CHECK_INT(rd(&dev, 0x070), 0x0f);
	set_desc(1, BUF_GPA, 8, 0, 0);
	make_available(1);
	wr(&dev, 0x050, 0);
	CHECK_INT(((uint16_t *)(ram + USED_GPA))[1], 1);
	return NULL;
}

static void bad_sizes(void)
{
	wr(&dev, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(&dev, 0x038, 12);
	wr(&dev, 0x038, 128);
}

static const char *test_mmio_bad_queue_size(void)
{
	fresh_dev();
	CHECK_INT(virtio_mmio_init(&dev, &vm, &dummy_ops, NULL), 0);
	CHECK_INT(check_stderr(bad_sizes, NULL, 0), 1);
	CHECK_INT(dev.vqs[0].num, 64);
	CHECK_INT(rd(&dev, 0x070) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	return NULL;
}

/* One kick's batch hands out at most a queue's worth of chains, then says more are waiting. */
static const char *test_batch(void)
{
	struct virtq_chain c;
	struct virtq q;
	unsigned int i, got = 0;

	fresh_queue(&q);
	CHECK_INT(virtq_activate(&q, &vm, err, sizeof(err)), 0);
	for (i = 0; i < q.num; i++)
		set_desc(i, BUF_GPA, 8, 0, 0);
	for (i = 0; i < q.num; i++)
		make_available((uint16_t)i);
	virtq_batch_begin(&q);
	/* the guest refills as fast as we take: the batch still ends */
	while (virtq_pop(&q, &vm, &c, err, sizeof(err)) == 1) {
		virtq_push(&q, c.head, 0);
		make_available(c.head);
		CHECK(++got <= q.num);
	}
	CHECK_INT(got, q.num);
	CHECK(virtq_batch_end(&q));			/* cut short, more waiting */
	/* outside a batch nothing is held back */
	CHECK_INT(virtq_pop(&q, &vm, &c, err, sizeof(err)), 1);
	/* a device that leaves chains on purpose was not cut short */
	virtq_batch_begin(&q);
	CHECK(!virtq_batch_end(&q));
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "virtq-valid-chain", test_valid_chain },
		{ "virtq-cycle-is-error", test_cycle },
		{ "virtq-chain-longer-than-queue", test_chain_longer_than_queue },
		{ "virtq-desc-out-of-ram", test_out_of_ram },
		{ "virtq-addr-len-overflow", test_addr_len_overflow },
		{ "virtq-zero-length-indirect-order", test_zero_length_and_bad_flags },
		{ "virtq-queue-size", test_queue_size },
		{ "virtq-batch", test_batch },
		{ "virtio-mmio-registers", test_mmio_registers },
		{ "virtio-mmio-slots", test_mmio_slots },
		{ "virtio-mmio-needs-reset-logged-once", test_needs_reset_once },
		{ "virtio-mmio-bad-queue-size", test_mmio_bad_queue_size },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
