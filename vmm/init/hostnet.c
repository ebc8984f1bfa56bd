#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "init/hostnet.h"
#include "lib/log.h"

/* On the initramfs: /run and /tmp are tmpfs mounted noexec, where udhcpc could not run it. */
#define DHCP_SCRIPT_DIR	"/etc/shrike"
#define DHCP_SCRIPT	DHCP_SCRIPT_DIR "/udhcpc.script"
#define BUSYBOX		"/bin/busybox"

/* udhcpc's lease events; $mask is the prefix length in busybox's udhcpc. */
static const char dhcp_script[] =
	"#!/bin/sh\n"
	"# Written by shrike (PID 1) for udhcpc: applies the lease to the management NIC.\n"
	"PATH=/bin:/sbin:/usr/bin:/usr/sbin\n"
	"case \"$1\" in\n"
	"deconfig) ip addr flush dev \"$interface\"; ip link set \"$interface\" up ;;\n"
	"bound|renew)\n"
	"\tip addr flush dev \"$interface\"\n"
	"\tip addr add \"$ip/${mask:-24}\" dev \"$interface\"\n"
	"\tgw=${router%% *}\n"
	"\t[ -n \"$gw\" ] && ip route replace default via \"$gw\" dev \"$interface\"\n"
	"\techo \"shrike: host network: $interface $ip/${mask:-24}${gw:+ via $gw} (DHCP)\" ;;\n"
	"esac\n";

/* A NIC's driver may still be probing when PID 1 gets here. */
#define NIC_WAIT_MS	3000
#define NIC_POLL_MS	100

static void set_in(struct sockaddr *sa, uint32_t host_order)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(host_order) };

	memcpy(sa, &in, sizeof(in));
}

static int link_up(int sock, const char *name)
{
	struct timespec pause = { 0, NIC_POLL_MS * 1000000L };
	struct ifreq ifr = { 0 };
	unsigned int waited = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	while (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
		if (errno != ENODEV || waited >= NIC_WAIT_MS)
			return -errno;
		nanosleep(&pause, NULL);
		waited += NIC_POLL_MS;
	}
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static int set_address(int sock, const struct config_host *h)
{
	struct ifreq ifr = { 0 };
	uint32_t mask = h->prefix ? ~0u << (32 - h->prefix) : 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", h->mgmt_nic);
	set_in(&ifr.ifr_addr, h->address);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		return -errno;
	set_in(&ifr.ifr_netmask, mask);
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
		return -errno;
	return 0;
}

static int add_default_route(int sock, uint32_t gateway)
{
	struct rtentry rt = { 0 };

	set_in(&rt.rt_dst, 0);
	set_in(&rt.rt_genmask, 0);
	set_in(&rt.rt_gateway, gateway);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	return ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST ? -errno : 0;
}

static int write_script(void)
{
	size_t len = sizeof(dhcp_script) - 1;
	int fd, ret = 0;

	if (mkdir(DHCP_SCRIPT_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(DHCP_SCRIPT, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0700);
	if (fd < 0)
		return -errno;
	if (write(fd, dhcp_script, len) != (ssize_t)len)
		ret = -EIO;
	close(fd);
	return ret;
}

pid_t hostnet_dhcp_start(const struct config_host *h)
{
	char hostname[CONFIG_HOSTNAME_MAX + 16], nic[CONFIG_IFNAME_MAX + 1];
	/* The DHCP server learns the name, so the box shows up under it in the network's lease list. */
	char *const argv[] = { "udhcpc", "-f", "-i", nic, "-s", DHCP_SCRIPT, "-x", hostname, NULL };
	sigset_t none;
	pid_t pid;
	int null;

	snprintf(hostname, sizeof(hostname), "hostname:%s", h->hostname);
	snprintf(nic, sizeof(nic), "%s", h->mgmt_nic);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid)
		return pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	null = open("/dev/null", O_RDONLY);
	if (null > 0) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	execv(BUSYBOX, argv);
	log_error("host network: exec %s udhcpc: %s", BUSYBOX, strerror(errno));
	_exit(127);
}

static int dhcp_up(int sock, const struct config_host *h, pid_t *dhcp_pid)
{
	pid_t pid;
	int ret;

	if (access(BUSYBOX, X_OK) < 0) {
		log_info("host network: %s: address = dhcp needs busybox's udhcpc, which this image lacks; the NIC "
			 "stays down", h->mgmt_nic);
		return -EOPNOTSUPP;
	}
	ret = link_up(sock, h->mgmt_nic);
	if (!ret)
		ret = write_script();
	if (ret < 0) {
		log_error("host network: %s: %s", h->mgmt_nic, strerror(-ret));
		return ret;
	}
	pid = hostnet_dhcp_start(h);
	if (pid < 0) {
		log_error("host network: fork udhcpc: %s", strerror(-pid));
		return pid;
	}
	*dhcp_pid = pid;
	log_info("host network: %s: DHCP (udhcpc, pid %d)", h->mgmt_nic, (int)pid);
	return 0;
}

int hostnet_up(const struct config_host *h, pid_t *dhcp_pid)
{
	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	struct in_addr in;
	int sock, ret;

	*dhcp_pid = 0;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		ret = -errno;
		log_error("host network: socket: %s", strerror(-ret));
		return ret;
	}
	ret = link_up(sock, "lo");
	if (ret < 0)
		log_error("host network: lo: %s", strerror(-ret));
	if (h->dhcp) {
		ret = dhcp_up(sock, h, dhcp_pid);
		goto out;
	}
	in.s_addr = htonl(h->address);
	inet_ntop(AF_INET, &in, addr, sizeof(addr));
	ret = link_up(sock, h->mgmt_nic);
	if (!ret)
		ret = set_address(sock, h);
	if (!ret && h->gateway_set)
		ret = add_default_route(sock, h->gateway);
	if (ret < 0) {
		log_error("host network: %s %s/%u: %s", h->mgmt_nic, addr, h->prefix, strerror(-ret));
		goto out;
	}
	in.s_addr = htonl(h->gateway);
	inet_ntop(AF_INET, &in, gw, sizeof(gw));
	log_info("host network: %s %s/%u%s%s", h->mgmt_nic, addr, h->prefix, h->gateway_set ? " via " : "",
		 h->gateway_set ? gw : "");
out:
	close(sock);
	return ret;
}
