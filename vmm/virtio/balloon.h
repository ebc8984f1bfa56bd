#ifndef SHRIKE_VIRTIO_BALLOON_H
#define SHRIKE_VIRTIO_BALLOON_H

#include <stdint.h>

#include "kvm/vm.h"
#include "virtio/mmio.h"

/* The balloon counts in 4 KiB pages whatever the host's or the guest's page size. */
#define VIRTIO_BALLOON_PAGE	4096ULL

/* Memory statistics tags of the virtio spec (5.5.6.3) as Linux 6.12 sends them: amounts in bytes, events counted. */
#define VIRTIO_BALLOON_S_SWAP_IN	0	/* bytes swapped in */
#define VIRTIO_BALLOON_S_SWAP_OUT	1	/* bytes swapped out */
#define VIRTIO_BALLOON_S_MAJFLT		2	/* major page faults */
#define VIRTIO_BALLOON_S_MINFLT		3	/* minor page faults */
#define VIRTIO_BALLOON_S_MEMFREE	4	/* free memory */
#define VIRTIO_BALLOON_S_MEMTOT		5	/* memory the guest manages */
#define VIRTIO_BALLOON_S_AVAIL		6	/* available without swapping (MemAvailable) */
#define VIRTIO_BALLOON_S_CACHES		7	/* disk caches */
#define VIRTIO_BALLOON_S_HTLB_PGALLOC	8	/* hugetlb page allocations */
#define VIRTIO_BALLOON_S_HTLB_PGFAIL	9	/* hugetlb allocation failures */
#define VIRTIO_BALLOON_S_OOM_KILL	10	/* OOM kills */
#define VIRTIO_BALLOON_S_ALLOC_STALL	11	/* allocation stalls */
#define VIRTIO_BALLOON_S_ASYNC_SCAN	12	/* pages scanned by kswapd */
#define VIRTIO_BALLOON_S_DIRECT_SCAN	13	/* pages scanned in direct reclaim */
#define VIRTIO_BALLOON_S_ASYNC_RECLAIM	14	/* pages reclaimed by kswapd */
#define VIRTIO_BALLOON_S_DIRECT_RECLAIM	15	/* pages reclaimed in direct reclaim */
#define VIRTIO_BALLOON_S_NR		16	/* tags kept; a guest sending others has them ignored */

struct virtio_balloon_info {
	uint64_t target_pages;		/* what the host asked the balloon to hold */
	uint64_t actual_pages;		/* what the guest has put in it (inflated minus deflated) */
	uint64_t stats_updates;		/* statistics buffers received from the guest; 0: none yet */
	uint32_t stats_valid;		/* bit n set: stats[n] came in the latest buffer */
	uint64_t stats[VIRTIO_BALLOON_S_NR];
};

/*
 * virtio-balloon (device ID 5) with the statistics queue and deflate-on-OOM: the host asks the guest to give back
 * memory, the guest hands over page numbers and the host releases them (madvise MADV_DONTNEED on guest RAM).
 * Creates the device in vm's next virtio-mmio slot. Returns 0 with the device in *out, or -errno (logged). Every
 * guest of `run` gets one (its entry in the device table, run/devices.h).
 *
 * The functions besides create take dev->lock and may be called from any thread but a vCPU's. They are weak, so
 * that run's control socket links in a build without CONFIG_VIRTIO_BALLOON; it only calls them on the device
 * the table made.
 */
int virtio_balloon_create(struct vm *vm, struct virtio_dev **out);

/*
 * Asks the guest to hold target_bytes (rounded down to 4 KiB pages) in its balloon, i.e. to run with guest RAM
 * minus that much: virsh setmem M is a target of RAM - M. Returns 0, or -EINVAL above the guest's RAM.
 */
int virtio_balloon_set_target(struct virtio_dev *dev, uint64_t target_bytes) __attribute__((weak));

/* The target, the guest's progress towards it and the latest statistics it sent. Returns 0. */
int virtio_balloon_get(struct virtio_dev *dev, struct virtio_balloon_info *info) __attribute__((weak));

/*
 * Asks the guest for fresh statistics by giving back the buffer it left on the statistics queue; they show in
 * virtio_balloon_get() once the guest refills it (a few milliseconds, stats_updates goes up). Returns 0, or
 * -EAGAIN when the guest holds no buffer there (the driver is not up, did not take the statistics feature, or is
 * still answering the previous request).
 */
int virtio_balloon_request_stats(struct virtio_dev *dev) __attribute__((weak));

#endif
