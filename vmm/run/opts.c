#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"
#include "lib/log.h"
#include "lib/size.h"
#include "net/metadata.h"
#include "run/devices.h"
#include "run/opts.h"

#define MIB			(1024ULL * 1024)
#define RUN_DEFAULT_MEM		(256 * MIB)
#define RUN_DEFAULT_CMDLINE	"console=ttyS0"

/* PATH or PATH,ro; the path is optarg itself, cut at the comma. */
static int parse_disk(char *arg, struct run_opts *o)
{
	struct run_disk *d = &o->disks[o->nr_disks];
	char *comma = strrchr(arg, ',');

	if (o->nr_disks == GUEST_MAX_DISKS) {
		log_error("--disk %s: at most %d disks", arg, GUEST_MAX_DISKS);
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

/*
 * The default MAC: QEMU's locally administered prefix 52:54:00 and three bytes from the tap's name, so a guest
 * keeps its address (and its DHCP lease) across restarts.
 */
static void default_mac(const char *tap, unsigned int index, uint8_t mac[ADDR_MAC_LEN])
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
	const char *end;

	return addr_parse_ipv4(s, ip, &end) || *end ? -EINVAL : 0;
}

static int parse_mac(const char *s, uint8_t mac[ADDR_MAC_LEN])
{
	const char *why;

	return addr_parse_mac(s, mac, &why);
}

/* The options after "user": mac=, net=A.B.C.D/N, address=, forward=tcp:HOSTPORT:GUESTPORT (repeatable), loopback. */
static int parse_user_opt(const char *arg, char *opt, struct run_nic *nic, bool *mac_given)
{
	struct net_user_conf *u = &nic->user;
	const char *e;

	if (!strncmp(opt, "mac=", 4)) {
		if (parse_mac(opt + 4, nic->mac) < 0)
			goto bad;
		*mac_given = true;
	} else if (!strncmp(opt, "net=", 4)) {
		if (addr_parse_cidr(opt + 4, &u->net, &u->prefix, &e) || *e ||
		    u->prefix < GUEST_USER_NET_MIN_PREFIX || u->prefix > GUEST_USER_NET_MAX_PREFIX ||
		    (u->net & ~(uint32_t)(0xffffffffull << (32 - u->prefix)))) {
			log_error("--net %s: '%s' is not net=A.B.C.D/N, a network address with N from %d to %d", arg,
				  opt, GUEST_USER_NET_MIN_PREFIX, GUEST_USER_NET_MAX_PREFIX);
			return -EINVAL;
		}
	} else if (!strncmp(opt, "address=", 8)) {
		if (parse_ip(opt + 8, &u->guest_addr) < 0 || !u->guest_addr)
			goto bad;
	} else if (!strncmp(opt, "forward=", 8)) {
		if (u->nforwards == GUEST_MAX_FORWARDS) {
			log_error("--net %s: at most %d forwards", arg, GUEST_MAX_FORWARDS);
			return -EINVAL;
		}
		if (strncmp(opt + 8, "tcp:", 4) ||
		    addr_parse_port(opt + 12, &u->forwards[u->nforwards].host_port, &e) || *e != ':' ||
		    addr_parse_port(e + 1, &u->forwards[u->nforwards].guest_port, &e) || *e) {
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

	if (o->nr_nics == GUEST_MAX_NICS) {
		log_error("--net %s: at most %d NICs", arg, GUEST_MAX_NICS);
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
		memcpy(nic->user.guest_mac, nic->mac, ADDR_MAC_LEN);
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
		log_error("%s: this shrike is built without the user network (CONFIG_NET_USER)", opt);
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

/* The user data a guest reads at /latest/user-data. */
static int parse_user_data(const char *path, struct run_opts *o)
{
	uint8_t *data;
	size_t len;
	int ret = metadata_store(o, "--user-data");

	if (ret < 0)
		return ret;
	ret = file_read(path, GUEST_MAX_USER_DATA, &data, &len);
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

/* An option that needs a device the build may have left out: the device table says whether it is there. */
static int need_device(const char *option, const char *device, const char *symbol)
{
	if (run_device_find(device))
		return 0;
	log_error("%s: this shrike is built without %s (%s)", option, device, symbol);
	return -EINVAL;
}

/* What the options ask for together: devices that are built in, a metadata store for each user NIC. */
static int check_opts(struct run_opts *o)
{
	unsigned int i;

	if (!o->kernel) {
		log_error("--kernel is required");
		return -EINVAL;
	}
	if (o->virtio_console && need_device("--console virtio", "virtio-console", "CONFIG_VIRTIO_CONSOLE") < 0)
		return -EINVAL;
	if (o->nr_nics && need_device("--net", "virtio-net", "CONFIG_VIRTIO_NET") < 0)
		return -EINVAL;
	for (i = 0; i < o->nr_nics; i++)
		if (!o->nics[i].tap && !net_user_open) {
			log_error("--net user: this shrike is built without the user network (CONFIG_NET_USER)");
			return -EINVAL;
		}
	/* Every user NIC serves metadata; without --metadata or --user-data the store is empty. */
	for (i = 0; i < o->nr_nics; i++)
		if (!o->nics[i].tap) {
			if (metadata_store(o, "--net user") < 0)
				return -EINVAL;
			o->nics[i].user.md = o->md;
		}
	if (o->nr_disks && need_device("--disk", "virtio-blk", "CONFIG_VIRTIO_BLK") < 0)
		return -EINVAL;
	if (strlen(o->cmdline) > GUEST_MAX_CMDLINE) {
		log_error("--cmdline is longer than %d bytes", GUEST_MAX_CMDLINE);
		return -EINVAL;
	}
	return 0;
}

int run_opts_parse(int argc, char **argv, struct run_opts *o)
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
		{ "watchdog-action", required_argument, NULL, 'W' },
		{ "stats-fd", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
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
		case 'F':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 3 || n > INT_MAX) {
				log_error("--stats-fd %s: expected a descriptor number from 3 on", optarg);
				return -EINVAL;
			}
			o->stats_fd = (int)n;
			break;
		case 'W':
			if (need_device("--watchdog-action", "ib700", "CONFIG_HW_WATCHDOG") < 0 ||
			    ib700_parse_action(optarg, &o->watchdog) < 0)
				return -EINVAL;
			break;
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
			if (size_parse(optarg, MIB, &o->mem) < 0 || o->mem < GUEST_MIN_MEMORY ||
			    o->mem > GUEST_MAX_MEMORY || o->mem % 4096) {
				log_error("--mem %s: expected a size from %lluM to %lluG, e.g. 256M", optarg,
					  GUEST_MIN_MEMORY >> 20, GUEST_MAX_MEMORY >> 30);
				return -EINVAL;
			}
			break;
		case 'v':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > GUEST_MAX_VCPUS) {
				log_error("--vcpus %s: expected a number from 1 to %d", optarg, GUEST_MAX_VCPUS);
				return -EINVAL;
			}
			o->vcpus = (unsigned int)n;
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
	return check_opts(o);
}

void run_opts_release(struct run_opts *o)
{
	if (o->md)
		metadata_destroy(o->md);
	o->md = NULL;
}
