/* unit-sources: vmm/run/opts.c vmm/run/devices.c vmm/net/metadata.c vmm/lib/jsonstr.c vmm/lib/utf8.c vmm/virtio/mmio.c vmm/run/stats.c vmm/virtio/queue.c vmm/bus/iotrap.c vmm/kvm/vm.c vmm/lib/addr.c vmm/lib/size.c vmm/lib/file.c vmm/lib/evloop.c vmm/lib/log.c */
/*
 * `shrike run`'s option parser: every limit it shares with `shrike check` (config/limits.h) at N, which parses,
 * and N + 1, which is one logged line; tests/unit/config_test.c does the same on the config's side. The devices
 * the options need are stand-ins registered here, so the table says "built in" without any real device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run/devices.h"
#include "run/opts.h"

static int stand_in(struct run_device_env *env)
{
	(void)env;
	return 0;
}

RUN_DEVICE(test_blk, "virtio-blk", 20, stand_in);
RUN_DEVICE(test_net, "virtio-net", 30, stand_in);

/* The user network itself is not linked: parsing only asks whether it is built in. */
int net_user_open(const struct net_user_conf *c, struct evloop *loop, struct net_backend **out)
{
	(void)c;
	(void)loop;
	(void)out;
	return -ENOSYS;
}

static struct run_opts opts;
static char words[65536];
static char *argv[256];
static int argc, parse_ret;

static void do_parse(void)
{
	parse_ret = run_opts_parse(argc, argv, &opts);
}

/*
 * Parses "run --kernel k" and then line (words split at blanks). Returns the parser's result; err gets what it
 * logged, which must be one line on failure and nothing on success.
 */
static int parse(const char *line, char *err, size_t size)
{
	char *w;
	int lines;

	snprintf(words, sizeof(words), "run --kernel k %s", line);
	argc = 0;
	for (w = strtok(words, " "); w && argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	run_opts_release(&opts);
	lines = check_stderr(do_parse, err, size);
	if (lines != (parse_ret < 0 ? 1 : 0))
		return -1000 - lines;
	return parse_ret;
}

/* Appends n copies of fmt (with %u the copy's index) to buf. */
static void repeat(char *buf, size_t size, unsigned int n, const char *fmt)
{
	size_t len = strlen(buf);
	unsigned int i;

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, fmt, i, i);
}

#define CHECK_REFUSED(line, message)							\
	do {										\
		CHECK_INT(parse(line, err, sizeof(err)), -EINVAL);			\
		if (!strstr(err, message))						\
			return check_fail(__FILE__, __LINE__, "'%.80s': logged '%s', expected '%s'", line, err, \
					  message);					\
	} while (0)

static const char *test_scalars(void)
{
	char line[128], err[512];

	snprintf(line, sizeof(line), "--vcpus %d", GUEST_MAX_VCPUS);
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	CHECK_INT(opts.vcpus, GUEST_MAX_VCPUS);
	snprintf(line, sizeof(line), "--vcpus %d", GUEST_MAX_VCPUS + 1);
	CHECK_REFUSED(line, "expected a number from 1 to 64");
	CHECK_REFUSED("--vcpus 0", "expected a number from 1 to 64");
	snprintf(line, sizeof(line), "--mem %lluM", GUEST_MIN_MEMORY >> 20);
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	CHECK_INT(opts.mem, GUEST_MIN_MEMORY);
	snprintf(line, sizeof(line), "--mem %lluM", (GUEST_MIN_MEMORY >> 20) - 1);
	CHECK_REFUSED(line, "expected a size from 32M to 1024G");
	snprintf(line, sizeof(line), "--mem %lluG", GUEST_MAX_MEMORY >> 30);
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	CHECK_INT(opts.mem, GUEST_MAX_MEMORY);
	snprintf(line, sizeof(line), "--mem %lluG", (GUEST_MAX_MEMORY >> 30) + 1);
	CHECK_REFUSED(line, "expected a size from 32M to 1024G");
	return NULL;
}

static const char *test_cmdline(void)
{
	static char line[GUEST_MAX_CMDLINE + 32];
	char err[512];

	strcpy(line, "--cmdline ");
	memset(line + strlen(line), 'x', GUEST_MAX_CMDLINE);
	line[10 + GUEST_MAX_CMDLINE] = '\0';
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	CHECK_INT(strlen(opts.cmdline), GUEST_MAX_CMDLINE);
	strcat(line, "x");
	CHECK_REFUSED(line, "--cmdline is longer than 4096 bytes");
	return NULL;
}

