/* unit-sources: vmm/virtio/balloon.c vmm/virtio/queue.c vmm/virtio/mmio.c vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/log.c vmm/lib/evloop.c vmm/run/stats.c */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "kvm/vm.h"
#include "lib/le.h"
#include "virtio/balloon.h"
#include "virtio/mmio.h"

/*
 * A fake guest with 48 KiB of low RAM (page numbers 0-11) and 16 KiB above 4 GiB (0x100000-0x100003), in one
 * private anonymous mapping as run makes it, so madvise() really drops pages. Page 1 holds the rings of the
 * three 8-entry queues (inflate 0, deflate 1, stats 2), page 2 the page number arrays; pages 8-11 are for the
 * balloon.
 */
#define RAM_SIZE	0x10000
#define LOW_SIZE	0xc000
#define PAGE		4096
#define INFLATE		0
#define DEFLATE		1
#define STATS		2
#define DESC_GPA(q)	(0x1000 + (q) * 0x100)
#define AVAIL_GPA(q)	(0x1400 + (q) * 0x100)
#define USED_GPA(q)	(0x1800 + (q) * 0x100)
#define ARRAY_GPA	0x2000
#define QNUM		8
#define HIGH_PFN	(VM_HIGH_RAM_START / PAGE)

static uint8_t *ram;
static struct vm vm;
static struct virtio_dev *dev;

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

