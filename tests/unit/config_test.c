/* unit-sources: vmm/config/config.c vmm/config/values.c vmm/config/validate.c vmm/config/change.c vmm/config/filename.c vmm/lib/sha256.c vmm/lib/addr.c */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"

static struct config cfg;
static struct config_errors errs;

static int load(const char *text, uint64_t host_memory)
{
	memset(&errs, 0, sizeof(errs));
	return config_load("t.conf", text, strlen(text), host_memory, &cfg, &errs);
}

/* True if some error is exactly "t.conf:LINE: " followed by text containing needle. */
static int has_error(unsigned int line, const char *needle)
{
	char prefix[32];
	unsigned int i;

	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	for (i = 0; i < errs.count; i++)
		if (!strncmp(errs.msg[i], prefix, strlen(prefix)) && strstr(errs.msg[i] + strlen(prefix), needle))
			return 1;
	return 0;
}

static const char *first_error(void)
{
	return errs.count ? errs.msg[0] : "(none)";
}

#define CHECK_ERROR(line, needle)							\
	do {										\
		if (!has_error(line, needle))						\
			return check_fail(__FILE__, __LINE__, "no error %u: '%s'; %u errors, first: %s", \
					  (unsigned int)(line), needle, errs.count, first_error()); \
	} while (0)

static const char *test_defaults(void)
{
	const struct config_guest *g;

	CHECK_INT(load("[guest web]\nkernel = k\n", 0), 0);
	CHECK_INT(errs.count, 0);
	CHECK_STR(cfg.host.hostname, "shrike");
	CHECK_STR(cfg.host.mgmt_nic, "eth0");
	CHECK(cfg.host.dhcp);
	CHECK_INT(cfg.host.log_level, CONFIG_LOG_INFO);
	CHECK(!cfg.host.rescue_shell);
	CHECK_INT(cfg.mgmt.listen_addr, 0);
	CHECK_INT(cfg.mgmt.listen_port, 8443);
	CHECK_INT(cfg.nguests, 1);
	g = &cfg.guests[0];
	CHECK_STR(g->name, "web");
	CHECK_INT(g->line, 1);
	CHECK_INT(g->vcpus, 1);
	CHECK_INT(g->memory, 256 << 20);
	CHECK_STR(g->initrd, "");
	CHECK_STR(g->cmdline, "");
	CHECK_INT(g->console, CONFIG_CONSOLE_SERIAL);
	CHECK(!g->autostart);
	CHECK_INT(g->restart, CONFIG_RESTART_ON_FAILURE);
	CHECK_INT(g->watchdog, CONFIG_WATCHDOG_RESET);
	CHECK_INT(g->restart_limit_count, 5);
	CHECK_INT(g->restart_limit_seconds, 600);
	CHECK_INT(g->shutdown_timeout, 30);
	return NULL;
}

static const char full[] =
	"# a comment\n"
	"[host]\n"
	"hostname = edge-7\n"
	"mgmt-nic = enp1s0\n"
	"address = 192.168.1.10/24\n"
	"gateway = 192.168.1.1\n"
	"dns = 1.1.1.1 9.9.9.9\n"
	"log-level = debug\n"
	"rescue-shell = yes\n"
	"\n"
	"[bridge br0]\n"
	"ports = eth1 eth2\n"
	"[mgmt]\n"
	"listen = 127.0.0.1:9443\n"
	"cert = server.crt\n"
	"key = server.key\n"
	"client-ca = client-ca.crt\n"
	"[guest db]\r\n"
	"  kernel = guests/bzImage  \n"
	"\tmemory = 1G\n"
	"vcpus = 4\n"
	"disk = data:db.img\n"
	"disk = label:db-cache,ro\n"
	"nic = bridge:br0,mac=52:54:00:AB:cd:01\n"
	"nic = user,net=10.0.3.0/24\n"
	"forward = tcp:8080:80\n"
	"forward = tcp:2222:22\n"
	"console = virtio\n"
	"autostart = yes\n"
	"restart = always\n"
	"restart-limit = 3/1h\n"
	"shutdown-timeout = 2m\n"
	"user-data = db.yaml\n"
	"watchdog = none\n"
	"cmdline = console=hvc0 root=/dev/vda # not a comment\n"
	"[guest web]\n"
	"kernel = guests/bzImage\n"
	"after = db";	/* no newline at the end */

