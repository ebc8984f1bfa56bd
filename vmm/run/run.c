#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "boot/pvh.h"
#include "fw/acpi.h"
#include "fw/mptable.h"
#include "hw/absent.h"
#include "hw/acpi_pm.h"
#include "hw/boot_timer.h"
#include "hw/i8042.h"
#include "hw/rtc.h"
#include "hw/serial.h"
#include "kvm/cpuid.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"
#include "lib/evloop.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/size.h"
#include "net/metadata.h"
#include "net/tap.h"
#include "net/user.h"
#include "run/console.h"
#include "run/control.h"
#include "run/run.h"
#include "run/stats.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/rng.h"


#define MIB			(1024ULL * 1024)
#define RUN_MIN_MEM		(32 * MIB)
#define RUN_MAX_MEM		(1024ULL * 1024 * MIB)	/* 1 TiB, far beyond any box this runs on */
#define RUN_DEFAULT_MEM		(256 * MIB)
#define RUN_MAX_VCPUS		MPTABLE_MAX_VCPUS
/* Our own bound on the command line, whatever cmdline_size the kernel claims. */
#define RUN_MAX_CMDLINE		4096
#define RUN_DEFAULT_CMDLINE	"console=ttyS0"
/* Every disk and NIC is a virtio-mmio device; slots stay for rng, balloon and console (which may be left out). */
#define RUN_FIXED_DEVICES	3
#define RUN_MAX_DISKS		(VIRTIO_MMIO_MAX_DEVICES - RUN_FIXED_DEVICES)
#define RUN_MAX_NICS		4

/* Low-memory addresses of what the loader writes besides the kernel (see docs/vmm.md, memory layout). */
#define ZERO_PAGE_ADDR		0x7000ULL
#define CMDLINE_ADDR		0x20000ULL

struct run_opts {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t mem;
	unsigned int vcpus;
	struct run_disk {
		char *path;
		bool read_only;
	} disks[RUN_MAX_DISKS];
	unsigned int nr_disks;
	struct run_nic {
		char *tap;			/* NULL: a user NIC */
		uint8_t mac[VIRTIO_NET_MAC_LEN];
		struct net_user_conf user;
	} nics[RUN_MAX_NICS];
	unsigned int nr_nics;
	struct metadata *md;	/* --metadata and --user-data; freed by run_main() */
	bool no_acpi;
	bool virtio_console;	/* --console virtio: input goes to hvc0, not the UART */
	const char *control;	/* --control PATH */
	int stats_fd;		/* --stats-fd N: the counter area PID 1 reads (run/stats.h), -1 */
	uint64_t start_ns;	/* CLOCK_MONOTONIC when run started, for the boot timer */
};

/* PATH or PATH,ro; the path is optarg itself, cut at the comma. */
static int parse_disk(char *arg, struct run_opts *o)
{
	struct run_disk *d = &o->disks[o->nr_disks];
	char *comma = strrchr(arg, ',');

	if (o->nr_disks == RUN_MAX_DISKS) {
		log_error("--disk %s: at most %d disks", arg, RUN_MAX_DISKS);
		return -EINVAL;
	}
	d->read_only = false;
	if (comma) {
		if (strcmp(comma + 1, "ro")) {
			log_error("--disk %s: unknown option '%s', expected PATH or PATH,ro", arg, comma + 1);
			return -EINVAL;
		}
		*comma = '\0';
		d->read_only = true;
	}
	if (!*arg) {
		log_error("--disk: empty path");
		return -EINVAL;
	}
	d->path = arg;
	o->nr_disks++;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[VIRTIO_NET_MAC_LEN])
{
	unsigned int b[VIRTIO_NET_MAC_LEN], i;
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < VIRTIO_NET_MAC_LEN; i++)
		mac[i] = (uint8_t)b[i];
	/* A group address would make the guest's NIC receive for everyone. */
	return mac[0] & 1 ? -EINVAL : 0;
}

/*
 * The default MAC: QEMU's locally administered prefix 52:54:00 and three bytes from the tap's name, so a guest
 * keeps its address (and its DHCP lease) across restarts.
 */
static void default_mac(const char *tap, unsigned int index, uint8_t mac[VIRTIO_NET_MAC_LEN])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*tap)
		h = (h ^ (uint8_t)*tap++) * 16777619u;
	h ^= index;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

static int parse_ip(const char *s, uint32_t *ip)
{
	unsigned int b[4], i;
	int n = 0;

	if (sscanf(s, "%3u.%3u.%3u.%3u%n", &b[0], &b[1], &b[2], &b[3], &n) != 4 || s[n])
		return -EINVAL;
	for (*ip = 0, i = 0; i < 4; i++) {
		if (b[i] > 255)
			return -EINVAL;
		*ip = *ip << 8 | b[i];
	}
	return 0;
}

