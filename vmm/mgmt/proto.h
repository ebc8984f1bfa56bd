#ifndef SHRIKE_MGMT_PROTO_H
#define SHRIKE_MGMT_PROTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * The messages between `shrike mgmt` and PID 1, over socketpair(AF_UNIX, SOCK_SEQPACKET): one message per
 * datagram, a fixed header, then a payload whose layout the type decides. Both sides are the same binary, so fields
 * are in host byte order, but neither trusts the other's sizes: proto_check() runs on every message received,
 * before any field beyond the header is read.
 *
 * mgmt owns everything that comes from the network (HTTP, JSON, names in URLs); PID 1 receives only these fixed
 * structures and answers with typed structures that mgmt renders as JSON. Strings inside structures are
 * NUL-terminated within their arrays; variable data (console bytes, config text) is counted, never terminated.
 *
 * Requests carry an id chosen by mgmt; the reply has the same type with PROTO_REPLY set, the same id, and a
 * status of 0 or a negative errno (-ENOENT no such guest, -EALREADY already in that state, -EBUSY busy, -EINVAL
 * refused, with an optional proto_data explaining why, e.g. a config's "file:line: message" lines). Subscriptions
 * (console follow, events) are answered once, then PID 1 sends PROTO_EVT_* messages with the subscription's id
 * until mgmt sends PROTO_UNSUBSCRIBE with that id, or PID 1 sends PROTO_EVT_END.
 */

#define PROTO_MSG_MAX 65536		/* one datagram; the largest payload is the config text */
#define PROTO_NAME_MAX 32		/* guest name, with its NUL */
#define PROTO_EXIT_MAX 16		/* exit reason ("watchdog"), with its NUL */
#define PROTO_MAX_GUESTS 64		/* in a config result: the new guests and the removed ones */
#define PROTO_MAX_LISTED 32		/* in a guest list: the config's limit (CONFIG_MAX_GUESTS) */
#define PROTO_MAX_DISKS 8
#define PROTO_MAX_NICS 8
#define PROTO_DATA_MAX (PROTO_MSG_MAX - sizeof(struct proto_hdr) - sizeof(struct proto_data))
#define PROTO_INPUT_MAX 4096		/* console input per message */

struct proto_hdr {
	uint16_t type;
	uint16_t reserved;		/* 0 */
	uint32_t len;			/* whole message, header included */
	uint32_t id;
	int32_t status;			/* replies: 0 or -errno; requests and events: 0 */
};

#define PROTO_REPLY 0x8000

enum proto_type {
	/* mgmt -> PID 1; payload -> reply payload */
	PROTO_HOST_INFO = 1,		/* none -> proto_host_info */
	PROTO_GUEST_LIST,		/* none -> proto_guest_list */
	PROTO_GUEST_GET,		/* proto_guest_ref -> proto_guest_detail */
	PROTO_GUEST_ACTION,		/* proto_guest_action -> none */
	PROTO_GUEST_AUTOSTART,		/* proto_guest_autostart -> none */
	PROTO_GUEST_BALLOON,		/* proto_guest_balloon -> none */
	PROTO_CONSOLE_READ,		/* proto_guest_ref -> proto_data: the console ring */
	PROTO_CONSOLE_FOLLOW,		/* proto_guest_ref -> proto_data: the ring so far; then PROTO_EVT_CONSOLE */
	PROTO_CONSOLE_INPUT,		/* proto_console_input -> none */
	PROTO_UNSUBSCRIBE,		/* none, id = the subscription's; no reply */
	PROTO_CONFIG_GET,		/* none -> proto_data: the active config text */
	PROTO_CONFIG_PUT,		/* proto_data: new config text -> proto_config_result (or -EINVAL + errors) */
	PROTO_EVENTS,			/* none -> none; then PROTO_EVT_STATE */
	PROTO_HOST_POWER,		/* proto_host_power -> none */

	/* PID 1 -> mgmt, unsolicited, id = the subscription's */
	PROTO_EVT_CONSOLE = 0x100,	/* proto_data: new console output; dropped = bytes lost since last */
	PROTO_EVT_STATE,		/* proto_state_event */
	PROTO_EVT_END,			/* none: the subscription is over (guest removed by a new config) */
};

enum proto_guest_state {
	PROTO_STATE_STOPPED,
	PROTO_STATE_STARTING,
	PROTO_STATE_RUNNING,
	PROTO_STATE_PAUSED,
	PROTO_STATE_STOPPING,
	PROTO_STATE_CRASHED,		/* exited abnormally; may be restarted by its policy */
	PROTO_STATE_COUNT
};

enum proto_action {
	PROTO_ACTION_START,
	PROTO_ACTION_SHUTDOWN,		/* ACPI power button; the guest decides */
	PROTO_ACTION_REBOOT,
	PROTO_ACTION_DESTROY,		/* kill now */
	PROTO_ACTION_PAUSE,
	PROTO_ACTION_RESUME,
	PROTO_ACTION_COUNT
};

enum proto_power {
	PROTO_POWER_REBOOT,
	PROTO_POWER_POWEROFF,
};

struct proto_guest_ref {
	char name[PROTO_NAME_MAX];
};

struct proto_guest_action {
	char name[PROTO_NAME_MAX];
	uint32_t action;		/* enum proto_action */
	uint32_t reserved;
};

struct proto_guest_autostart {
	char name[PROTO_NAME_MAX];
	uint32_t autostart;		/* 0 or 1 */
	uint32_t reserved;
};

struct proto_guest_balloon {
	char name[PROTO_NAME_MAX];
	uint64_t target_mib;		/* memory the guest should keep; PID 1 checks it against the guest's size */
};

struct proto_host_power {
	uint32_t action;		/* enum proto_power */
	uint32_t reserved;
};

/* Counted bytes: console output, console input, config text, error text. */
struct proto_data {
	uint32_t len;
	uint32_t reserved;
	uint64_t dropped;		/* console: bytes lost before these (ring overwritten, slow reader) */
	char data[];
};

struct proto_console_input {
	char name[PROTO_NAME_MAX];
	uint32_t len;			/* at most PROTO_INPUT_MAX */
	uint32_t reserved;
	char data[];
};

/* VM exits by reason (the reasons the VMM's vCPU loop tells apart). */
enum proto_exit {
	PROTO_EXIT_IO,
	PROTO_EXIT_MMIO,
	PROTO_EXIT_INTR,
	PROTO_EXIT_SHUTDOWN,
	PROTO_EXIT_SYSTEM_EVENT,
	PROTO_EXIT_FAIL_ENTRY,
	PROTO_EXIT_INTERNAL_ERROR,
	PROTO_EXIT_OTHER,
	PROTO_EXIT_COUNT
};

/* The virtio devices a guest has at most once, besides its disks and NICs. */
enum proto_device {
	PROTO_DEVICE_RNG,
	PROTO_DEVICE_BALLOON,
	PROTO_DEVICE_CONSOLE,
	PROTO_DEVICE_COUNT
};

/* Disk n is the guest's /dev/vd('a' + n): the config's disks in their order. */
struct proto_disk_stats {
	uint64_t read_bytes, read_ops;
	uint64_t write_bytes, write_ops;
	uint64_t flushes;
	uint64_t needs_reset;		/* times the device stopped for a driver that broke the rules */
};

/* NIC n is the config's NIC n, called eth<n> in the API. rx is towards the guest, tx from it. */
struct proto_nic_stats {
	uint64_t rx_bytes, rx_packets, rx_dropped;
	uint64_t tx_bytes, tx_packets, tx_dropped;
	uint64_t needs_reset;
};

struct proto_guest_info {
	char name[PROTO_NAME_MAX];
	uint32_t state;			/* enum proto_guest_state */
	uint32_t vcpus;
	uint64_t memory_mib;
	uint64_t balloon_mib;		/* balloon target, 0 without a balloon */
	uint32_t autostart;
	uint32_t restarts;		/* since boot */
	uint64_t uptime_ms;		/* of the current run, 0 when stopped */
	uint64_t console_dropped_bytes;	/* console output older than what PID 1's history ring keeps */
	uint64_t watchdog_resets;	/* exits because the guest's watchdog expired, since boot */
	char last_exit[PROTO_EXIT_MAX];	/* why its VMM last ended (docs/supervisor.md), "" if it never did */
	/* The running VMM process, from /proc; 0 while none runs. */
	uint64_t cpu_ms;		/* user and system time */
	uint64_t vmm_memory_kib;	/* resident besides the guest's RAM: the VMM's own cost */
	uint64_t ram_resident_kib;	/* the guest's RAM that the host backs with pages now */
	/*
	 * The VMM's counters (docs/vmm.md, Counters) of its current or, once it ended, last run: they start at 0 with
	 * each start. has_counters 0: no VMM wrote any yet, and all of these are 0.
	 */
	uint32_t has_counters;
	uint32_t reserved;		/* 0 */
	uint32_t ndisks;		/* at most PROTO_MAX_DISKS */
	uint32_t nnics;			/* at most PROTO_MAX_NICS */
	uint64_t balloon_actual_mib;	/* memory the guest has given back */
	uint64_t vmm_console_dropped_bytes;	/* output the VMM dropped because PID 1 read it too slowly */
	uint64_t exits[PROTO_EXIT_COUNT];
	uint64_t needs_reset[PROTO_DEVICE_COUNT];
	struct proto_disk_stats disks[PROTO_MAX_DISKS];
	struct proto_nic_stats nics[PROTO_MAX_NICS];
};

struct proto_guest_list {
	uint32_t count;			/* at most PROTO_MAX_LISTED */
	uint32_t reserved;
	struct proto_guest_info guests[];
};

struct proto_guest_detail {
	struct proto_guest_info info;
	uint32_t config_len;		/* the guest's section of the config, as written */
	uint32_t reserved;
	char config[];
};

struct proto_host_info {
	char version[32];
	char board[32];
	char cpu_model[64];
	char kernel[64];
	uint64_t uptime_ms;
	uint64_t mem_total_kib;
	uint64_t mem_free_kib;
	uint32_t cpus;
	uint32_t kvm_api;		/* KVM_GET_API_VERSION, 0 without /dev/kvm */
	uint32_t kvm_ok;		/* the boot probe ran a guest */
	uint32_t guests;
};

/* What a config put did to a guest (docs/api.md, PUT /v1/config). */
enum proto_config_outcome {
	PROTO_CONFIG_RESTARTED,		/* changed while it ran: stopped, then started with the new config */
	PROTO_CONFIG_STARTED,		/* new, with autostart */
	PROTO_CONFIG_STOPPED,		/* no longer in the config: stopped and gone */
	PROTO_CONFIG_UNCHANGED,		/* not touched */
	PROTO_CONFIG_UPDATED,		/* changed or new while stopped: the new config is in force, not started */
	PROTO_CONFIG_OUTCOME_COUNT
};

struct proto_config_guest {
	char name[PROTO_NAME_MAX];
	uint32_t outcome;		/* enum proto_config_outcome */
	uint32_t reserved;
};

/* The answer to a config put that was written; the restarts and stops it started go on after it. */
struct proto_config_result {
	uint64_t generation;		/* of the slot written */
	uint32_t reboot_required;	/* [host], [mgmt] or bridges changed: they take effect at the next boot */
	uint32_t count;			/* at most PROTO_MAX_GUESTS: the new guests and the removed ones */
	struct proto_config_guest guests[];
};

const char *proto_config_outcome_name(uint32_t outcome);

struct proto_state_event {
	char name[PROTO_NAME_MAX];
	uint32_t state;			/* enum proto_guest_state */
	uint32_t restarts;
	char last_exit[PROTO_EXIT_MAX];	/* as in proto_guest_info */
};

/*
 * Checks a received message of n bytes: header length equal to n, a known type for the direction, the payload
 * size that type requires (counts included), reserved fields zero and every name NUL-terminated.
 * from_pid1 says which side sent it. Returns 0 or -EBADMSG.
 */
int proto_check(const void *msg, size_t n, int from_pid1);

/* A guest name as both sides accept it: 1-31 bytes of [A-Za-z0-9_.-], not starting with '.' or '-'. */
int proto_name_valid(const char *name);

/* Names for JSON and metrics; "unknown" for values out of range. */
const char *proto_state_name(uint32_t state);
const char *proto_action_name(uint32_t action);
const char *proto_exit_name(uint32_t exit);
const char *proto_device_name(uint32_t device);
/* The action for a name ("start"), or -EINVAL. */
int proto_action_parse(const char *name);

#endif
