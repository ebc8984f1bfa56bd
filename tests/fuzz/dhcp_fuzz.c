/* fuzz-sources: vmm/net/dhcp.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seeds are frames from this guest to this server, so the fuzzer starts past the address checks. */
static const struct dhcp_server_conf conf = {
	.server_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	.guest_mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	.server_ip = 0x0a000202,
	.guest_ip = 0x0a00020f,
	.netmask = 0xffffff00,
	.router = 0x0a000202,
	.dns = 0x0a000203,
	.lease_seconds = 86400,
	.hostname = "web",
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Any frame: the reply fits cap exactly (the buffer is heap-allocated to cap, so ASan sees a write past it), is
 * addressed to the guest with a correct IPv4 header checksum and consistent lengths, is refused when cap is one
 * byte short, and is itself not taken for a request.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(DHCP_REPLY_MAX), *again;
	uint32_t sum = 0;
	size_t n, i;

	n = dhcp_server_input(&conf, data, size, out, DHCP_REPLY_MAX);
	if (n > DHCP_REPLY_MAX)
		__builtin_trap();
	if (n) {
		if (n < 14 + 20 + 8 + 300 || memcmp(out, conf.guest_mac, 6) || get16(out + 12) != 0x0800)
			__builtin_trap();
		if (get16(out + 14 + 2) != n - 14 || get16(out + 14 + 20 + 4) != n - 14 - 20)
			__builtin_trap();
		for (i = 0; i < 20; i += 2)
			sum += get16(out + 14 + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		if (sum != 0xffff)
			__builtin_trap();
		again = malloc(n - 1);
		if (dhcp_server_input(&conf, data, size, again, n - 1))
			__builtin_trap();
		free(again);
		if (dhcp_server_input(&conf, out, n, out, n))
			__builtin_trap();
	}
	free(out);
	return 0;
}