static int parse_port(const char *s, char stop, const char **end, uint16_t *port)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || v < 1 || v > 65535 || *e != stop)
		return -EINVAL;
	*port = (uint16_t)v;
	*end = e;
	return 0;
}

/* The options after "user": mac=, net=A.B.C.D/N, address=, forward=tcp:HOSTPORT:GUESTPORT (repeatable), loopback. */
static int parse_user_opt(const char *arg, char *opt, struct run_nic *nic, bool *mac_given)
{
	struct net_user_conf *u = &nic->user;
	const char *e;
	char *slash, *pe;
	unsigned long n;

	if (!strncmp(opt, "mac=", 4)) {
		if (parse_mac(opt + 4, nic->mac) < 0)
			goto bad;
		*mac_given = true;
	} else if (!strncmp(opt, "net=", 4)) {
		slash = strchr(opt, '/');
		if (!slash)
			goto bad;
		*slash = '\0';
		errno = 0;
		n = strtoul(slash + 1, &pe, 10);
		if (parse_ip(opt + 4, &u->net) < 0 || errno || *pe || pe == slash + 1 || n < 8 || n > 29 ||
		    (u->net & ~(uint32_t)(0xffffffffull << (32 - n)))) {
			*slash = '/';
			log_error("--net %s: '%s' is not net=A.B.C.D/N, a network address with N from 8 to 29", arg,
				  opt);
			return -EINVAL;
		}
		u->prefix = (unsigned int)n;
	} else if (!strncmp(opt, "address=", 8)) {
		if (parse_ip(opt + 8, &u->guest_addr) < 0 || !u->guest_addr)
			goto bad;
	} else if (!strncmp(opt, "forward=", 8)) {
		if (u->nforwards == NET_USER_MAX_FORWARDS) {
			log_error("--net %s: at most %d forwards", arg, NET_USER_MAX_FORWARDS);
			return -EINVAL;
		}
		if (strncmp(opt + 8, "tcp:", 4) ||
		    parse_port(opt + 12, ':', &e, &u->forwards[u->nforwards].host_port) < 0 ||
		    parse_port(e + 1, '\0', &e, &u->forwards[u->nforwards].guest_port) < 0) {
			log_error("--net %s: '%s' is not forward=tcp:HOSTPORT:GUESTPORT (ports 1 to 65535)", arg,
				  opt);
			return -EINVAL;
		}
		u->nforwards++;
	} else if (!strcmp(opt, "loopback")) {
		u->host_loopback = true;
	} else {
		log_error("--net %s: unknown option '%s'; expected mac=, net=, address=, forward= or loopback",
			  arg, opt);
		return -EINVAL;
	}
	return 0;
bad:
	log_error("--net %s: bad value in '%s'", arg, opt);
	return -EINVAL;
}

/*
 * tap=NAME[,mac=MAC] or user[,mac=MAC][,net=A.B.C.D/N][,address=A.B.C.D][,forward=tcp:H:G]...[,loopback]; names
 * and values are cut out of optarg itself.
 */
static int parse_net(char *arg, struct run_opts *o)
{
	struct run_nic *nic = &o->nics[o->nr_nics];
	char *comma, *opt, *next;
	bool mac_given = false;
	unsigned int i;

	if (o->nr_nics == RUN_MAX_NICS) {
		log_error("--net %s: at most %d NICs", arg, RUN_MAX_NICS);
		return -EINVAL;
	}
	if (!strcmp(arg, "user") || !strncmp(arg, "user,", 5)) {
		char copy[256];

		/* Errors quote the whole argument, which parsing cuts up. */
		snprintf(copy, sizeof(copy), "%s", arg);
		*nic = (struct run_nic){ .user = { .net = 0x0a000200, .prefix = 24 } };
		for (opt = arg[4] ? arg + 5 : NULL; opt; opt = next) {
			next = strchr(opt, ',');
			if (next)
				*next++ = '\0';
			if (parse_user_opt(copy, opt, nic, &mac_given) < 0)
				return -EINVAL;
		}
		if (!mac_given)
			default_mac("user", o->nr_nics, nic->mac);
		memcpy(nic->user.guest_mac, nic->mac, VIRTIO_NET_MAC_LEN);
		for (i = 0; i < o->nr_nics; i++)
			if (!o->nics[i].tap && o->nics[i].user.net == nic->user.net) {
				log_error("--net %s: two user NICs on one network; give each its own net=", copy);
				return -EINVAL;
			}
		o->nr_nics++;
		return 0;
	}
	if (strncmp(arg, "tap=", 4) || !arg[4] || arg[4] == ',') {
		log_error("--net %s: expected tap=NAME[,mac=MAC] or user[,OPTION]...", arg);
		return -EINVAL;
	}
	comma = strchr(arg, ',');
	if (comma) {
		*comma = '\0';
		if (strncmp(comma + 1, "mac=", 4) || parse_mac(comma + 5, nic->mac) < 0) {
			log_error("--net %s: '%s' is not mac=XX:XX:XX:XX:XX:XX (a unicast address)", arg,
				  comma + 1);
			return -EINVAL;
		}
	} else {
		default_mac(arg + 4, o->nr_nics, nic->mac);
	}
	nic->tap = arg + 4;
	o->nr_nics++;
	return 0;
}

