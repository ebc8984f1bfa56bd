/* unit-sources: vmm/init/hostnet.c vmm/lib/log.c */
/*
 * The rtnetlink requests PID 1 sends for bridges and taps, checked byte by byte the way the kernel reads them.
 * Sending them needs root and a kernel with bridges: only the image test shows that.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "check.h"
#include "init/hostnet.h"

static union {
	struct nlmsghdr nh;
	char bytes[1024];
} buf;

static const char *test_new_bridge(void)
{
	const struct ifinfomsg *ifi;
	const struct rtattr *rta, *nested;
	int len, left, nleft, seen = 0;

	len = hostnet_msg_new_bridge(buf.bytes, sizeof(buf), 7, "br0");
	CHECK(len > 0);
	CHECK_INT(buf.nh.nlmsg_len, len);
	CHECK_INT(buf.nh.nlmsg_type, RTM_NEWLINK);
	CHECK_INT(buf.nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	CHECK_INT(buf.nh.nlmsg_seq, 7);
	ifi = NLMSG_DATA(&buf.nh);
	CHECK_INT(ifi->ifi_family, AF_UNSPEC);
	CHECK_INT(ifi->ifi_index, 0);
	left = (int)buf.nh.nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
		if (rta->rta_type == IFLA_IFNAME) {
			CHECK_INT(RTA_PAYLOAD(rta), 4);
			CHECK_STR((const char *)RTA_DATA(rta), "br0");
			seen |= 1;
		} else if (rta->rta_type == IFLA_LINKINFO) {
			nleft = (int)RTA_PAYLOAD(rta);
			nested = RTA_DATA(rta);
			CHECK(RTA_OK(nested, nleft));
			CHECK_INT(nested->rta_type, IFLA_INFO_KIND);
			CHECK_STR((const char *)RTA_DATA(nested), "bridge");
			nested = RTA_NEXT(nested, nleft);
			CHECK_INT(nleft, 0);	/* the nest ends with its kind */
			seen |= 2;
		} else {
			return check_fail(__FILE__, __LINE__, "unexpected attribute %u", rta->rta_type);
		}
	}
	CHECK_INT(left, 0);
	CHECK_INT(seen, 3);
	/* The longest interface name needs 68 bytes: header 32, name 20, nest 4, kind 12. One less is refused. */
	CHECK_INT(hostnet_msg_new_bridge(buf.bytes, 68, 1, "abcdefghijklmno"), 68);
	CHECK_INT(hostnet_msg_new_bridge(buf.bytes, 67, 1, "abcdefghijklmno"), -ENOSPC);
	CHECK_INT(hostnet_msg_new_bridge(buf.bytes, 8, 1, "b"), -ENOSPC);
	return NULL;
}

static const char *test_set_link(void)
{
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	int len, left;

	len = hostnet_msg_set_link(buf.bytes, sizeof(buf), 9, 4, 12);
	CHECK(len > 0);
	CHECK_INT(buf.nh.nlmsg_type, RTM_NEWLINK);
	CHECK_INT(buf.nh.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ifi = NLMSG_DATA(&buf.nh);
	CHECK_INT(ifi->ifi_index, 4);
	CHECK_INT(ifi->ifi_flags, IFF_UP);
	CHECK_INT(ifi->ifi_change, IFF_UP);
	left = (int)buf.nh.nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	rta = IFLA_RTA(ifi);
	CHECK(RTA_OK(rta, left));
	CHECK_INT(rta->rta_type, IFLA_MASTER);
	CHECK_INT(RTA_PAYLOAD(rta), 4);
	CHECK_INT(*(const unsigned int *)RTA_DATA(rta), 12);
	rta = RTA_NEXT(rta, left);
	CHECK_INT(left, 0);

	/* Only up: no master attribute at all (0 would mean "leave the bridge"). */
	len = hostnet_msg_set_link(buf.bytes, sizeof(buf), 10, 4, 0);
	CHECK_INT(len, NLMSG_LENGTH(sizeof(struct ifinfomsg)));
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "hostnet-new-bridge", test_new_bridge },
		{ "hostnet-set-link", test_set_link },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