static const char *test_full(void)
{
	const struct config_guest *g;

	CHECK_INT(load(full, 0), 0);
	CHECK_STR(cfg.host.hostname, "edge-7");
	CHECK_STR(cfg.host.mgmt_nic, "enp1s0");
	CHECK(!cfg.host.dhcp);
	CHECK_INT(cfg.host.address, 0xc0a8010a);
	CHECK_INT(cfg.host.prefix, 24);
	CHECK_INT(cfg.host.gateway, 0xc0a80101);
	CHECK_INT(cfg.host.ndns, 2);
	CHECK_INT(cfg.host.dns[1], 0x09090909);
	CHECK_INT(cfg.host.log_level, CONFIG_LOG_DEBUG);
	CHECK(cfg.host.rescue_shell);
	CHECK_INT(cfg.nbridges, 1);
	CHECK_INT(cfg.bridges[0].nports, 2);
	CHECK_STR(cfg.bridges[0].ports[1], "eth2");
	CHECK_INT(cfg.mgmt.listen_addr, 0x7f000001);
	CHECK_INT(cfg.mgmt.listen_port, 9443);
	CHECK_STR(cfg.mgmt.client_ca, "client-ca.crt");
	g = &cfg.guests[0];
	CHECK_STR(g->kernel, "guests/bzImage");
	CHECK_INT(g->memory, 1ULL << 30);
	CHECK_INT(g->vcpus, 4);
	CHECK_INT(g->ndisks, 2);
	CHECK_INT(g->disks[0].kind, CONFIG_DISK_DATA);
	CHECK(!g->disks[0].ro);
	CHECK_INT(g->disks[1].kind, CONFIG_DISK_LABEL);
	CHECK_STR(g->disks[1].path, "db-cache");
	CHECK(g->disks[1].ro);
	CHECK_INT(g->nnics, 2);
	CHECK(g->nics[0].mac_given);
	CHECK_INT(g->nics[0].mac[3], 0xab);
	CHECK_INT(g->nics[1].kind, CONFIG_NIC_USER);
	CHECK_INT(g->nics[1].net, 0x0a000300);
	CHECK_INT(g->nforwards, 2);
	CHECK_INT(g->forwards[1].host_port, 2222);
	CHECK_INT(g->forwards[1].guest_port, 22);
	CHECK_INT(g->console, CONFIG_CONSOLE_VIRTIO);
	CHECK_INT(g->watchdog, CONFIG_WATCHDOG_NONE);
	CHECK(g->autostart);
	CHECK_INT(g->restart, CONFIG_RESTART_ALWAYS);
	CHECK_INT(g->restart_limit_count, 3);
	CHECK_INT(g->restart_limit_seconds, 3600);
	CHECK_INT(g->shutdown_timeout, 120);
	CHECK_STR(g->user_data, "db.yaml");
	CHECK_STR(g->cmdline, "console=hvc0 root=/dev/vda # not a comment");
	CHECK_INT(cfg.guests[1].nafter, 1);
	CHECK_INT(cfg.guests[1].after[0], 0);
	return NULL;
}

static const char *test_syntax_errors(void)
{
	CHECK(load("x = 1\n"
		   "[host]\n"
		   "frob = 1\n"
		   "hostname = a\n"
		   "hostname = b\n"
		   "just words\n"
		   "[guest]\n"
		   "[bridge br0\n"
		   "[host]\n"
		   "[nonsense x]\n"
		   "= 3\n"
		   "[guest g]\n"
		   "kernel = k\n"
		   "memory =\n"
		   "memory = 12\n", 0) < 0);
	CHECK_ERROR(1, "'x' outside any section");
	CHECK_ERROR(3, "unknown key 'frob' in [host]");
	CHECK_ERROR(5, "hostname is set twice in this section, first at line 4");
	CHECK_ERROR(6, "expected 'key = value' or a [section]");
	CHECK_ERROR(7, "guest name '' must be 1 to 31 characters");
	CHECK_ERROR(8, "without a closing ']'");
	CHECK_ERROR(9, "[host] appears twice, first at line 2");
	CHECK_ERROR(10, "unknown section [nonsense]");
	CHECK_ERROR(11, "'=' without a key");
	CHECK_ERROR(14, "memory: empty value");
	CHECK_ERROR(15, "memory is set twice");
	return NULL;
}

/*
 * Every limit a guest shares with `shrike run` (config/limits.h) at N, which loads, and N + 1, which is refused;
 * tests/unit/run_opts_test.c does the same on run's side.
 */
