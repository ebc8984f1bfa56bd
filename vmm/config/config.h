#ifndef SHRIKE_CONFIG_CONFIG_H
#define SHRIKE_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/limits.h"
#include "lib/addr.h"

/*
 * shrike.conf (docs/config.md) parsed into one struct with fixed-size arrays: the PID 1 has no business growing
 * lists from a file, and a limit must be an error the operator sees, not a truncation. The flow is parse (syntax,
 * per-key values), then validate (references across the file), then use; nothing is applied before both passed.
 * What a guest may have is config/limits.h's, shared with `shrike run`.
 */
#define CONFIG_MAX_GUESTS	32
#define CONFIG_MAX_BRIDGES	8
#define CONFIG_MAX_PORTS	8
#define CONFIG_MAX_AFTER	(CONFIG_MAX_GUESTS - 1)
#define CONFIG_MAX_DNS		3
#define CONFIG_MAX_LINE		1023
#define CONFIG_NAME_MAX		31	/* guest names */
#define CONFIG_IFNAME_MAX	15	/* Linux IFNAMSIZ - 1: bridges and host interfaces */
#define CONFIG_HOSTNAME_MAX	63
#define CONFIG_PATH_MAX		255	/* paths on the data partition */
#define CONFIG_LABEL_MAX	36	/* GPT partition names are 36 UTF-16 units */
/* A line's worth: with what the supervisor puts in front (console=, quiet), far below GUEST_MAX_CMDLINE. */
#define CONFIG_CMDLINE_MAX	1023
#define CONFIG_FILE_NAME_MAX	63	/* payload file names; the partition format's limit too */

#define CONFIG_MAX_ERRORS	50
#define CONFIG_ERROR_LEN	320

enum config_log_level { CONFIG_LOG_ERROR, CONFIG_LOG_WARN, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG };
enum config_restart { CONFIG_RESTART_NO, CONFIG_RESTART_ON_FAILURE, CONFIG_RESTART_ALWAYS };
enum config_console { CONFIG_CONSOLE_SERIAL, CONFIG_CONSOLE_VIRTIO };
/* What the guest's VMM does when the guest's watchdog expires (its --watchdog-action). */
enum config_watchdog { CONFIG_WATCHDOG_RESET, CONFIG_WATCHDOG_POWEROFF, CONFIG_WATCHDOG_NONE };
enum config_disk_kind { CONFIG_DISK_DATA, CONFIG_DISK_LABEL };
enum config_nic_kind { CONFIG_NIC_BRIDGE, CONFIG_NIC_USER };

/* IPv4 addresses are in host byte order. Every "line" is the line of the file that set the item, for errors. */
struct config_host {
	char hostname[CONFIG_HOSTNAME_MAX + 1];
	char mgmt_nic[CONFIG_IFNAME_MAX + 1];
	bool dhcp;
	uint32_t address;
	unsigned int prefix;
	bool gateway_set;
	uint32_t gateway;
	unsigned int gateway_line;
	uint32_t dns[CONFIG_MAX_DNS];
	unsigned int ndns;
	enum config_log_level log_level;
	bool rescue_shell;
	unsigned int line;		/* of [host], 0 if absent */
};

struct config_bridge {
	char name[CONFIG_IFNAME_MAX + 1];
	char ports[CONFIG_MAX_PORTS][CONFIG_IFNAME_MAX + 1];
	unsigned int nports;
	unsigned int line, ports_line;
};

struct config_mgmt {
	uint32_t listen_addr;
	uint16_t listen_port;
	unsigned int listen_line;
	/* Payload file names; empty when not given. */
	char cert[CONFIG_FILE_NAME_MAX + 1];
	char key[CONFIG_FILE_NAME_MAX + 1];
	char client_ca[CONFIG_FILE_NAME_MAX + 1];
	unsigned int cert_line, key_line, client_ca_line;
	unsigned int line;		/* of [mgmt], 0 if absent */
};

struct config_disk {
	enum config_disk_kind kind;
	char path[CONFIG_PATH_MAX + 1];	/* data: a path on the data partition; label: a GPT partition label */
	bool ro;
	unsigned int line;
};

struct config_nic {
	enum config_nic_kind kind;
	char bridge[CONFIG_IFNAME_MAX + 1];
	uint8_t mac[ADDR_MAC_LEN];
	bool mac_given;			/* else config_validate() derived mac from the guest name */
	uint32_t net;			/* user NICs: the guest's network */
	unsigned int prefix;
	uint32_t address;		/* user NICs: the guest's address, given or net + 15 (QEMU's default) */
	bool address_given;
	unsigned int line;
};

struct config_forward {
	uint16_t host_port, guest_port;
	unsigned int line;
};