static void set_desc(unsigned int q, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	((struct virtq_desc *)(ram + DESC_GPA(q)))[i] =
		(struct virtq_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
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

static bool needs_reset(void)
{
	return rd(0x070) & VIRTIO_STATUS_NEEDS_RESET;
}

/* The driver's probe up to DRIVER_OK; the statistics queue only with VIRTIO_BALLOON_F_STATS_VQ, as Linux does. */
static void driver_probe(bool stats)
{
	unsigned int q;

	wr(0x070, 3);
	wr(0x024, 1);
	wr(0x020, 1);	/* VERSION_1 */
	wr(0x024, 0);
	wr(0x020, stats ? 0x6 : 0x4);	/* STATS_VQ, DEFLATE_ON_OOM */
	wr(0x070, 0xb);
	for (q = 0; q < (stats ? 3U : 2U); q++) {
		wr(0x030, q);
		wr(0x038, QNUM);
		wr(0x080, DESC_GPA(q));
		wr(0x090, AVAIL_GPA(q));
		wr(0x0a0, USED_GPA(q));
		wr(0x044, 1);
	}
}

static void driver_setup(bool stats)
{
	driver_probe(stats);
	wr(0x070, 0xf);
}

static int fresh(bool setup)
{
	if (dev)
		dev->ops->destroy(dev);
	dev = NULL;
	if (ram)
		munmap(ram, RAM_SIZE);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		ram = NULL;
		return -1;
	}
	vm = (struct vm){ .ram = ram, .ram_size = RAM_SIZE, .low_size = LOW_SIZE, .vm_fd = -1, .kvm_fd = -1 };
	iotrap_init(&vm.io);
	if (virtio_balloon_create(&vm, &dev) < 0)
		return -1;
	if (setup)
		driver_setup(true);
	return setup && rd(0x070) != 0xf ? -1 : 0;
}

/* Hands the page numbers to queue q in one readable buffer at ARRAY_GPA + 0x100 * slot and kicks. */
static void send_pfns(unsigned int q, unsigned int slot, const uint32_t *pfns, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		le_put32(ram + ARRAY_GPA + 0x100 * slot + 4 * i, pfns[i]);
	set_desc(q, slot, ARRAY_GPA + 0x100 * slot, 4 * n, 0, 0);
	make_available(q, (uint16_t)slot);
	wr(0x050, q);
}

static uint8_t *page(uint64_t pfn)
{
	return vm_gpa_to_host(&vm, pfn * PAGE, PAGE);
}

static bool all(const uint8_t *p, uint8_t v)
{
	unsigned int i;

	for (i = 0; i < PAGE; i++)
		if (p[i] != v)
			return false;
	return true;
}

static struct virtio_balloon_info info(void)
{
	struct virtio_balloon_info i;

	memset(&i, 0xa5, sizeof(i));
	virtio_balloon_get(dev, &i);
	return i;
}

static const char *test_identity(void)
{
	CHECK_INT(fresh(false), 0);
	CHECK_INT(rd(0x008), 5);
	CHECK_INT(rd(0x010), 0x6);	/* STATS_VQ | DEFLATE_ON_OOM, and not MUST_TELL_HOST */
	wr(0x030, 2);
	CHECK_INT(rd(0x034), 64);
	wr(0x030, 3);
	CHECK_INT(rd(0x034), 0);
	CHECK_INT(rd(0x100), 0);
	CHECK_INT(rd(0x104), 0);
	return NULL;
}

static const char *test_inflate_deflate(void)
{
	static const uint32_t in[] = { 8, 9, 11, HIGH_PFN + 3 }, out[] = { 9 };
	struct virtio_balloon_info i;

	CHECK_INT(fresh(true), 0);
	memset(ram + 8 * PAGE, 0xaa, 4 * PAGE);
	memset(page(HIGH_PFN + 3), 0xbb, PAGE);
	memset(page(HIGH_PFN + 2), 0xcc, PAGE);
	send_pfns(INFLATE, 0, in, 4);
	CHECK(!needs_reset());
	CHECK_INT(used_idx(INFLATE), 1);
	CHECK_INT(rd(0x060), VIRTIO_MMIO_INT_VRING);
	/* released pages read as zeros; their neighbours keep their contents */
	CHECK(all(page(8), 0) && all(page(9), 0) && all(page(11), 0) && all(page(HIGH_PFN + 3), 0));
	CHECK(all(page(10), 0xaa));
	CHECK(all(page(HIGH_PFN + 2), 0xcc));
	i = info();
	CHECK_INT(i.actual_pages, 4);
	CHECK_INT(rd(0x104), 4);
	send_pfns(DEFLATE, 1, out, 1);
	CHECK_INT(used_idx(DEFLATE), 1);
	CHECK_INT(info().actual_pages, 3);
	CHECK_INT(rd(0x104), 3);
	/* the guest may use a deflated page at once */
	memset(page(9), 0x11, PAGE);
	CHECK(all(page(9), 0x11));
	/* deflating more than was inflated does not wrap */
	send_pfns(DEFLATE, 2, in, 4);
	CHECK_INT(info().actual_pages, 0);
	CHECK(!needs_reset());
	return NULL;
}

static const char *test_pfn_split_across_buffers(void)
{
	CHECK_INT(fresh(true), 0);
	memset(ram + 8 * PAGE, 0xaa, 2 * PAGE);
	/* pfns 8 and 10 as 6 bytes + 2 bytes */
	le_put32(ram + ARRAY_GPA, 8);
	le_put32(ram + ARRAY_GPA + 4, 10);
	set_desc(INFLATE, 3, ARRAY_GPA, 6, VIRTQ_DESC_F_NEXT, 4);
	set_desc(INFLATE, 4, ARRAY_GPA + 6, 2, 0, 0);
	make_available(INFLATE, 3);
	wr(0x050, INFLATE);
	CHECK(!needs_reset());
	CHECK_INT(used_idx(INFLATE), 1);
	CHECK(all(page(8), 0) && all(page(9), 0xaa) && all(page(10), 0));
	CHECK_INT(info().actual_pages, 2);
	return NULL;
}

static uint32_t bad_pfn;
static unsigned int bad_queue;

static void send_bad(void)
{
	uint32_t pfns[] = { 8, bad_pfn, 10 };

	send_pfns(bad_queue, 0, pfns, 3);
	send_pfns(bad_queue, 1, pfns, 1);
}

/* Page numbers just past the end of low and high RAM, in the MMIO hole, the largest there is, below 4 GiB. */
static const char *test_bad_pfns(void)
{
	static const uint32_t bad[] = { LOW_SIZE / PAGE, HIGH_PFN + 4, 0xd0000, 0xffffffff, HIGH_PFN - 1 };
	unsigned int i, q;

	for (q = INFLATE; q <= DEFLATE; q++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			CHECK_INT(fresh(true), 0);
			memset(ram + 8 * PAGE, 0xaa, 4 * PAGE);
			bad_pfn = bad[i];
			bad_queue = q;
			CHECK_INT(check_stderr(send_bad, NULL, 0), 1);
			CHECK(needs_reset());
			CHECK_INT(used_idx(q), 0);
			/* nothing after the bad entry is released, and a broken device takes no more */
			CHECK(all(page(10), 0xaa));
			CHECK(all(page(11), 0xaa));
		}
	}
	/* the last page of each RAM range is fine */
	CHECK_INT(fresh(true), 0);
	bad_pfn = LOW_SIZE / PAGE - 1;
	bad_queue = INFLATE;
	send_bad();
	CHECK(!needs_reset());
	bad_pfn = HIGH_PFN + 3;
	send_bad();
	CHECK(!needs_reset());
	CHECK_INT(used_idx(INFLATE), 4);
	return NULL;
}