static const char *test_guest_limits(void)
{
	static char text[8192];
	size_t len;
	unsigned int i;

	len = (size_t)snprintf(text, sizeof(text), "[guest g]\nkernel = k\nvcpus = %d\nmemory = %lluG\n",
			       GUEST_MAX_VCPUS, GUEST_MAX_MEMORY >> 30);
	for (i = 0; i < GUEST_MAX_DISKS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "disk = data:d%u\n", i);
	/* the smallest and the largest user networks, and two more between */
	len += (size_t)snprintf(text + len, sizeof(text) - len, "nic = user,net=10.0.0.0/%d\n"
				"nic = user,net=192.168.0.0/%d,address=192.168.0.1\n", GUEST_USER_NET_MIN_PREFIX,
				GUEST_USER_NET_MAX_PREFIX);
	for (i = 2; i < GUEST_MAX_NICS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "nic = user,net=172.16.%u.0/24\n", i);
	for (i = 0; i < GUEST_MAX_FORWARDS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "forward = tcp:%u:80\n", 8000 + i);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "[guest h]\nkernel = k\nmemory = %lluM\n",
				GUEST_MIN_MEMORY >> 20);
	CHECK_INT(load(text, 0), 0);
	CHECK_INT(cfg.guests[0].vcpus, GUEST_MAX_VCPUS);
	CHECK_INT(cfg.guests[0].memory, GUEST_MAX_MEMORY);
	CHECK_INT(cfg.guests[0].ndisks, GUEST_MAX_DISKS);
	CHECK_INT(cfg.guests[0].nnics, GUEST_MAX_NICS);
	CHECK_INT(cfg.guests[0].nforwards, GUEST_MAX_FORWARDS);
	CHECK_INT(cfg.guests[1].memory, GUEST_MIN_MEMORY);
	/* one more forward; the other limits are N + 1 in test_limits() and test_value_errors() */
	len += (size_t)snprintf(text + len, sizeof(text) - len, "[guest i]\nkernel = k\nnic = user\n");
	for (i = 0; i <= GUEST_MAX_FORWARDS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "forward = tcp:%u:80\n", 9000 + i);
	CHECK(load(text, 0) < 0);
	CHECK_INT(errs.count, 1);
	CHECK(strstr(first_error(), "more than 16 forwards"));
	return NULL;
}

