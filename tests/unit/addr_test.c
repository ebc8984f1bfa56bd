/* unit-sources: vmm/lib/addr.c */
/* The address parser shrike.conf and `shrike run --net` share: what it takes, where it stops, what it refuses. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "lib/addr.h"

static const char *test_ipv4(void)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1.2.3.00", "+1.2.3.4", " 1.2.3.4",
		"1..3.4", "1.2.3.4294967297", "a.b.c.d", "1.2.3.-4",
	};
	const char *end;
	uint32_t a = 7;
	unsigned int i;

	CHECK_INT(addr_parse_ipv4("10.0.2.15", &a, &end), 0);
	CHECK_INT(a, 0x0a00020f);
	CHECK_INT(*end, '\0');
	CHECK_INT(addr_parse_ipv4("0.0.0.0:8443", &a, &end), 0);
	CHECK_INT(a, 0);
	CHECK_STR(end, ":8443");
	CHECK_INT(addr_parse_ipv4("255.255.255.255", &a, &end), 0);
	CHECK_INT(a, 0xffffffff);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = 7;
		if (addr_parse_ipv4(bad[i], &a, &end) != -EINVAL || a != 7)
			return check_fail(__FILE__, __LINE__, "'%s' was taken", bad[i]);
	}
	return NULL;
}

static const char *test_cidr(void)
{
	static const char *const bad[] = { "10.0.2.0", "10.0.2.0/", "10.0.2.0/33", "10.0.2.0/024", "10.0.2.0/+8",
					   "10.0.2.0/ 8", "/24" };
	unsigned int prefix = 7, i;
	const char *end;
	uint32_t a = 7;

	CHECK_INT(addr_parse_cidr("192.168.1.10/24", &a, &prefix, &end), 0);
	CHECK_INT(a, 0xc0a8010a);
	CHECK_INT(prefix, 24);
	CHECK_INT(addr_parse_cidr("0.0.0.0/0,x", &a, &prefix, &end), 0);
	CHECK_INT(prefix, 0);
	CHECK_STR(end, ",x");
	CHECK_INT(addr_parse_cidr("1.2.3.4/32", &a, &prefix, &end), 0);
	CHECK_INT(prefix, 32);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		prefix = 7;
		if (addr_parse_cidr(bad[i], &a, &prefix, &end) != -EINVAL || prefix != 7)
			return check_fail(__FILE__, __LINE__, "'%s' was taken", bad[i]);
	}
	return NULL;
}

static const char *test_port(void)
{
	static const char *const bad[] = { "0", "65536", "080", "+80", "-1", "", ":80", "99999999999999999999" };
	const char *end;
	uint16_t port = 7;
	unsigned int i;

	CHECK_INT(addr_parse_port("1", &port, &end), 0);
	CHECK_INT(port, 1);
	CHECK_INT(addr_parse_port("65535:22", &port, &end), 0);
	CHECK_INT(port, 65535);
	CHECK_STR(end, ":22");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = 7;
		if (addr_parse_port(bad[i], &port, &end) != -EINVAL || port != 7)
			return check_fail(__FILE__, __LINE__, "'%s' was taken", bad[i]);
	}
	return NULL;
}

static const char *test_mac(void)
{
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "52:54:00:12:34", "is not six hex bytes such as 52:54:00:12:34:56" },
		{ "52:54:00:12:34:567", "is not six hex bytes" },
		{ "52:54:00:12:34:5", "is not six hex bytes" },
		{ "52:54:0:12:34:56", "is not six hex bytes" },
		{ "52-54-00-12-34-56", "is not six hex bytes" },
		{ " 52:54:00:12:34:56", "is not six hex bytes" },
		{ "52:54:00:12:34:5g", "is not six hex bytes" },
		{ "", "is not six hex bytes" },
		{ "01:00:5e:00:00:01", "is a multicast address" },
		{ "ff:ff:ff:ff:ff:ff", "is a multicast address" },
		{ "00:00:00:00:00:00", "is all zeros" },
	};
	uint8_t mac[ADDR_MAC_LEN] = { 7 };
	const char *why = NULL;
	unsigned int i;

	CHECK_INT(addr_parse_mac("52:54:00:Ab:cD:ef", mac, &why), 0);
	CHECK(!memcmp(mac, "\x52\x54\x00\xab\xcd\xef", 6));
	CHECK_INT(addr_parse_mac("02:00:00:00:00:00", mac, &why), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(mac, 7, sizeof(mac));
		why = NULL;
		if (addr_parse_mac(bad[i].s, mac, &why) != -EINVAL || !why ||
		    strncmp(why, bad[i].why, strlen(bad[i].why)) || mac[0] != 7)
			return check_fail(__FILE__, __LINE__, "'%s': %s", bad[i].s, why ? why : "taken");
	}
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "addr-ipv4", test_ipv4 },
		{ "addr-cidr", test_cidr },
		{ "addr-port", test_port },
		{ "addr-mac", test_mac },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}
