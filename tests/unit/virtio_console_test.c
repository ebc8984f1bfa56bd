/* unit-sources: vmm/virtio/console.c vmm/virtio/queue.c vmm/virtio/mmio.c vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/log.c vmm/lib/evloop.c vmm/run/stats.c */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kvm/vm.h"
#include "virtio/console.h"
#include "virtio/mmio.h"

/*
 * A fake guest as in virtio_test.c with two 8-entry queues: receiveq0 (0) and transmitq0 (1), each with its rings
 * at fixed places, and buffers above. Interrupts go to vm_fd -1 and fail quietly.
 */
#define RAM_SIZE	0x10000
#define RX		0
#define TX		1
#define DESC_GPA(q)	(0x1000 + (q) * 0x3000)
#define AVAIL_GPA(q)	(0x2000 + (q) * 0x3000)
#define USED_GPA(q)	(0x3000 + (q) * 0x3000)
#define BUF_GPA		0x8000
#define QNUM		8

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct vm vm;
static struct virtio_dev *dev;

/* What emit() was given, in order, and how many calls made it. */
static uint8_t out[4096];
static size_t out_len;
static unsigned int emits, wakeups;
static bool bad_opaque;

static void emit(void *opaque, const uint8_t *buf, size_t len)
{
	if (opaque != (void *)(uintptr_t)0x5eed)
		bad_opaque = true;
	if (len > sizeof(out) - out_len)
		len = sizeof(out) - out_len;
	memcpy(out + out_len, buf, len);
	out_len += len;
	emits++;
}

static void wakeup(void *opaque)
{
	(void)opaque;
	wakeups++;
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + off, (uint8_t *)&v, 4, true);
}

static struct virtq_desc *desc(unsigned int q, unsigned int i)
{
	return (struct virtq_desc *)(ram + DESC_GPA(q)) + i;
}