static const char *test_disks_and_nics(void)
{
	static char line[4096];
	char err[512];

	line[0] = '\0';
	repeat(line, sizeof(line), GUEST_MAX_DISKS, "--disk d%u%.0u ");
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	CHECK_INT(opts.nr_disks, GUEST_MAX_DISKS);
	strcat(line, "--disk one-more");
	CHECK_REFUSED(line, "--disk one-more: at most 8 disks");
	line[0] = '\0';
	repeat(line, sizeof(line), GUEST_MAX_NICS, "--net tap=t%u%.0u ");
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	CHECK_INT(opts.nr_nics, GUEST_MAX_NICS);
	strcat(line, "--net tap=one-more");
	CHECK_REFUSED(line, "--net tap=one-more: at most 4 NICs");
	/* all of both at once fit the transport's slots */
	line[0] = '\0';
	repeat(line, sizeof(line), GUEST_MAX_DISKS, "--disk d%u%.0u ");
	repeat(line, sizeof(line), GUEST_MAX_NICS, "--net tap=t%u%.0u ");
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	return NULL;
}

static const char *test_user_nic(void)
{
	static char line[4096];
	char err[512];

	strcpy(line, "--net user");
	repeat(line, sizeof(line), GUEST_MAX_FORWARDS, ",forward=tcp:1%u:8%u");
	CHECK_INT(parse(line, err, sizeof(err)), 0);
	CHECK_INT(opts.nics[0].user.nforwards, GUEST_MAX_FORWARDS);
	CHECK_INT(opts.nics[0].user.forwards[15].host_port, 115);
	CHECK_INT(opts.nics[0].user.forwards[15].guest_port, 815);
	strcat(line, ",forward=tcp:99:99");
	CHECK_REFUSED(line, "at most 16 forwards");
	CHECK_INT(parse("--net user,net=10.0.0.0/8", err, sizeof(err)), 0);
	CHECK_INT(opts.nics[0].user.prefix, GUEST_USER_NET_MIN_PREFIX);
	CHECK_REFUSED("--net user,net=10.0.0.0/7", "a network address with N from 8 to 29");
	CHECK_INT(parse("--net user,net=10.0.2.8/29,address=10.0.2.9", err, sizeof(err)), 0);
	CHECK_INT(opts.nics[0].user.prefix, GUEST_USER_NET_MAX_PREFIX);
	CHECK_REFUSED("--net user,net=10.0.2.8/30", "a network address with N from 8 to 29");
	return NULL;
}

/* Addresses follow the config's rules (lib/addr.c): no leading zeros, no group or all-zero MAC. */
static const char *test_addresses(void)
{
	char err[512];

	CHECK_INT(parse("--net tap=t0,mac=52:54:00:AB:cd:01", err, sizeof(err)), 0);
	CHECK(!memcmp(opts.nics[0].mac, "\x52\x54\x00\xab\xcd\x01", 6));
	CHECK_REFUSED("--net tap=t0,mac=00:00:00:00:00:00", "'mac=00:00:00:00:00:00' is not mac=XX:XX:XX:XX:XX:XX");
	CHECK_REFUSED("--net tap=t0,mac=01:00:5e:00:00:01", "is not mac=XX:XX:XX:XX:XX:XX (a unicast address)");
	CHECK_REFUSED("--net tap=t0,mac=52:54:00:00:00:1", "is not mac=");
	CHECK_REFUSED("--net tap=t0,mac=52:54:00:00:00:001", "is not mac=");
	CHECK_REFUSED("--net user,mac=00:00:00:00:00:00", "bad value in 'mac=00:00:00:00:00:00'");
	CHECK_REFUSED("--net user,address=010.0.2.15", "bad value in 'address=010.0.2.15'");
	CHECK_REFUSED("--net user,net=10.0.2.0/024", "'net=10.0.2.0/024' is not net=A.B.C.D/N");
	CHECK_REFUSED("--net user,net=+10.0.2.0/24", "is not net=A.B.C.D/N");
	CHECK_REFUSED("--net user,forward=tcp:080:80", "'forward=tcp:080:80' is not forward=tcp:HOSTPORT:GUESTPORT");
	CHECK_REFUSED("--net user,forward=tcp:+80:80", "is not forward=tcp:HOSTPORT:GUESTPORT");
	CHECK_INT(parse("--net user,address=10.0.2.20,forward=tcp:8080:80", err, sizeof(err)), 0);
	CHECK_INT(opts.nics[0].user.guest_addr, 0x0a000214);
	return NULL;
}

/* A device the build left out is absent from the table, and its option says so. */
static const char *test_built_without(void)
{
	char err[512];

	CHECK_REFUSED("--console virtio",
		      "--console virtio: this shrike is built without virtio-console (CONFIG_VIRTIO_CONSOLE)");
	CHECK_INT(parse("--console serial --disk d --net tap=t", err, sizeof(err)), 0);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "run-opts-vcpus-and-memory", test_scalars },
		{ "run-opts-cmdline", test_cmdline },
		{ "run-opts-disks-and-nics", test_disks_and_nics },
		{ "run-opts-user-nic", test_user_nic },
		{ "run-opts-addresses", test_addresses },
		{ "run-opts-built-without", test_built_without },
	};
	int status = check_main(cases, sizeof(cases) / sizeof(cases[0]));

	run_opts_release(&opts);
	return status;
}