/* The metadata store, made on first use; a failure is out of memory or a build without it. */
static int metadata_store(struct run_opts *o, const char *opt)
{
	if (o->md)
		return 0;
	if (!metadata_create) {
		log_error("%s: this shrike is built without the user network (CONFIG_PACKAGE_LWIP)", opt);
		return -EINVAL;
	}
	o->md = metadata_create();
	if (!o->md) {
		log_error("%s: out of memory", opt);
		return -ENOMEM;
	}
	return 0;
}

/* KEY=VALUE for the metadata service. */
static int parse_metadata(char *arg, struct run_opts *o)
{
	char *eq = strchr(arg, '=');
	int ret;

	if (!eq || eq == arg) {
		log_error("--metadata %s: expected KEY=VALUE", arg);
		return -EINVAL;
	}
	ret = metadata_store(o, "--metadata");
	if (ret < 0)
		return ret;
	*eq = '\0';
	ret = metadata_set(o->md, arg, eq + 1, strlen(eq + 1));
	if (ret == -EINVAL)
		log_error("--metadata %s: a key is 1 to %d of a-z, 0-9 and -", arg, METADATA_KEY_MAX);
	else if (ret < 0)
		log_error("--metadata %s: %s", arg, strerror(-ret));
	*eq = '=';
	return ret;
}

/* The user data a guest reads at /latest/user-data; bounded so a mistaken path cannot eat the VMM's memory. */
#define RUN_MAX_USER_DATA	(1024 * 1024)