static void set_desc(unsigned int q, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(q, i) = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void make_available(unsigned int q, uint16_t head)
{
	uint16_t *avail = (uint16_t *)(ram + AVAIL_GPA(q));

	avail[2 + avail[1] % QNUM] = head;
	avail[1]++;
}

static uint16_t used_idx(unsigned int q)
{
	return ((uint16_t *)(ram + USED_GPA(q)))[1];
}

/* The id and len of used ring entry n of queue q. */
static uint32_t used_len(unsigned int q, unsigned int n)
{
	return ((uint32_t *)(ram + USED_GPA(q) + 4))[2 * (n % QNUM) + 1];
}

static void driver_queues(void)
{
	unsigned int q;

	for (q = 0; q < 2; q++) {
		wr(0x030, q);
		wr(0x038, QNUM);
		wr(0x080, DESC_GPA(q));
		wr(0x090, AVAIL_GPA(q));
		wr(0x0a0, USED_GPA(q));
		wr(0x044, 1);
	}
}

/* The driver's probe up to DRIVER_OK. */
static void driver_probe(void)
{
	wr(0x070, 3);
	wr(0x024, 1);
	wr(0x020, 1);	/* VERSION_1 */
	wr(0x024, 0);
	wr(0x020, 1);	/* VIRTIO_CONSOLE_F_SIZE */
	wr(0x070, 0xb);
	driver_queues();
}

static void driver_setup(void)
{
	driver_probe();
	wr(0x070, 0xf);
}

/* A fresh guest with the console created; the driver is set up when setup is true. */
static int fresh(bool setup)
{
	memset(ram, 0, sizeof(ram));
	memset(out, 0, sizeof(out));
	out_len = emits = wakeups = 0;
	bad_opaque = false;
	if (dev)
		dev->ops->destroy(dev);
	dev = NULL;
	vm = (struct vm){ .ram = ram, .ram_size = RAM_SIZE, .low_size = RAM_SIZE, .vm_fd = -1, .kvm_fd = -1 };
	iotrap_init(&vm.io);
	if (virtio_console_create(&vm, emit, (void *)(uintptr_t)0x5eed, &dev) < 0)
		return -1;
	virtio_console_set_wakeup(dev, wakeup, NULL);
	if (setup)
		driver_setup();
	return setup && rd(0x070) != 0xf ? -1 : 0;
}

static bool needs_reset(void)
{
	return rd(0x070) & VIRTIO_STATUS_NEEDS_RESET;
}

static const char *test_identity(void)
{
	struct virtio_dev *other = NULL;

	CHECK_INT(fresh(false), 0);
	CHECK_INT(rd(0x008), 3);
	CHECK_INT(rd(0x010) & 1, 1);	/* F_SIZE */
	wr(0x030, 1);
	CHECK_INT(rd(0x034), 64);
	wr(0x030, 2);
	CHECK_INT(rd(0x034), 0);	/* no multiport: no control queues */
	CHECK_INT(virtio_console_create(&vm, NULL, NULL, &other), -EINVAL);
	CHECK(!other);
	return NULL;
}

static const char *test_transmit(void)
{
	CHECK_INT(fresh(true), 0);
	memcpy(ram + BUF_GPA, "hello, ", 7);
	memcpy(ram + BUF_GPA + 0x100, "world\n", 6);
	set_desc(TX, 2, BUF_GPA, 7, VIRTQ_DESC_F_NEXT, 5);
	set_desc(TX, 5, BUF_GPA + 0x100, 6, 0, 0);
	make_available(TX, 2);
	set_desc(TX, 0, BUF_GPA + 0x200, 1, 0, 0);
	ram[BUF_GPA + 0x200] = '$';
	make_available(TX, 0);
	wr(0x050, TX);
	CHECK_INT(emits, 3);
	CHECK_INT(out_len, 14);
	CHECK(!memcmp(out, "hello, world\n$", 14));
	CHECK(!bad_opaque);
	CHECK_INT(used_idx(TX), 2);
	CHECK_INT(used_len(TX, 0), 0);
	CHECK_INT(rd(0x060), VIRTIO_MMIO_INT_VRING);
	CHECK(!needs_reset());
	return NULL;
}

static void tx_writable(void)
{
	/* a readable buffer and then a writable one: the device would have to write into the guest */
	set_desc(TX, 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(TX, 1, BUF_GPA + 0x100, 16, VIRTQ_DESC_F_WRITE, 0);
	make_available(TX, 0);
	wr(0x050, TX);
	wr(0x050, TX);
}

static const char *test_transmit_writable(void)
{
	CHECK_INT(fresh(true), 0);
	CHECK_INT(check_stderr(tx_writable, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK_INT(emits, 0);
	CHECK_INT(used_idx(TX), 0);
	/* only a write-only chain, too */
	CHECK_INT(fresh(true), 0);
	set_desc(TX, 3, BUF_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	make_available(TX, 3);
	CHECK_INT(check_stderr(tx_writable, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK_INT(emits, 0);
	return NULL;
}

static void tx_zero(void)
{
	set_desc(TX, 0, BUF_GPA, 5, VIRTQ_DESC_F_NEXT, 1);
	set_desc(TX, 1, BUF_GPA + 0x100, 0, 0, 0);
	make_available(TX, 0);
	wr(0x050, TX);
}

static const char *test_transmit_zero_length(void)
{
	CHECK_INT(fresh(true), 0);
	CHECK_INT(check_stderr(tx_zero, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK_INT(emits, 0);
	/* a broken device ignores kicks until the driver resets it, then works again */
	set_desc(TX, 2, BUF_GPA, 3, 0, 0);
	make_available(TX, 2);
	wr(0x050, TX);
	CHECK_INT(emits, 0);
	wr(0x070, 0);
	memset(ram, 0, 0x8000);
	driver_setup();
	memcpy(ram + BUF_GPA, "ok", 2);
	set_desc(TX, 2, BUF_GPA, 2, 0, 0);
	make_available(TX, 2);
	wr(0x050, TX);
	CHECK_INT(out_len, 2);
	CHECK(!memcmp(out, "ok", 2));
	return NULL;
}

static void tx_outside(void)
{
	set_desc(TX, 0, RAM_SIZE - 2, 4, 0, 0);
	make_available(TX, 0);
	wr(0x050, TX);
}

static const char *test_transmit_outside_ram(void)
{
	CHECK_INT(fresh(true), 0);
	CHECK_INT(check_stderr(tx_outside, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK_INT(emits, 0);
	return NULL;
}

static const char *test_receive(void)
{
	CHECK_INT(fresh(true), 0);
	/* nothing posted: input waits in the FIFO */
	CHECK_INT(virtio_console_input(dev, (const uint8_t *)"ab", 2), 2);
	CHECK_INT(used_idx(RX), 0);
	/* a chain of two writable buffers: the FIFO goes into the first, then more input fills on */
	set_desc(RX, 4, BUF_GPA, 3, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
	set_desc(RX, 6, BUF_GPA + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
	make_available(RX, 4);
	wr(0x050, RX);
	CHECK_INT(used_idx(RX), 1);
	CHECK_INT(used_len(RX, 0), 2);
	CHECK(!memcmp(ram + BUF_GPA, "ab", 2));
	CHECK_INT(rd(0x060), VIRTIO_MMIO_INT_VRING);
	wr(0x064, VIRTIO_MMIO_INT_VRING);
	/* posted first, input later: it goes straight through, across both buffers */
	make_available(RX, 4);
	wr(0x050, RX);
	CHECK_INT(used_idx(RX), 1);
	CHECK_INT(virtio_console_input(dev, (const uint8_t *)"hello", 5), 5);
	CHECK_INT(used_idx(RX), 2);
	CHECK_INT(used_len(RX, 1), 5);
	CHECK(!memcmp(ram + BUF_GPA, "hel", 3));
	CHECK(!memcmp(ram + BUF_GPA + 0x100, "lo", 2));
	CHECK_INT(rd(0x060), VIRTIO_MMIO_INT_VRING);
	CHECK(!needs_reset());
	return NULL;
}

/* Receive buffers posted and kicked before DRIVER_OK (the kick is ignored) still get typed-ahead input. */
static const char *test_receive_posted_early(void)
{
	CHECK_INT(fresh(false), 0);
	CHECK_INT(virtio_console_input(dev, (const uint8_t *)"early", 5), 5);
	driver_probe();
	set_desc(RX, 0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
	make_available(RX, 0);
	wr(0x050, RX);
	CHECK_INT(used_idx(RX), 0);
	wr(0x070, 0xf);
	/* the guest's first console write is the next kick */
	set_desc(TX, 0, BUF_GPA + 0x100, 1, 0, 0);
	make_available(TX, 0);
	wr(0x050, TX);
	CHECK_INT(used_idx(RX), 1);
	CHECK_INT(used_len(RX, 0), 5);
	CHECK(!memcmp(ram + BUF_GPA, "early", 5));
	return NULL;
}

static const char *test_input_fifo_full(void)
{
	static uint8_t big[3000];
	size_t taken, i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i % 251);
	/* before the driver is even up, the FIFO takes 1 KiB and no more */
	CHECK_INT(fresh(false), 0);
	CHECK_INT(virtio_console_input(dev, big, sizeof(big)), VIRTIO_CONSOLE_FIFO);
	CHECK_INT(virtio_console_input(dev, big, 1), 0);
	CHECK_INT(wakeups, 0);
	driver_setup();
	/* two 600-byte buffers: the FIFO drains into them in order, and the caller is woken */
	set_desc(RX, 0, BUF_GPA, 600, VIRTQ_DESC_F_WRITE, 0);
	set_desc(RX, 1, BUF_GPA + 0x1000, 600, VIRTQ_DESC_F_WRITE, 0);
	make_available(RX, 0);
	make_available(RX, 1);
	wr(0x050, RX);
	CHECK_INT(used_idx(RX), 2);
	CHECK_INT(used_len(RX, 0), 600);
	CHECK_INT(used_len(RX, 1), VIRTIO_CONSOLE_FIFO - 600);
	CHECK(!memcmp(ram + BUF_GPA, big, 600));
	CHECK(!memcmp(ram + BUF_GPA + 0x1000, big + 600, VIRTIO_CONSOLE_FIFO - 600));
	CHECK_INT(wakeups, 1);
	/* the caller offers the rest: with no buffer posted, the FIFO takes another 1 KiB */
	taken = virtio_console_input(dev, big + VIRTIO_CONSOLE_FIFO, sizeof(big) - VIRTIO_CONSOLE_FIFO);
	CHECK_INT(taken, VIRTIO_CONSOLE_FIFO);
	/* the wakeup fires once per refusal, not on every post */
	make_available(RX, 0);
	wr(0x050, RX);
	CHECK_INT(wakeups, 2);
	CHECK_INT(used_len(RX, 2), 600);
	CHECK(!memcmp(ram + BUF_GPA, big + VIRTIO_CONSOLE_FIFO, 600));
	make_available(RX, 1);
	wr(0x050, RX);
	CHECK_INT(wakeups, 2);
	CHECK_INT(used_len(RX, 3), VIRTIO_CONSOLE_FIFO - 600);
	return NULL;
}

static void rx_readable(void)
{
	set_desc(RX, 0, BUF_GPA, 16, 0, 0);
	make_available(RX, 0);
	wr(0x050, RX);
	virtio_console_input(dev, (const uint8_t *)"x", 1);
	virtio_console_input(dev, (const uint8_t *)"y", 1);
}

static const char *test_receive_readable(void)
{
	CHECK_INT(fresh(true), 0);
	memset(ram + BUF_GPA, 0xee, 16);
	CHECK_INT(check_stderr(rx_readable, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK_INT(used_idx(RX), 0);
	CHECK_INT(ram[BUF_GPA], 0xee);
	/* the FIFO still takes input for the driver that resets the device */
	CHECK_INT(virtio_console_input(dev, (const uint8_t *)"z", 1), 1);
	return NULL;
}

static const char *test_reset_empties_fifo(void)
{
	CHECK_INT(fresh(true), 0);
	CHECK_INT(virtio_console_input(dev, (const uint8_t *)"stale", 5), 5);
	wr(0x070, 0);
	memset(ram, 0, 0x8000);
	driver_setup();
	set_desc(RX, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	make_available(RX, 0);
	wr(0x050, RX);
	CHECK_INT(used_idx(RX), 0);
	CHECK_INT(virtio_console_input(dev, (const uint8_t *)"new", 3), 3);
	CHECK_INT(used_idx(RX), 1);
	CHECK(!memcmp(ram + BUF_GPA, "new", 3));
	return NULL;
}

static const char *test_size(void)
{
	uint8_t b[4];

	CHECK_INT(fresh(false), 0);
	virtio_console_set_size(dev, 132, 43);
	CHECK_INT(rd(0x060), 0);	/* no interrupt for a driver that is not up */
	CHECK_INT(rd(0x100), 132 | 43 << 16);
	iotrap_dispatch(&vm.io, IOTRAP_MMIO, dev->base + 0x102, b, 2, false);
	CHECK_INT(b[0] | b[1] << 8, 43);
	driver_setup();
	CHECK_INT(rd(0x0fc), 1);
	virtio_console_set_size(dev, 80, 25);
	CHECK_INT(rd(0x100), 80 | 25 << 16);
	CHECK_INT(rd(0x0fc), 2);
	CHECK_INT(rd(0x060), VIRTIO_MMIO_INT_CONFIG);
	/* the driver cannot write the size */
	wr(0x100, 0xffffffff);
	CHECK_INT(rd(0x100), 80 | 25 << 16);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "virtio-console-identity", test_identity },
		{ "virtio-console-transmit", test_transmit },
		{ "virtio-console-transmit-writable-buffer", test_transmit_writable },
		{ "virtio-console-transmit-zero-length", test_transmit_zero_length },
		{ "virtio-console-transmit-outside-ram", test_transmit_outside_ram },
		{ "virtio-console-receive", test_receive },
		{ "virtio-console-receive-posted-before-driver-ok", test_receive_posted_early },
		{ "virtio-console-input-fifo-full", test_input_fifo_full },
		{ "virtio-console-receive-readable-buffer", test_receive_readable },
		{ "virtio-console-reset-empties-fifo", test_reset_empties_fifo },
		{ "virtio-console-size", test_size },
	};
	int status = check_main(cases, sizeof(cases) / sizeof(cases[0]));

	if (dev)
		dev->ops->destroy(dev);
	return status;
}
