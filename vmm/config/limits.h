#ifndef SHRIKE_CONFIG_LIMITS_H
#define SHRIKE_CONFIG_LIMITS_H

/*
 * What one guest may have, defined once for `shrike check` and the PID 1 (config/config.c) and for `shrike run`
 * (run/opts.c): a configuration the check accepts is one its VMM can start. docs/config.md and docs/vmm.md give
 * them to users; tests/config and tests/unit/run_opts_test.c try each at N and N + 1.
 */
#define GUEST_MAX_VCPUS		64		/* APIC IDs 0..63: what the MP table and the MADT describe */
#define GUEST_MIN_MEMORY	(32ULL << 20)
#define GUEST_MAX_MEMORY	(1ULL << 40)	/* 1 TiB, far beyond any box this runs on */
#define GUEST_MAX_DISKS		8
#define GUEST_MAX_NICS		4
/*
 * The virtio-mmio slots kept for the devices a guest has one of (rng, balloon, console): with the disks and NICs
 * they fill the transport's slots exactly (run/devices.c checks at build time).
 */
#define GUEST_FIXED_VIRTIO	3
#define GUEST_MAX_FORWARDS	16		/* host ports forwarded to the guest's (first) user NIC */
/* A user NIC's network: .0, .2 (gateway), .3 (DNS), the guest and the broadcast address must fit. */
#define GUEST_USER_NET_MIN_PREFIX	8
#define GUEST_USER_NET_MAX_PREFIX	29
/* The kernel command line run takes; a config's cmdline is shorter (CONFIG_CMDLINE_MAX, one line of the file). */
#define GUEST_MAX_CMDLINE	4096
/* The user data the metadata service serves, so a mistaken file cannot eat the VMM's memory. */
#define GUEST_MAX_USER_DATA	(1 << 20)

#endif
