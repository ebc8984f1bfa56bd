#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "init/hostnet.h"
#include "lib/log.h"

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

int hostnet_up(const struct config_host *h)
{
	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	struct in_addr in;
	int sock, ret;

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
		log_info("host network: %s: address = dhcp is not supported yet; the NIC stays down", h->mgmt_nic);
		ret = -EOPNOTSUPP;
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