struct config_guest {
	char name[CONFIG_NAME_MAX + 1];
	unsigned int line;		/* of [guest NAME] */
	char kernel[CONFIG_PATH_MAX + 1];
	char initrd[CONFIG_PATH_MAX + 1];	/* empty: none */
	char cmdline[CONFIG_CMDLINE_MAX + 1];
	unsigned int kernel_line;
	unsigned int vcpus;
	uint64_t memory;
	struct config_disk disks[GUEST_MAX_DISKS];
	unsigned int ndisks;
	struct config_nic nics[GUEST_MAX_NICS];
	unsigned int nnics;
	struct config_forward forwards[GUEST_MAX_FORWARDS];
	unsigned int nforwards;
	enum config_console console;
	enum config_watchdog watchdog;
	bool autostart;
	char after_names[CONFIG_MAX_AFTER][CONFIG_NAME_MAX + 1];
	unsigned int after[CONFIG_MAX_AFTER];	/* indices into guests[], set by config_validate() */
	unsigned int nafter, after_line;
	enum config_restart restart;
	unsigned int restart_limit_count, restart_limit_seconds;
	unsigned int shutdown_timeout;	/* seconds */
	char user_data[CONFIG_FILE_NAME_MAX + 1];
	unsigned int user_data_line;
};

struct config {
	char file[256];			/* the name errors are reported under */
	struct config_host host;
	struct config_mgmt mgmt;
	struct config_bridge bridges[CONFIG_MAX_BRIDGES];
	unsigned int nbridges;
	struct config_guest guests[CONFIG_MAX_GUESTS];
	unsigned int nguests;
};

/* Up to CONFIG_MAX_ERRORS messages "FILE:LINE: message", then one "FILE: too many errors". */
struct config_errors {
	unsigned int count;
	char msg[CONFIG_MAX_ERRORS + 1][CONFIG_ERROR_LEN];
};

/* A payload file the configuration names, with the line that names it and the most bytes it may have (0: any). */
struct config_file_ref {
	const char *name;
	unsigned int line;
	uint64_t max_size;
};
#define CONFIG_MAX_FILE_REFS	(3 + CONFIG_MAX_GUESTS)

/*
 * Parses text (len bytes, need not be NUL-terminated) into out, which it clears first and fills with the
 * defaults. Appends every error to errs (which the caller zeroes once, so several steps can share it). Returns 0,
 * or -EINVAL when there was an error; out then holds what could be parsed, for validate to check further.
 */
int config_parse(const char *file_name, const char *text, size_t len, struct config *out,
		 struct config_errors *errs);

/*
 * The checks across the file (docs/config.md, "Checks across the file"); fills in after[] and the MACs that were
 * not given. host_memory is the RAM the autostart guests must fit in, 0 not to check. Returns 0 or -EINVAL.
 */
int config_validate(struct config *cfg, uint64_t host_memory, struct config_errors *errs);

/* config_parse() then config_validate(): what the PID 1 and `shrike check` call. */
int config_load(const char *file_name, const char *text, size_t len, uint64_t host_memory, struct config *out,
		struct config_errors *errs);

/*
 * Every guest's index in a start order: each after the guests it names in `after`, otherwise in file order.
 * Needs a validated config (no cycles). Returns the number of guests written to order.
 */
unsigned int config_start_order(const struct config *cfg, unsigned int order[CONFIG_MAX_GUESTS]);

/* The payload files cfg names (cert, key, client-ca, user-data), in file order. Returns how many. */
unsigned int config_file_refs(const struct config *cfg, struct config_file_ref refs[CONFIG_MAX_FILE_REFS]);

/*
 * How a guest differs between two configurations (PUT /v1/config): not at all; only in what the supervisor reads
 * (autostart, after, restart, restart-limit, shutdown-timeout), which takes effect without touching a running
 * guest; or in what its VMM runs with, which needs a restart. Line numbers never count.
 */
enum config_guest_diff { CONFIG_GUEST_SAME, CONFIG_GUEST_POLICY, CONFIG_GUEST_CHANGED };
enum config_guest_diff config_guest_diff(const struct config_guest *a, const struct config_guest *b);

/* True when [host], [mgmt] and the bridges of a and b are the same, line numbers aside. */
bool config_host_equal(const struct config *a, const struct config *b);

/*
 * The text of a configuration with guest `guest` of cfg (parsed from that text) set to autostart: its autostart
 * line rewritten, or one inserted right after its [guest NAME] line. Every other byte stays as it was. *out is
 * malloc()ed (*out_len bytes). Returns 0, -ENOENT when there is no such guest, or -ENOMEM.
 */
int config_set_autostart(const char *text, size_t len, const struct config *cfg, unsigned int guest, bool autostart,
			 char **out, size_t *out_len);

/* Appends one error to errs; line 0 reports "FILE: message". */
void config_error(struct config_errors *errs, const char *file, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