static const char *test_value_errors(void)
{
	static const struct {
		const char *line;
		const char *message;
	} cases[] = {
		{ "memory = 256", "'256' needs a unit: K, M, G or T, e.g. 256M" },
		{ "memory = 16M", "is not between 32M and 1024G" },
		{ "memory = 2T", "is not between 32M and 1024G" },
		{ "memory = 1025G", "is not between 32M and 1024G" },
		{ "memory = 31M", "is not between 32M and 1024G" },
		{ "memory = 33000K", "not a whole number of MiB" },
		{ "memory = 99999999999999999999G", "is not a size" },
		{ "memory = 18014398509481984T", "too large" },
		{ "memory = -1M", "is not a size" },
		{ "vcpus = 65", "not a number from 1 to 64" },
		{ "vcpus = 01", "not a number" },
		{ "initrd = /boot/x", "no leading '/'" },
		{ "initrd = a/../b", "'..' component" },
		{ "initrd = a//b", "empty, '.' or '..' component" },
		{ "initrd = a b", "without blanks" },
		{ "disk = nfs:x", "neither data:PATH nor label:NAME" },
		{ "disk = data:x,rw", "unknown or repeated option 'rw'" },
		{ "disk = data:x,ro,ro", "unknown or repeated option 'ro'" },
		{ "disk = data:x,", "unknown or repeated option ''" },
		{ "disk = label:a/b", "without blanks or '/'" },
		{ "nic = tap", "neither bridge:NAME nor user" },
		{ "nic = user,mac=52:54:00:00:00", "not six hex bytes" },
		{ "nic = user,mac=53:54:00:00:00:01", "multicast" },
		{ "nic = user,mac=00:00:00:00:00:00", "all zeros" },
		{ "nic = user,net=10.0.2.1/24", "host bits set" },
		{ "nic = user,net=10.0.2.0/31", "prefix length must be from 8 to 29" },
		{ "nic = user,net=10.0.2.0/30", "prefix length must be from 8 to 29" },
		{ "nic = user,net=10.0.0.0/7", "prefix length must be from 8 to 29" },
		{ "nic = user,net=010.0.2.0/24", "is not an IPv4 address with a prefix length" },
		{ "nic = user,net=10.0.2.0/024", "is not an IPv4 address with a prefix length" },
		{ "nic = user,mac=52:54:00:00:00:001", "not six hex bytes" },
		{ "nic = user,mac= 52:54:00:00:00:01", "not six hex bytes" },
		{ "nic = bridge:br0,net=10.0.2.0/24", "unknown or repeated option 'net=" },
		{ "nic = bridge:br0,address=10.0.2.9", "unknown or repeated option 'address=" },
		{ "nic = user,address=10.0.2", "address '10.0.2' is not an IPv4 address" },
		{ "nic = user,address=10.0.2.9,address=10.0.2.8", "unknown or repeated option 'address=" },
		{ "nic = user,address=10.0.3.9", "address 10.0.3.9 is not inside net 10.0.2.0/24" },
		{ "nic = user,address=10.0.2.0", "the network address of net 10.0.2.0/24" },
		{ "nic = user,address=10.0.2.255", "the broadcast address" },
		{ "nic = user,address=10.0.2.2", "the gateway (.2) address" },
		{ "nic = user,address=10.0.3.3,net=10.0.3.0/24", "the DNS (.3) address" },
		{ "nic = user,net=10.0.3.0/29", "address 10.0.3.15 is not inside net 10.0.3.0/29 (the default" },
		{ "nic = user,net=10.0.3.0/28", "the broadcast address of net 10.0.3.0/28" },
		{ "forward = udp:53:53", "not tcp:HOSTPORT:GUESTPORT" },
		{ "forward = tcp:0:80", "not tcp:HOSTPORT:GUESTPORT" },
		{ "forward = tcp:65536:80", "not tcp:HOSTPORT:GUESTPORT" },
		{ "forward = tcp:080:80", "not tcp:HOSTPORT:GUESTPORT" },
		{ "console = vga", "neither serial nor virtio" },
		{ "watchdog = reboot", "not one of reset, poweroff, none" },
		{ "autostart = true", "neither yes nor no" },
		{ "after = a a", "a is listed twice" },
		{ "after = bad/name", "may only contain" },
		{ "restart = sometimes", "not one of no, on-failure, always" },
		{ "restart-limit = 0/10m", "COUNT from 1 to 1000" },
		{ "restart-limit = 5/10", "needs a unit: s, m or h" },
		{ "restart-limit = 5/2d", "not a duration" },
		{ "shutdown-timeout = 2h", "not between 1s and 3600s" },
		{ "user-data = ../x", "not a file name of the config partition" },
		{ "user-data = .hidden", "not a file name" },
		{ "hostname = x", "unknown key 'hostname' in [guest]" },
	};
	char text[512];
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[guest g]\nkernel = k\n%s\n", cases[i].line);
		if (load(text, 0) == 0)
			return check_fail(__FILE__, __LINE__, "'%s' was accepted", cases[i].line);
		if (!has_error(3, cases[i].message))
			return check_fail(__FILE__, __LINE__, "'%s': expected '%s', got %s", cases[i].line,
					  cases[i].message, first_error());
	}
	return NULL;
}

static const char *test_host_mgmt_errors(void)
{
	CHECK(load("[host]\n"
		   "hostname = a_b\n"
		   "address = 10.0.0.1\n"
		   "gateway = 10.0.0.256\n"
		   "dns = 1.1.1.1 1.0.0.1 8.8.8.8 8.8.4.4\n"
		   "log-level = trace\n"
		   "mgmt-nic = this-is-far-too-long0\n"
		   "[mgmt]\n"
		   "listen = 0.0.0.0\n"
		   "cert = a.crt\n", 0) < 0);
	CHECK_ERROR(2, "not a host name");
	CHECK_ERROR(3, "neither dhcp nor an address with a prefix length");
	CHECK_ERROR(4, "not an IPv4 address");
	CHECK_ERROR(5, "more than 3 servers");
	CHECK_ERROR(6, "not one of error, warn, info, debug");
	CHECK_ERROR(7, "must be 1 to 15 characters");
	CHECK_ERROR(8, "cert, key and client-ca are given all three or none (missing: key client-ca)");
	CHECK_ERROR(9, "not ADDRESS:PORT");
	CHECK(load("[host]\ngateway = 10.0.0.1\n", 0) < 0);
	CHECK_ERROR(2, "only with a static address");
	CHECK(load("[host]\naddress = 10.0.0.5/24\ngateway = 10.0.1.1\n", 0) < 0);
	CHECK_ERROR(3, "not another address in the subnet");
	return NULL;
}

