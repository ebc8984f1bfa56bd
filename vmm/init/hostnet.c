#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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

/* Bridges and taps, over rtnetlink: no `ip`, no libnl, so an image without busybox has them too. */

#define NL_BUF	1024

struct nl_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
};

/* Appends an attribute at the message's end; returns it, or NULL when it does not fit. */
static struct rtattr *nl_attr(void *buf, size_t size, unsigned short type, const void *data, size_t len)
{
	struct nlmsghdr *nh = buf;
	struct rtattr *rta;
	size_t at = NLMSG_ALIGN(nh->nlmsg_len);

	if (at + RTA_SPACE(len) > size)
		return NULL;
	rta = (struct rtattr *)((char *)buf + at);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
	return rta;
}

static int nl_begin(void *buf, size_t size, uint32_t seq, uint16_t flags)
{
	struct nl_req *r = buf;

	if (size < sizeof(*r))
		return -ENOSPC;
	memset(buf, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(r->ifi));
	r->nh.nlmsg_type = RTM_NEWLINK;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->nh.nlmsg_seq = seq;
	r->ifi.ifi_family = AF_UNSPEC;
	return 0;
}

int hostnet_msg_new_bridge(void *buf, size_t size, uint32_t seq, const char *name)
{
	struct nlmsghdr *nh = buf;
	struct rtattr *info;

	if (nl_begin(buf, size, seq, NLM_F_CREATE | NLM_F_EXCL) < 0 ||
	    !nl_attr(buf, size, IFLA_IFNAME, name, strlen(name) + 1))
		return -ENOSPC;
	info = nl_attr(buf, size, IFLA_LINKINFO, NULL, 0);
	if (!info || !nl_attr(buf, size, IFLA_INFO_KIND, "bridge", sizeof("bridge")))
		return -ENOSPC;
	/* The nest spans what was appended after its header. */
	info->rta_len = (unsigned short)((char *)buf + nh->nlmsg_len - (char *)info);
	return (int)nh->nlmsg_len;
}

int hostnet_msg_set_link(void *buf, size_t size, uint32_t seq, int ifindex, int master)
{
	struct nl_req *r = buf;
	uint32_t m = (uint32_t)master;

	if (nl_begin(buf, size, seq, 0) < 0)
		return -ENOSPC;
	r->ifi.ifi_index = ifindex;
	r->ifi.ifi_flags = IFF_UP;
	r->ifi.ifi_change = IFF_UP;
	if (master > 0 && !nl_attr(buf, size, IFLA_MASTER, &m, sizeof(m)))
		return -ENOSPC;
	return (int)r->nh.nlmsg_len;
}

/* Sends one request and waits for its acknowledgement. Returns 0 or the kernel's -errno. */
static int nl_talk(int fd, void *buf, int len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	const struct nlmsghdr *sent = buf;
	char reply[NL_BUF];
	struct nlmsghdr *nh;
	ssize_t n;

	if (sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)reply; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != sent->nlmsg_seq || nh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EBADMSG;
			return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		}
	}
}

static int nl_open(void)
{
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	/* The kernel answers at once; a missing answer must not hang PID 1. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static uint32_t nl_seq;

/* ifname up, and enslaved to master when master > 0. */
static int link_set(int fd, const char *ifname, int master)
{
	char buf[NL_BUF];
	int ifindex = (int)if_nametoindex(ifname), len;

	if (!ifindex)
		return -errno;
	len = hostnet_msg_set_link(buf, sizeof(buf), ++nl_seq, ifindex, master);
	return len < 0 ? len : nl_talk(fd, buf, len);
}

/* A port's driver may still be probing, as for the management NIC. */
static int wait_for(const char *ifname)
{
	struct timespec pause = { 0, NIC_POLL_MS * 1000000L };
	unsigned int waited = 0;

	while (!if_nametoindex(ifname)) {
		if (errno != ENODEV && errno != ENXIO)
			return -errno;
		if (waited >= NIC_WAIT_MS)
			return -ENODEV;
		nanosleep(&pause, NULL);
		waited += NIC_POLL_MS;
	}
	return 0;
}

int hostnet_bridges_up(const struct config *cfg)
{
	char buf[NL_BUF], ports[CONFIG_MAX_PORTS * (CONFIG_IFNAME_MAX + 1) + 1];
	unsigned int i, j;
	size_t plen;
	int fd, len, ret, first = 0, master;

	if (!cfg->nbridges)
		return 0;
	fd = nl_open();
	if (fd < 0) {
		log_error("host network: netlink socket: %s; no bridges", strerror(-fd));
		return fd;
	}
	for (i = 0; i < cfg->nbridges; i++) {
		const struct config_bridge *b = &cfg->bridges[i];

		len = hostnet_msg_new_bridge(buf, sizeof(buf), ++nl_seq, b->name);
		ret = len < 0 ? len : nl_talk(fd, buf, len);
		if (ret == -EEXIST)
			ret = 0;	/* made by an earlier PID 1 or by hand: use it as it is */
		if (!ret)
			ret = link_set(fd, b->name, 0);
		if (ret < 0) {
			log_error("host network: bridge %s: %s", b->name,
				  ret == -EOPNOTSUPP ? "the kernel has no bridge support (CONFIG_BRIDGE)" : strerror(-ret));
			first = first ? first : ret;
			continue;
		}
		master = (int)if_nametoindex(b->name);
		ports[0] = '\0';
		for (j = 0, plen = 0; j < b->nports; j++) {
			ret = wait_for(b->ports[j]);
			if (!ret)
				ret = link_set(fd, b->ports[j], master);
			if (ret < 0) {
				log_error("host network: bridge %s: port %s: %s", b->name, b->ports[j],
					  ret == -ENODEV ? "no such interface" : strerror(-ret));
				first = first ? first : ret;
			} else if (plen < sizeof(ports)) {
				plen += (size_t)snprintf(ports + plen, sizeof(ports) - plen, " %s", b->ports[j]);
			}
		}
		log_info("host network: bridge %s up%s%s", b->name, ports[0] ? ", ports:" : " without ports", ports);
	}
	close(fd);
	return first;
}

int hostnet_tap_attach(const char *tap, const char *bridge)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int tun, fd, master, ret;

	master = (int)if_nametoindex(bridge);
	if (!master) {
		log_error("host network: tap %s: bridge %s: %s", tap, bridge,
			  errno == ENODEV || errno == ENXIO ? "no such bridge (a bridge added by a new config needs a "
			  "reboot)" : strerror(errno));
		return -ENODEV;
	}
	tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun < 0) {
		ret = -errno;
		log_error("host network: tap %s: /dev/net/tun: %s", tap, strerror(-ret));
		return ret;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	/* Persistent: it outlives this descriptor, and the VMM opens it by name with what it needs. */
	if (ioctl(tun, TUNSETIFF, &ifr) < 0 || ioctl(tun, TUNSETPERSIST, 1) < 0) {
		ret = -errno;
		close(tun);
		log_error("host network: tap %s: %s", tap, strerror(-ret));
		return ret;
	}
	close(tun);
	fd = nl_open();
	if (fd < 0) {
		log_error("host network: tap %s: netlink socket: %s", tap, strerror(-fd));
		return fd;
	}
	ret = link_set(fd, tap, master);
	close(fd);
	if (ret < 0)
		log_error("host network: tap %s: attaching it to bridge %s: %s", tap, bridge, strerror(-ret));
	return ret;
}
