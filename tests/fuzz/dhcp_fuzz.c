/* fuzz-sources: vmm/net/dhcp.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/be.h"
#include "net/checksum.h"
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

/*
 * Any frame: the reply fits cap exactly (the buffer is heap-allocated to cap, so ASan sees a write past it), is
 * addressed to the guest with a correct IPv4 header checksum and consistent lengths, is refused when cap is one
 * byte short, and is itself not taken for a request.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(DHCP_REPLY_MAX), *again;
	size_t n;

	n = dhcp_server_input(&conf, data, size, out, DHCP_REPLY_MAX);
	if (n > DHCP_REPLY_MAX)
		__builtin_trap();
	if (n) {
		if (n < 14 + 20 + 8 + 300 || memcmp(out, conf.guest_mac, 6) || be_get16(out + 12) != 0x0800)
			__builtin_trap();
		if (be_get16(out + 14 + 2) != n - 14 || be_get16(out + 14 + 20 + 4) != n - 14 - 20)
			__builtin_trap();
		if (inet_checksum(out + 14, 20, 0))
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