static const char *test_line_level(void)
{
	char *text;
	int ret;

	CHECK(load("[guest g]\nkernel = k\ncmdline = a\001b\n", 0) < 0);
	CHECK_ERROR(3, "control character 0x01");
	memset(&errs, 0, sizeof(errs));
	CHECK(config_load("t.conf", "[guest g]\nkernel = k\n\0\n", 23, 0, &cfg, &errs) < 0);
	CHECK_ERROR(3, "NUL byte");
	text = malloc(2100);
	CHECK(text);
	memcpy(text, "[guest g]\nkernel = k\ncmdline = ", 31);
	memset(text + 31, 'x', 2000);
	strcpy(text + 2031, "\n");
	ret = load(text, 0);
	free(text);
	CHECK(ret < 0);
	CHECK_ERROR(3, "line longer than 1023 bytes");
	/* a cmdline of exactly 1023 bytes fits, with or without \r\n */
	text = malloc(1100);
	CHECK(text);
	strcpy(text, "[guest g]\nkernel = k\ncmdline=");
	memset(text + 29, 'y', 1023 - 8);
	strcpy(text + 29 + 1015, "\r\n");
	ret = load(text, 0);
	free(text);
	CHECK_INT(ret, 0);
	CHECK_INT(strlen(cfg.guests[0].cmdline), 1015);
	return NULL;
}

static const char *test_missing_kernel(void)
{
	CHECK(load("[guest a]\nmemory = 64M\n[guest b]\nkernel = k\n[guest c]\n", 0) < 0);
	CHECK_ERROR(1, "guest a: no kernel");
	CHECK_ERROR(5, "guest c: no kernel");
	CHECK_INT(errs.count, 2);
	return NULL;
}

static const char *test_limits(void)
{
	char text[8192];
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < CONFIG_MAX_GUESTS + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "[guest g%u]\nkernel = k\n", i);
	CHECK(load(text, 0) < 0);
	CHECK_ERROR(2 * CONFIG_MAX_GUESTS + 1, "more than 32 guests");
	CHECK_INT(cfg.nguests, CONFIG_MAX_GUESTS);
	len = (size_t)snprintf(text, sizeof(text), "[guest g]\nkernel = k\n");
	for (i = 0; i < GUEST_MAX_DISKS + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "disk = data:d%u\n", i);
	CHECK(load(text, 0) < 0);
	CHECK_ERROR(3 + GUEST_MAX_DISKS, "more than 8 disks");
	len = (size_t)snprintf(text, sizeof(text), "[guest g]\nkernel = k\n");
	for (i = 0; i < GUEST_MAX_NICS + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "nic = user\n");
	CHECK(load(text, 0) < 0);
	CHECK_ERROR(3 + GUEST_MAX_NICS, "more than 4 NICs");
	len = 0;
	for (i = 0; i < CONFIG_MAX_BRIDGES + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "[bridge b%u]\n", i);
	CHECK(load(text, 0) < 0);
	CHECK_ERROR(CONFIG_MAX_BRIDGES + 1, "more than 8 bridges");
	CHECK(load("[bridge b]\nports = a b c d e f g h i\n", 0) < 0);
	CHECK_ERROR(2, "more than 8 ports");
	return NULL;
}

static const char *test_error_cap(void)
{
	char text[4096];
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < 80; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "bad line %u\n", i);
	CHECK(load(text, 0) < 0);
	CHECK_INT(errs.count, CONFIG_MAX_ERRORS + 1);
	CHECK_STR(errs.msg[CONFIG_MAX_ERRORS], "t.conf: too many errors");
	CHECK(has_error(50, "expected 'key = value'"));
	return NULL;
}

static const char *test_cross_references(void)
{
	CHECK(load("[bridge br0]\nports = eth1\n"
		   "[bridge br1]\nports = eth2 eth1\n"
		   "[bridge br0]\n"
		   "[guest a]\nkernel = k\nnic = bridge:br9\nforward = tcp:80:80\nafter = nobody a\n"
		   "[guest a]\nkernel = k\n", 0) < 0);
	CHECK_ERROR(4, "ports: eth1 is already a port of bridge br0 (line 2)");
	CHECK_ERROR(5, "bridge br0 is defined twice, first at line 1");
	CHECK_ERROR(8, "nic: no [bridge br9] in this file");
	CHECK_ERROR(9, "forward: guest a has no user NIC");
	CHECK_ERROR(10, "after: no guest named nobody");
	CHECK_ERROR(10, "after: guest a names itself");
	CHECK_ERROR(11, "guest a is defined twice, first at line 6");
	return NULL;
}