static void send_odd(void)
{
	le_put32(ram + ARRAY_GPA, 8);
	set_desc(INFLATE, 0, ARRAY_GPA, 7, 0, 0);
	make_available(INFLATE, 0);
	wr(0x050, INFLATE);
}

static void send_writable(void)
{
	le_put32(ram + ARRAY_GPA, 8);
	set_desc(INFLATE, 0, ARRAY_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	make_available(INFLATE, 0);
	wr(0x050, INFLATE);
}

static const char *test_malformed_arrays(void)
{
	CHECK_INT(fresh(true), 0);
	CHECK_INT(check_stderr(send_odd, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK_INT(used_idx(INFLATE), 0);
	CHECK_INT(fresh(true), 0);
	memset(ram + 8 * PAGE, 0xaa, PAGE);
	CHECK_INT(check_stderr(send_writable, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK(all(page(8), 0xaa));
	/* after a reset the device works again and starts from an empty balloon */
	wr(0x070, 0);
	CHECK_INT(info().actual_pages, 0);
	memset(ram + 0x1000, 0, 0x2000);
	driver_setup(true);
	CHECK(!needs_reset());
	send_pfns(INFLATE, 0, (const uint32_t[]){ 8 }, 1);
	CHECK(all(page(8), 0));
	CHECK_INT(info().actual_pages, 1);
	return NULL;
}

static const char *test_target(void)
{
	CHECK_INT(fresh(false), 0);
	CHECK_INT(virtio_balloon_set_target(dev, 3 * PAGE + 100), 0);
	CHECK_INT(rd(0x100), 3);
	CHECK_INT(rd(0x0fc), 1);
	CHECK_INT(rd(0x060), 0);	/* the driver reads it when it starts */
	driver_setup(true);
	CHECK_INT(virtio_balloon_set_target(dev, 8 * PAGE), 0);
	CHECK_INT(rd(0x100), 8);
	CHECK_INT(rd(0x0fc), 2);
	CHECK_INT(rd(0x060), VIRTIO_MMIO_INT_CONFIG);
	CHECK_INT(info().target_pages, 8);
	CHECK_INT(virtio_balloon_set_target(dev, RAM_SIZE + 1), -EINVAL);
	CHECK_INT(virtio_balloon_set_target(dev, UINT64_MAX), -EINVAL);
	CHECK_INT(info().target_pages, 8);
	CHECK_INT(virtio_balloon_set_target(dev, RAM_SIZE), 0);
	CHECK_INT(info().target_pages, RAM_SIZE / PAGE);
	/* the driver writes actual, the transport drops it; the target stays the host's */
	wr(0x100, 1234);
	wr(0x104, 99);
	CHECK_INT(rd(0x100), RAM_SIZE / PAGE);
	CHECK_INT(info().actual_pages, 0);
	/* a reset keeps the target */
	wr(0x070, 0);
	CHECK_INT(info().target_pages, RAM_SIZE / PAGE);
	return NULL;
}

/* Fills the statistics buffer at ARRAY_GPA + 0x800 as Linux does: n packed { le16 tag, le64 value }. */
static void post_stats(uint16_t head, const uint16_t *tags, const uint64_t *vals, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		le_put16(ram + ARRAY_GPA + 0x800 + 10 * i, tags[i]);
		le_put64(ram + ARRAY_GPA + 0x800 + 10 * i + 2, vals[i]);
	}
	set_desc(STATS, head, ARRAY_GPA + 0x800, 10 * n, 0, 0);
	make_available(STATS, head);
	wr(0x050, STATS);
}

static const char *test_stats(void)
{
	static const uint16_t tags[] = { VIRTIO_BALLOON_S_MEMFREE, VIRTIO_BALLOON_S_MEMTOT, 99,
					 VIRTIO_BALLOON_S_SWAP_IN };
	static const uint64_t vals[] = { 1000, 2000, 3000, 4000 };
	struct virtio_balloon_info i;

	CHECK_INT(fresh(false), 0);
	CHECK_INT(virtio_balloon_request_stats(dev), -EAGAIN);
	driver_setup(true);
	CHECK_INT(virtio_balloon_request_stats(dev), -EAGAIN);
	CHECK_INT(info().stats_updates, 0);
	/* the driver's first buffer: kept, not returned */
	post_stats(0, tags, vals, 4);
	CHECK_INT(used_idx(STATS), 0);
	i = info();
	CHECK_INT(i.stats_updates, 1);
	CHECK_INT(i.stats_valid, 1 << VIRTIO_BALLOON_S_MEMFREE | 1 << VIRTIO_BALLOON_S_MEMTOT |
		  1 << VIRTIO_BALLOON_S_SWAP_IN);
	CHECK_INT(i.stats[VIRTIO_BALLOON_S_MEMFREE], 1000);
	CHECK_INT(i.stats[VIRTIO_BALLOON_S_MEMTOT], 2000);
	CHECK_INT(i.stats[VIRTIO_BALLOON_S_SWAP_IN], 4000);
	/* asking for fresh ones hands the buffer back, once */
	CHECK_INT(virtio_balloon_request_stats(dev), 0);
	CHECK_INT(used_idx(STATS), 1);
	CHECK_INT(rd(0x060), VIRTIO_MMIO_INT_VRING);
	CHECK_INT(virtio_balloon_request_stats(dev), -EAGAIN);
	post_stats(0, (const uint16_t[]){ VIRTIO_BALLOON_S_MEMFREE }, (const uint64_t[]){ 1500 }, 1);
	i = info();
	CHECK_INT(i.stats_updates, 2);
	CHECK_INT(i.stats_valid, 1 << VIRTIO_BALLOON_S_MEMFREE);
	CHECK_INT(i.stats[VIRTIO_BALLOON_S_MEMFREE], 1500);
	/* a second buffer while we hold one: the old one goes back */
	post_stats(1, (const uint16_t[]){ VIRTIO_BALLOON_S_AVAIL }, (const uint64_t[]){ 7 }, 1);
	CHECK_INT(used_idx(STATS), 2);
	CHECK_INT(info().stats[VIRTIO_BALLOON_S_AVAIL], 7);
	CHECK_INT(virtio_balloon_request_stats(dev), 0);
	CHECK_INT(used_idx(STATS), 3);
	CHECK(!needs_reset());
	/* a reset drops the held buffer */
	post_stats(2, tags, vals, 1);
	wr(0x070, 0);
	CHECK_INT(virtio_balloon_request_stats(dev), -EAGAIN);
	return NULL;
}

/* A huge statistics buffer with a trailing partial entry: read up to the cap, no error. */
static const char *test_stats_hostile(void)
{
	unsigned int n;

	CHECK_INT(fresh(true), 0);
	for (n = 0; n < 200; n++) {
		le_put16(ram + 0x8000 + 10 * n, VIRTIO_BALLOON_S_CACHES);
		le_put64(ram + 0x8000 + 10 * n + 2, n);
	}
	set_desc(STATS, 0, 0x8000, 10 * 200 + 5, 0, 0);
	make_available(STATS, 0);
	wr(0x050, STATS);
	CHECK(!needs_reset());
	CHECK_INT(info().stats[VIRTIO_BALLOON_S_CACHES], 63);
	CHECK_INT(info().stats_valid, 1 << VIRTIO_BALLOON_S_CACHES);
	return NULL;
}

static void kick_stats(void)
{
	wr(0x050, STATS);
}

static const char *test_stats_writable(void)
{
	CHECK_INT(fresh(true), 0);
	set_desc(STATS, 0, 0x8000, 20, VIRTQ_DESC_F_WRITE, 0);
	make_available(STATS, 0);
	CHECK_INT(check_stderr(kick_stats, NULL, 0), 1);
	CHECK(needs_reset());
	CHECK_INT(info().stats_updates, 0);
	CHECK_INT(virtio_balloon_request_stats(dev), -EAGAIN);
	return NULL;
}

/* Linux primes the statistics queue and kicks it before DRIVER_OK; the transport ignores that kick. */
static const char *test_stats_primed_early(void)
{
	static const uint16_t tags[] = { VIRTIO_BALLOON_S_MEMTOT };
	static const uint64_t vals[] = { 256 << 20 };

	CHECK_INT(fresh(false), 0);
	driver_probe(true);
	post_stats(5, tags, vals, 1);
	wr(0x070, 0xf);
	CHECK_INT(info().stats_updates, 0);
	CHECK_INT(virtio_balloon_request_stats(dev), 0);
	CHECK_INT(used_idx(STATS), 1);
	CHECK_INT(((uint32_t *)(ram + USED_GPA(STATS) + 4))[0], 5);
	CHECK_INT(info().stats_updates, 1);
	CHECK_INT(info().stats[VIRTIO_BALLOON_S_MEMTOT], 256 << 20);
	CHECK_INT(virtio_balloon_request_stats(dev), -EAGAIN);
	CHECK(!needs_reset());
	return NULL;
}

static const char *test_no_stats_queue(void)
{
	CHECK_INT(fresh(false), 0);
	driver_setup(false);
	CHECK_INT(rd(0x070), 0xf);
	CHECK_INT(virtio_balloon_request_stats(dev), -EAGAIN);
	send_pfns(INFLATE, 0, (const uint32_t[]){ 9 }, 1);
	CHECK_INT(info().actual_pages, 1);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "virtio-balloon-identity", test_identity },
		{ "virtio-balloon-inflate-deflate", test_inflate_deflate },
		{ "virtio-balloon-pfn-split-across-buffers", test_pfn_split_across_buffers },
		{ "virtio-balloon-bad-pfns", test_bad_pfns },
		{ "virtio-balloon-malformed-arrays", test_malformed_arrays },
		{ "virtio-balloon-target", test_target },
		{ "virtio-balloon-stats", test_stats },
		{ "virtio-balloon-stats-hostile", test_stats_hostile },
		{ "virtio-balloon-stats-writable", test_stats_writable },
		{ "virtio-balloon-stats-primed-before-driver-ok", test_stats_primed_early },
		{ "virtio-balloon-no-stats-queue", test_no_stats_queue },
	};
	int status = check_main(cases, sizeof(cases) / sizeof(cases[0]));

	if (dev)
		dev->ops->destroy(dev);
	if (ram)
		munmap(ram, RAM_SIZE);
	return status;
}