static int parse_user_data(const char *path, struct run_opts *o)
{
	uint8_t *data;
	size_t len;
	int ret = metadata_store(o, "--user-data");

	if (ret < 0)
		return ret;
	ret = file_read(path, RUN_MAX_USER_DATA, &data, &len);
	if (ret < 0) {
		log_error("--user-data %s: %s", path, ret == -EFBIG ? "larger than 1 MiB" :
			  ret == -EINVAL ? "not a regular file" : strerror(-ret));
		return ret;
	}
	ret = metadata_set(o->md, "user-data", (const char *)data, len);
	free(data);
	if (ret < 0)
		log_error("--user-data %s: %s", path, strerror(-ret));
	return ret;
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, 'n' },
		{ "metadata", required_argument, NULL, 'M' },
		{ "user-data", required_argument, NULL, 'U' },
		{ "no-acpi", no_argument, NULL, 'A' },
		{ "console", required_argument, NULL, 'C' },
		{ "control", required_argument, NULL, 'S' },
		{ "stats-fd", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	unsigned int i;
	char *end;
	int c;

	*o = (struct run_opts){ .cmdline = RUN_DEFAULT_CMDLINE, .mem = RUN_DEFAULT_MEM, .vcpus = 1, .stats_fd = -1 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'A': o->no_acpi = true; break;
		case 'S': o->control = optarg; break;
		case 'C':
			if (strcmp(optarg, "serial") && strcmp(optarg, "virtio")) {
				log_error("--console %s: expected serial or virtio", optarg);
				return -EINVAL;
			}
			o->virtio_console = !strcmp(optarg, "virtio");
			break;
		case 'n':
			if (parse_net(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'M':
			if (parse_metadata(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'U':
			if (parse_user_data(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'd':
			if (parse_disk(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'm':
			if (size_parse(optarg, MIB, &o->mem) < 0 || o->mem < RUN_MIN_MEM || o->mem > RUN_MAX_MEM ||
			    o->mem % 4096) {
				log_error("--mem %s: expected a size from 32M to 1024G, e.g. 256M", optarg);
				return -EINVAL;
			}
			break;
		case 'v':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > RUN_MAX_VCPUS) {
				log_error("--vcpus %s: expected a number from 1 to %d", optarg, RUN_MAX_VCPUS);
				return -EINVAL;
			}
			o->vcpus = (unsigned int)n;
			break;
		case 'F':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 3 || n > INT_MAX) {
				log_error("--stats-fd %s: expected a descriptor number from 3 on", optarg);
				return -EINVAL;
			}
			o->stats_fd = (int)n;
			break;
		case ':':
			log_error("%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			log_error("unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->kernel) {
		log_error("--kernel is required");
		return -EINVAL;
	}
	if (o->virtio_console && !virtio_console_create) {
		log_error("--console virtio: this shrike is built without virtio-console (CONFIG_VIRTIO_CONSOLE)");
		return -EINVAL;
	}
	if (o->nr_nics && !virtio_net_create) {
		log_error("--net: this shrike is built without virtio-net (CONFIG_VIRTIO_NET)");
		return -EINVAL;
	}
	for (i = 0; i < o->nr_nics; i++)
		if (!o->nics[i].tap && !net_user_open) {
			log_error("--net user: this shrike is built without the user network (CONFIG_PACKAGE_LWIP)");
			return -EINVAL;
		}
	/* Every user NIC serves metadata; without --metadata or --user-data the store is empty. */
	for (i = 0; i < o->nr_nics; i++)
		if (!o->nics[i].tap) {
			if (metadata_store(o, "--net user") < 0)
				return -EINVAL;
			o->nics[i].user.md = o->md;
		}
	if (RUN_FIXED_DEVICES + o->nr_disks + o->nr_nics > VIRTIO_MMIO_MAX_DEVICES) {
		log_error("%u disks and %u NICs: at most %d in all (%d virtio devices, %d of them rng, balloon "
			  "and console)", o->nr_disks, o->nr_nics, VIRTIO_MMIO_MAX_DEVICES - RUN_FIXED_DEVICES,
			  VIRTIO_MMIO_MAX_DEVICES, RUN_FIXED_DEVICES);
		return -EINVAL;
	}
	if (o->nr_disks && !virtio_blk_create) {
		log_error("--disk: this shrike is built without virtio-blk (CONFIG_VIRTIO_BLK)");
		return -EINVAL;
	}
	if (strlen(o->cmdline) > RUN_MAX_CMDLINE) {
		log_error("--cmdline is longer than %d bytes", RUN_MAX_CMDLINE);
		return -EINVAL;
	}
	return 0;
}

/* Reads the whole of path into a new buffer; every failure is logged with what the file was for. */
static int read_file(const char *what, const char *path, uint8_t **buf, size_t *len)
{
	int ret = file_read(path, SIZE_MAX - 1, buf, len);

	if (ret == 0 && *len == 0) {
		free(*buf);
		*buf = NULL;
		ret = -EINVAL;
	}
	if (ret == -EINVAL)
		log_error("%s %s: not a regular, non-empty file", what, path);
	else if (ret == -EIO)
		log_error("%s %s: file shrank while reading", what, path);
	else if (ret < 0)
		log_error("%s %s: %s", what, path, strerror(-ret));
	return ret;
}

/*
 * Loads the initrd: where the bzImage's header allows (bz), or for a PVH kernel as high in low RAM as it goes,
 * above floor (the kernel's end). Sets *addr and *size.
 */
static int load_initrd(struct vm *vm, const struct bzimage *bz, uint64_t floor, const char *path, uint64_t *addr,
		       uint32_t *size)
{
	char err[160];
	uint8_t *data;
	size_t len;
	void *dst;
	int ret;

	ret = read_file("initrd", path, &data, &len);
	if (ret < 0)
		return ret;
	if (len > UINT32_MAX) {
		log_error("initrd %s: %zu bytes, more than the boot protocol's 4 GiB", path, len);
		ret = -EFBIG;
		goto out;
	}
	if (bz) {
		ret = bzimage_place_initrd(bz, vm->low_size, len, addr, err, sizeof(err));
	} else if (len > vm->low_size || ((vm->low_size - len) & ~0xfffULL) < floor) {
		snprintf(err, sizeof(err), "%zu bytes do not fit between the kernel's end 0x%" PRIx64 " and the end "
			 "of low RAM", len, floor);
		ret = -ENOMEM;
	} else {
		*addr = (vm->low_size - len) & ~0xfffULL;
	}
	if (ret < 0) {
		log_error("initrd %s: %s (--mem too small?)", path, err);
		goto out;
	}
	dst = vm_gpa_to_host(vm, *addr, len);
	if (!dst) {
		ret = -ENOMEM;
		log_error("initrd %s: does not fit in guest RAM", path);
		goto out;
	}
	memcpy(dst, data, len);
	*size = (uint32_t)len;
out:
	free(data);
	return ret;
}

/* How the boot vCPU starts: the bzImage's 64-bit entry with the zero page, or a PVH entry with its start info. */
struct boot_entry {
	bool pvh;
	uint64_t entry;
	uint64_t arg;		/* the zero page or the start info */
};

static int load_bzimage(struct vm *vm, const struct run_opts *o, const uint8_t *image, size_t len,
			const char *cmdline, struct boot_entry *be)
{
	struct boot_layout layout = { 0 };
	size_t cmdline_len = strlen(cmdline);
	struct bzimage bz;
	char err[160];
	uint8_t *dst;
	int ret;

	ret = bzimage_parse(image, len, cmdline_len, &bz, err, sizeof(err));
	if (ret < 0) {
		log_error("kernel %s: %s", o->kernel, err);
		return ret;
	}
	dst = vm_gpa_to_host(vm, BOOT_KERNEL_ADDR, bz.kernel_size);
	if (!dst || bz.kernel_end > vm->low_size) {
		log_error("kernel %s: needs RAM up to 0x%" PRIx64 ", more than --mem gives", o->kernel,
			  bz.kernel_end);
		return -ENOMEM;
	}
	memcpy(dst, image + bz.setup_size, bz.kernel_size);
	layout.low_ram = vm->low_size;
	layout.high_ram = vm->ram_size - vm->low_size;
	layout.cmdline_addr = CMDLINE_ADDR;
	layout.cmdline_len = (uint32_t)cmdline_len;
	if (o->initrd) {
		ret = load_initrd(vm, &bz, 0, o->initrd, &layout.initrd_addr, &layout.initrd_size);
		if (ret < 0)
			return ret;
	}
	bzimage_zero_page(vm_gpa_to_host(vm, ZERO_PAGE_ADDR, BOOT_ZERO_PAGE_SIZE), image, &bz, &layout);
	*be = (struct boot_entry){ .entry = BOOT_KERNEL_ADDR + BOOT_ENTRY_64_OFFSET, .arg = ZERO_PAGE_ADDR };
	return 0;
}

static int load_pvh(struct vm *vm, const struct run_opts *o, const uint8_t *image, size_t len,
		    struct boot_entry *be)
{
	struct pvh_layout layout = { 0 };
	struct pvh_image pi;
	uint32_t initrd_size = 0;
	char err[160];
	int ret;

	ret = pvh_parse(image, len, &pi, err, sizeof(err));
	if (ret == 0)
		ret = pvh_load(image, len, vm->ram, vm->low_size, err, sizeof(err));
	if (ret < 0) {
		log_error("kernel %s: %s", o->kernel, err);
		return ret;
	}
	layout.low_ram = vm->low_size;
	layout.high_ram = vm->ram_size - vm->low_size;
	layout.cmdline_addr = CMDLINE_ADDR;
	layout.rsdp_addr = o->no_acpi ? 0 : ACPI_TABLES_ADDR;
	if (o->initrd) {
		ret = load_initrd(vm, NULL, pi.kernel_end, o->initrd, &layout.initrd_addr, &initrd_size);
		if (ret < 0)
			return ret;
		layout.initrd_size = initrd_size;
	}
	pvh_start_info(vm_gpa_to_host(vm, ZERO_PAGE_ADDR, pvh_start_info_size()), ZERO_PAGE_ADDR, &layout);
	*be = (struct boot_entry){ .pvh = true, .entry = pi.entry, .arg = ZERO_PAGE_ADDR };
	return 0;
}

/*
 * Loads kernel (a bzImage, or an ELF vmlinux with a PVH note), initrd and command line (the user's plus the
 * devices'), the zero page or PVH start info, and the MP table into guest memory.
 */
static int load_guest(struct vm *vm, const struct run_opts *o, const char *cmdline, const struct kvm_cpuid2 *cpuid,
		      struct boot_entry *be)
{
	uint32_t signature = 0, features = 0;
	uint8_t *image;
	unsigned int i;
	size_t len;
	int ret;

	memcpy(vm_gpa_to_host(vm, CMDLINE_ADDR, strlen(cmdline) + 1), cmdline, strlen(cmdline) + 1);
	ret = read_file("kernel", o->kernel, &image, &len);
	if (ret < 0)
		return ret;
	if (pvh_is_elf(image, len))
		ret = load_pvh(vm, o, image, len, be);
	else
		ret = load_bzimage(vm, o, image, len, cmdline, be);
	free(image);
	if (ret < 0)
		return ret;
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1) {
			signature = cpuid->entries[i].eax;
			features = cpuid->entries[i].edx;
		}
	mptable_build(vm_gpa_to_host(vm, MPTABLE_ADDR, mptable_size(o->vcpus)), MPTABLE_ADDR, o->vcpus, signature,
		      features);
	return 0;
}

/* The ACPI tables describe the CPUs, COM1 and the virtio devices; see fw/acpi.h. */
static int load_acpi(struct vm *vm, unsigned int nr_vcpus, struct virtio_dev *const *devs, unsigned int nr)
{
	struct acpi_devices d = {
		.nr_vcpus = nr_vcpus,
		.ioapic_id = (uint8_t)nr_vcpus,		/* as in the MP table */
		.serial_port = SERIAL_COM1_PORT,
		.serial_irq = SERIAL_COM1_IRQ,
		.nr_virtio = nr,
	};
	uint8_t *area = vm_gpa_to_host(vm, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);
	unsigned int i;
	int ret;

	for (i = 0; i < nr && i < ACPI_MAX_VIRTIO; i++) {
		d.virtio[i].base = devs[i]->base;
		d.virtio[i].size = VIRTIO_MMIO_SIZE;
		d.virtio[i].irq = devs[i]->irq;
	}
	ret = area ? acpi_build(area, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &d) : -ENOMEM;
	if (ret < 0) {
		log_error("ACPI tables: %s", strerror(-ret));
		return ret;
	}
	return acpi_pm_create(vm);
}

/*
 * The virtio devices every guest gets, each announced on the command line. A device that Kconfig left out is a
 * NULL weak symbol (see virtio/rng.h), so this table needs no #ifdef.
 */
/* The devices run talks to after creating them; NULL when absent. */
struct run_devices {
	struct virtio_dev *balloon;
	struct virtio_dev *console;
};

static int create_virtio(struct vm *vm, struct evloop *loop, const struct run_opts *o, struct console_out *cout,
			 struct virtio_dev **devs, unsigned int *nr, struct run_devices *rd, char *cmdline,
			 size_t size)
{
	struct net_backend *be;
	unsigned int i;
	int ret;

	if (virtio_rng_create) {
		ret = virtio_rng_create(vm, *nr, &devs[*nr]);
		if (ret < 0)
			return ret;
		(*nr)++;
	}
	for (i = 0; i < o->nr_disks; i++) {
		ret = virtio_blk_create(vm, *nr, o->disks[i].path, o->disks[i].read_only, &devs[*nr]);
		if (ret < 0)
			return ret;
		(*nr)++;
	}
	for (i = 0; i < o->nr_nics; i++) {
		if (o->nics[i].tap)
			ret = net_tap_open(o->nics[i].tap, &be);
		else
			ret = net_user_open(&o->nics[i].user, loop, &be);
		if (ret < 0)
			return ret;
		ret = virtio_net_create(vm, *nr, loop, be, o->nics[i].mac, &devs[*nr]);
		if (ret < 0)
			return ret;
		(*nr)++;
	}
	if (virtio_balloon_create) {
		ret = virtio_balloon_create(vm, *nr, &devs[*nr]);
		if (ret < 0)
			return ret;
		rd->balloon = devs[(*nr)++];
	}
	if (o->virtio_console) {
		ret = virtio_console_create(vm, *nr, console_out_emit, cout, &devs[*nr]);
		if (ret < 0)
			return ret;
		rd->console = devs[(*nr)++];
	}
	/* With ACPI the DSDT describes them; a device announced twice would be probed twice. */
	for (i = 0; o->no_acpi && i < *nr; i++)
		if (virtio_mmio_cmdline(devs[i], cmdline, size) < 0) {
			log_error("--cmdline leaves no room to announce the virtio devices");
			return -ENOSPC;
		}
	return 0;
}

static const char *const exit_names[] = {
	[VM_RUNNING] = "still running",
	[VM_EXIT_POWEROFF] = "the guest powered off",
	[VM_EXIT_REBOOT] = "the guest rebooted",
	[VM_EXIT_CRASH] = "the guest crashed",
	[VM_EXIT_ERROR] = "VMM error",
	[VM_EXIT_SIGNAL] = "stopped by a signal",
};

static int vm_status(int reason)
{
	switch (reason) {
	case VM_EXIT_POWEROFF:
		return RUN_EXIT_POWEROFF;
	case VM_EXIT_REBOOT:
		return RUN_EXIT_REBOOT;
	case VM_EXIT_CRASH:
		return RUN_EXIT_CRASH;
	case VM_EXIT_SIGNAL:
		return RUN_EXIT_SIGNAL;
	default:
		return RUN_EXIT_ERROR;
	}
}

/* Waits for the guest to end or the host to ask us to stop, whichever comes first. */
static void wait_for_exit(struct vm *vm, int sig_fd)
{
	struct pollfd fds[2] = { { .fd = vm->exit_fd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN } };
	struct signalfd_siginfo si;

	while (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			vm_request_exit(vm, VM_EXIT_ERROR);
			return;
		}
		if (!(fds[1].revents & POLLIN) || read(sig_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGPWR) {
			log_info("SIGPWR received, pressing the guest's power button");
			acpi_pm_power_button(vm);
			continue;
		}
		log_info("%s received, stopping the guest", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		vm_request_exit(vm, VM_EXIT_SIGNAL);
	}
}

/*
 * On a terminal the guest gets every key as typed (Ctrl-C included) and echoes for itself; SIGTERM and SIGINT
 * from elsewhere still stop us. Output passes untouched: the guest's own tty already turned \n into \r\n. Only
 * in the foreground: a background job that changed the terminal would be stopped by SIGTTOU, and would fight the
 * shell over it. Returns the descriptor whose terminal changed, or -1.
 */
static int raw_terminal(struct termios *saved)
{
	struct termios t;
	pid_t fg;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved) < 0)
		return -1;
	/* A terminal that is nobody's controlling terminal (a console under init) has no foreground group. */
	fg = tcgetpgrp(STDIN_FILENO);
	if (fg >= 0 && fg != getpgrp())
		return -1;
	t = *saved;
	t.c_iflag &= (tcflag_t)~ICRNL;
	t.c_lflag &= (tcflag_t)~(ICANON | ECHO | ISIG);
	t.c_oflag &= (tcflag_t)~OPOST;
	return tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0 ? STDIN_FILENO : -1;
}

/* Everything one running guest is made of. guest_teardown() undoes guest_build() from wherever it stopped. */
struct guest {
	struct vm vm;
	bool vm_made;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;		/* created so far */
	unsigned int nr_started;
	struct evloop loop;
	bool loop_made;
	struct console_out cout;
	bool cout_made;
	struct console_in cin;
	bool cin_made;
	struct serial serial;
	bool serial_made;
	struct rtc rtc;
	struct boot_timer boot_timer;
	struct virtio_dev *virtio[VIRTIO_MMIO_MAX_DEVICES];
	unsigned int nr_virtio;
	struct run_devices devs;
	struct control_guest control_guest;
	struct control control;
	bool control_made;
	struct termios saved_tty;
	int tty_fd;			/* the terminal raw_terminal() changed, or -1 */
	char cmdline[RUN_MAX_CMDLINE + 1 + VIRTIO_MMIO_MAX_DEVICES * 64];
	struct boot_entry boot;
};

static int guest_build(struct guest *g, const struct run_opts *o)
{
	unsigned int i;
	int ret;

	ret = vm_create(&g->vm, o->mem);
	if (ret < 0)
		return ret;
	g->vm_made = true;
	g->cpuid = cpuid_supported(g->vm.kvm_fd);
	g->vcpus = calloc(o->vcpus, sizeof(*g->vcpus));
	if (!g->cpuid || !g->vcpus)
		return -ENOMEM;
	ret = evloop_init(&g->loop);
	if (ret < 0)
		return ret;
	g->loop_made = true;
	ret = console_out_init(&g->cout, STDOUT_FILENO);
	if (ret < 0)
		return ret;
	g->cout_made = true;
	snprintf(g->cmdline, sizeof(g->cmdline), "%s", o->cmdline);
	ret = create_virtio(&g->vm, &g->loop, o, &g->cout, g->virtio, &g->nr_virtio, &g->devs, g->cmdline,
			    sizeof(g->cmdline));
	if (ret < 0)
		return ret;
	/* Queue kicks and device I/O on the event thread: a vCPU never waits for a disk or a tap. */
	for (i = 0; i < g->nr_virtio; i++)
		virtio_mmio_use_eventfds(g->virtio[i], &g->loop);
	ret = load_guest(&g->vm, o, g->cmdline, g->cpuid, &g->boot);
	if (ret < 0)
		return ret;
	if (!o->no_acpi) {
		ret = load_acpi(&g->vm, o->vcpus, g->virtio, g->nr_virtio);
		if (ret < 0)
			return ret;
	}
	/* With --console virtio the UART still prints (early boot messages) but takes no input. */
	ret = serial_create(&g->serial, &g->vm, o->virtio_console ? -1 : STDIN_FILENO, console_out_emit, &g->cout);
	if (ret < 0)
		return ret;
	g->serial_made = true;
	if (g->devs.console) {
		ret = console_in_init(&g->cin, &g->loop, STDIN_FILENO, g->devs.console);
		if (ret < 0)
			return ret;
		g->cin_made = true;
	}
	ret = i8042_create(&g->vm);
	if (ret == 0)
		ret = absent_create(&g->vm);
	if (ret == 0)
		ret = rtc_create(&g->rtc, &g->vm);
	if (ret == 0)
		ret = boot_timer_create(&g->boot_timer, &g->vm, o->start_ns);
	if (ret < 0)
		return ret;
	for (g->nr_vcpus = 0; g->nr_vcpus < o->vcpus; g->nr_vcpus++) {
		ret = vcpu_create(&g->vcpus[g->nr_vcpus], &g->vm, g->nr_vcpus, o->vcpus, g->cpuid);
		if (ret < 0)
			return ret;
	}
	if (g->boot.pvh)
		ret = vcpu_setup_pvh(&g->vcpus[0], (uint32_t)g->boot.entry, (uint32_t)g->boot.arg);
	else
		ret = vcpu_setup_long_mode(&g->vcpus[0], g->boot.entry, g->boot.arg);
	if (ret < 0)
		return ret;
	if (o->control) {
		g->control_guest = (struct control_guest){ .vm = &g->vm, .vcpus = g->vcpus, .nr_vcpus = o->vcpus,
							   .balloon = g->devs.balloon };
		ret = control_open(&g->control, &g->loop, o->control, &g->control_guest);
		if (ret < 0)
			return ret;
		g->control_made = true;
	}
	return 0;
}

static int guest_start(struct guest *g)
{
	int ret;

	g->tty_fd = raw_terminal(&g->saved_tty);
	ret = console_out_start(&g->cout);
	if (ret == 0)
		ret = evloop_start(&g->loop);
	if (ret == 0)
		ret = serial_start(&g->serial);
	for (; ret == 0 && g->nr_started < g->nr_vcpus; g->nr_started++)
		ret = vcpu_start(&g->vcpus[g->nr_started]);
	return ret;
}

/* Stops the threads first, so that no vCPU, handler or writer touches what is freed after them. */
static void guest_teardown(struct guest *g)
{
	unsigned int i;

	if (!g->vm_made)
		return;
	vm_request_exit(&g->vm, VM_EXIT_ERROR);		/* a no-op if the guest already ended */
	for (i = 0; i < g->nr_vcpus; i++)
		vcpu_stop(&g->vcpus[i]);
	if (g->serial_made)
		serial_destroy(&g->serial);
	if (g->loop_made)
		evloop_stop(&g->loop);
	if (g->control_made)
		control_close(&g->control);
	if (g->cin_made)
		console_in_destroy(&g->cin);
	if (g->tty_fd >= 0)
		tcsetattr(g->tty_fd, TCSANOW, &g->saved_tty);
	for (i = 0; i < g->nr_vcpus; i++)
		vcpu_destroy(&g->vcpus[i]);
	for (i = 0; i < g->nr_virtio; i++) {
		virtio_mmio_close_eventfds(g->virtio[i]);
		g->virtio[i]->ops->destroy(g->virtio[i]);
	}
	if (g->cout_made)
		console_out_destroy(&g->cout);
	if (g->loop_made)
		evloop_destroy(&g->loop);
	free(g->vcpus);
	free(g->cpuid);
	vm_destroy(&g->vm);
}

static int run_vm(const struct run_opts *o, int sig_fd)
{
	struct guest *g = calloc(1, sizeof(*g));
	int ret, why;

	if (!g) {
		log_error("out of memory");
		return RUN_EXIT_ERROR;
	}
	g->tty_fd = -1;
	ret = guest_build(g, o);
	if (ret == 0) {
		ret = guest_start(g);
		if (ret < 0)
			vm_request_exit(&g->vm, VM_EXIT_ERROR);
		wait_for_exit(&g->vm, sig_fd);
		ret = 0;
	}
	why = g->vm_made ? atomic_load(&g->vm.exit_reason) : VM_EXIT_ERROR;
	guest_teardown(g);
	free(g);
	if (ret < 0)
		return RUN_EXIT_ERROR;
	log_info("%s (exit status %d)", exit_names[why], vm_status(why));
	return vm_status(why);
}

static void opts_release(struct run_opts *o)
{
	if (o->md)
		metadata_destroy(o->md);
	o->md = NULL;
}

int run_main(int argc, char **argv)
{
	struct timespec now;
	struct run_opts o;
	sigset_t stop, old;
	int sig_fd, status;

	log_set_role("run");
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (parse_opts(argc, argv, &o) < 0) {
		opts_release(&o);
		return RUN_EXIT_USAGE;
	}
	o.start_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	/* Before any device or vCPU takes its counter slot; the mapping outlives the descriptor. */
	if (o.stats_fd >= 0) {
		status = stats_attach(o.stats_fd);
		close(o.stats_fd);
		if (status < 0) {
			opts_release(&o);
			return RUN_EXIT_ERROR;
		}
	}
	/* Blocked before any thread starts, so only the signalfd sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGPWR);
	sigprocmask(SIG_BLOCK, &stop, &old);
	sig_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sig_fd < 0) {
		log_error("signalfd: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		opts_release(&o);
		return RUN_EXIT_ERROR;
	}
	status = run_vm(&o, sig_fd);
	close(sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	opts_release(&o);
	return status;
}