static const char *test_forwards_and_macs(void)
{
	CHECK(load("[mgmt]\nlisten = 0.0.0.0:8443\n"
		   "[guest a]\nkernel = k\nnic = user,mac=52:54:00:00:00:01\nforward = tcp:80:80\nforward = tcp:8443:1\n"
		   "[guest b]\nkernel = k\nnic = user,mac=52:54:00:00:00:01\nforward = tcp:80:8080\n", 0) < 0);
	CHECK_ERROR(7, "host port 8443 is the management port");
	CHECK_ERROR(10, "nic: MAC 52:54:00:00:00:01 is also the MAC of a NIC of guest a (line 5)");
	CHECK_ERROR(11, "forward: host port 80 is already forwarded to guest a (line 6)");
	CHECK_INT(errs.count, 3);
	/* generated MACs: stable, locally different, 52:54:00 */
	CHECK_INT(load("[guest a]\nkernel = k\nnic = user\nnic = user,net=10.0.3.0/24\n[guest b]\nkernel = k\nnic = user\n",
		       0), 0);
	CHECK(!cfg.guests[0].nics[0].mac_given);
	CHECK(!memcmp(cfg.guests[0].nics[0].mac, "\x52\x54\x00", 3));
	CHECK(memcmp(cfg.guests[0].nics[0].mac, cfg.guests[0].nics[1].mac, 6));
	CHECK(memcmp(cfg.guests[0].nics[0].mac, cfg.guests[1].nics[0].mac, 6));
	/* sha256("a/0") starts with d7 e9 89; a hand-set MAC equal to a generated one collides */
	CHECK_INT(cfg.guests[0].nics[0].mac[3], 0xd7);
	CHECK_INT(cfg.guests[0].nics[0].mac[4], 0xe9);
	CHECK_INT(cfg.guests[0].nics[0].mac[5], 0x89);
	CHECK(load("[guest a]\nkernel = k\nnic = user\n[guest b]\nkernel = k\nnic = user,mac=52:54:00:d7:e9:89\n", 0) < 0);
	CHECK_ERROR(6, "is also the MAC of a NIC of guest a (line 3); set mac= by hand");
	/* one VMM serves a guest's user NICs, and tells them apart by network: two may not overlap */
	CHECK(load("[guest a]\nkernel = k\nnic = user\nnic = bridge:br0\nnic = user,net=10.0.0.0/16\n"
		   "nic = user,net=10.1.0.0/16\n[bridge br0]\n", 0) < 0);
	CHECK_ERROR(5, "nic: user network 10.0.0.0/16 overlaps the one of line 3; give each user NIC its own net=");
	CHECK_INT(errs.count, 1);
	return NULL;
}

static const char *test_cycles_and_order(void)
{
	unsigned int order[CONFIG_MAX_GUESTS];

	CHECK(load("[guest a]\nkernel = k\nafter = c\n"
		   "[guest b]\nkernel = k\nafter = a\n"
		   "[guest c]\nkernel = k\nafter = b\n", 0) < 0);
	CHECK_ERROR(6, "after: dependency cycle a -> c -> b -> a");
	CHECK_INT(errs.count, 1);
	/* d first (no deps), then file order where free: b needs c, c needs d, a free */
	CHECK_INT(load("[guest a]\nkernel = k\n"
		       "[guest b]\nkernel = k\nafter = c a\n"
		       "[guest c]\nkernel = k\nafter = d\n"
		       "[guest d]\nkernel = k\n", 0), 0);
	CHECK_INT(config_start_order(&cfg, order), 4);
	CHECK_INT(order[0], 0);
	CHECK_INT(order[1], 3);
	CHECK_INT(order[2], 2);
	CHECK_INT(order[3], 1);
	return NULL;
}

static const char *test_memory_budget(void)
{
	static const char text[] = "[guest a]\nkernel = k\nmemory = 1G\nautostart = yes\n"
				   "[guest b]\nkernel = k\nmemory = 4G\n"
				   "[guest c]\nkernel = k\nmemory = 1G\nautostart = yes\n";

	CHECK_INT(load(text, 2ULL << 30), 0);
	CHECK_INT(load(text, 0), 0);
	CHECK(load(text, (2ULL << 30) - 1) < 0);
	CHECK_ERROR(8, "guest c: the autostart guests up to here need 2048 MiB");
	return NULL;
}

static const char *test_file_refs(void)
{
	struct config_file_ref refs[CONFIG_MAX_FILE_REFS];

	CHECK_INT(load(full, 0), 0);
	CHECK_INT(config_file_refs(&cfg, refs), 4);
	CHECK_STR(refs[0].name, "server.crt");
	CHECK_INT(refs[0].line, 15);
	CHECK_STR(refs[3].name, "db.yaml");
	CHECK_INT(refs[3].line, 33);
	return NULL;
}

/* Two loads of a text, for comparing guests and hosts. */
static struct config cfg2;

static int load2(const char *a, const char *b)
{
	memset(&errs, 0, sizeof(errs));
	if (config_load("t.conf", a, strlen(a), 0, &cfg, &errs))
		return -1;
	return config_load("t.conf", b, strlen(b), 0, &cfg2, &errs);
}

static const char *test_guest_diff(void)
{
	static const char base[] = "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\n[guest b]\nkernel = k\n";
	static const struct {
		const char *text;
		enum config_guest_diff diff;
	} cases[] = {
		/* only lines move: the same */
		{ "# a comment\n\n[guest a]\n  kernel=k\nnic = user\n\nforward = tcp:80:80\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_SAME },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\nautostart = yes\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_POLICY },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\nshutdown-timeout = 5s\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_POLICY },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\nafter = b\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_POLICY },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\nrestart = no\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_POLICY },
		{ "[guest a]\nkernel = k2\nnic = user\nforward = tcp:80:80\n[guest b]\nkernel = k\n", CONFIG_GUEST_CHANGED },
		{ "[guest a]\nkernel = k\nmemory = 128M\nnic = user\nforward = tcp:80:80\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_CHANGED },
		{ "[guest a]\nkernel = k\nnic = user,address=10.0.2.15\nforward = tcp:80:80\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_CHANGED },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:81\n[guest b]\nkernel = k\n", CONFIG_GUEST_CHANGED },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\ncmdline = x\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_CHANGED },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\nuser-data = u\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_CHANGED },
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\ndisk = data:x\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_CHANGED },
		/* the VMM takes it as an option */
		{ "[guest a]\nkernel = k\nnic = user\nforward = tcp:80:80\nwatchdog = none\n[guest b]\nkernel = k\n",
		  CONFIG_GUEST_CHANGED },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(load2(base, cases[i].text), 0);
		if (config_guest_diff(&cfg.guests[0], &cfg2.guests[0]) != cases[i].diff)
			return check_fail(__FILE__, __LINE__, "case %u: diff %d, expected %d", i,
					  config_guest_diff(&cfg.guests[0], &cfg2.guests[0]), cases[i].diff);
		CHECK_INT(config_guest_diff(&cfg.guests[1], &cfg2.guests[1]), CONFIG_GUEST_SAME);
		CHECK(config_host_equal(&cfg, &cfg2));
	}
	/* A rename changes the derived MACs too. */
	CHECK_INT(load2("[guest a]\nkernel = k\n", "[guest b]\nkernel = k\n"), 0);
	CHECK_INT(config_guest_diff(&cfg.guests[0], &cfg2.guests[0]), CONFIG_GUEST_CHANGED);

	CHECK_INT(load2("[host]\nhostname = x\n", "[host]\nhostname = y\n"), 0);
	CHECK(!config_host_equal(&cfg, &cfg2));
	CHECK_INT(load2("[bridge b]\nports = eth1\n", "[bridge b]\nports = eth2\n"), 0);
	CHECK(!config_host_equal(&cfg, &cfg2));
	CHECK_INT(load2("[mgmt]\nlisten = 0.0.0.0:1\n", "[mgmt]\nlisten = 0.0.0.0:2\n"), 0);
	CHECK(!config_host_equal(&cfg, &cfg2));
	CHECK_INT(load2("[host]\nhostname = x\n", "\n\n[host]\nhostname = x\n"), 0);
	CHECK(config_host_equal(&cfg, &cfg2));
	return NULL;
}

/* autostart set in the text: the line rewritten or inserted; every other byte kept. */
static const char *test_set_autostart(void)
{
	static const struct {
		const char *in;
		unsigned int guest;
		bool on;
		const char *out;
	} cases[] = {
		{ "# top\n[guest a]\nkernel = k\n\tautostart   =  no\n# keep = me\n[guest b]\nkernel = k\nautostart = no\n", 0,
		  true,
		  "# top\n[guest a]\nkernel = k\n\tautostart = yes\n# keep = me\n[guest b]\nkernel = k\nautostart = no\n" },
		{ "[guest a]\nkernel = k\n[guest b]\nkernel = k\nautostart = no\n", 0, true,
		  "[guest a]\nautostart = yes\nkernel = k\n[guest b]\nkernel = k\nautostart = no\n" },
		{ "[guest a]\nkernel = k\n[guest b]\nkernel = k\nautostart = no\n", 1, true,
		  "[guest a]\nkernel = k\n[guest b]\nkernel = k\nautostart = yes\n" },
		/* the last line without its end */
		{ "[guest a]\nkernel = k\nautostart = yes", 0, false, "[guest a]\nkernel = k\nautostart = no" },
		{ "[guest a]\r\nkernel = k\r\n", 0, true, "[guest a]\r\nautostart = yes\r\nkernel = k\r\n" },
		{ "[guest a]\r\nkernel = k\r\nautostart = no\r\n# x\r\n", 0, true,
		  "[guest a]\r\nkernel = k\r\nautostart = yes\r\n# x\r\n" },
		/* a key that merely starts like it, and a comment that mentions it, are not the line */
		{ "[guest a]\n# autostart = no\nkernel = k\nautostarts = no\n", 0, true,
		  "[guest a]\nautostart = yes\n# autostart = no\nkernel = k\nautostarts = no\n" },
	};
	unsigned int i;
	size_t len;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&errs, 0, sizeof(errs));
		config_parse("t.conf", cases[i].in, strlen(cases[i].in), &cfg, &errs);
		CHECK_INT(config_set_autostart(cases[i].in, strlen(cases[i].in), &cfg, cases[i].guest, cases[i].on,
					       &out, &len), 0);
		if (len != strlen(cases[i].out) || memcmp(out, cases[i].out, len)) {
			const char *fail = check_fail(__FILE__, __LINE__, "case %u: got '%.*s'", i, (int)len, out);

			free(out);
			return fail;
		}
		/* and the result is what was asked for */
		memset(&errs, 0, sizeof(errs));
		config_parse("t.conf", out, len, &cfg2, &errs);
		free(out);
		CHECK_INT(cfg2.guests[cases[i].guest].autostart, cases[i].on);
	}
	memset(&errs, 0, sizeof(errs));
	config_parse("t.conf", "[guest a]\nkernel = k\n", 21, &cfg, &errs);
	CHECK_INT(config_set_autostart("[guest a]\nkernel = k\n", 21, &cfg, 1, true, &out, &len), -ENOENT);
	return NULL;
}

/* address= of a user NIC: given, before or after net=, or .15 of net by default. */
static const char *test_user_address(void)
{
	CHECK_INT(load("[guest a]\nkernel = k\nnic = user\nnic = user,address=10.1.0.200,net=10.1.0.0/16\n"
		       "nic = user,net=192.168.7.0/24,address=192.168.7.1\nnic = bridge:b\n[bridge b]\n", 0), 0);
	CHECK_INT(cfg.guests[0].nics[0].address, 0x0a00020f);
	CHECK(!cfg.guests[0].nics[0].address_given);
	CHECK_INT(cfg.guests[0].nics[1].address, 0x0a0100c8);
	CHECK(cfg.guests[0].nics[1].address_given);
	CHECK_INT(cfg.guests[0].nics[2].address, 0xc0a80701);
	CHECK_INT(cfg.guests[0].nics[3].address, 0);
	/* a /28 works with an address of its own */
	CHECK_INT(load("[guest a]\nkernel = k\nnic = user,net=10.0.3.16/28,address=10.0.3.20\n", 0), 0);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "config-defaults", test_defaults },
		{ "config-full", test_full },
		{ "config-syntax-errors", test_syntax_errors },
		{ "config-value-errors", test_value_errors },
		{ "config-host-mgmt-errors", test_host_mgmt_errors },
		{ "config-line-level", test_line_level },
		{ "config-missing-kernel", test_missing_kernel },
		{ "config-limits", test_limits },
		{ "config-guest-limits", test_guest_limits },
		{ "config-error-cap", test_error_cap },
		{ "config-cross-references", test_cross_references },
		{ "config-forwards-and-macs", test_forwards_and_macs },
		{ "config-cycles-and-order", test_cycles_and_order },
		{ "config-memory-budget", test_memory_budget },
		{ "config-file-refs", test_file_refs },
		{ "config-user-address", test_user_address },
		{ "config-guest-diff", test_guest_diff },
		{ "config-set-autostart", test_set_autostart },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
