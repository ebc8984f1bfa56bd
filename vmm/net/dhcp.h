#ifndef SHRIKE_NET_DHCP_H
#define SHRIKE_NET_DHCP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The DHCP server of the user network: one guest, one lease, always the configured address. It works on whole
 * Ethernet frames so the user backend can ask it first and hand every frame it declines to lwIP; it keeps no
 * state, since there is nothing to remember about a lease that can only ever be guest_ip.
 *
 * All IPv4 values are in host byte order. A zero router or dns leaves that option out; an empty hostname leaves
 * option 12 out.
 */
struct dhcp_server_conf {
	uint8_t server_mac[6];
	uint8_t guest_mac[6];
	uint32_t server_ip, guest_ip, netmask, router, dns;
	uint32_t lease_seconds;
	char hostname[64];		/* NUL-terminated, or all 64 bytes used */
};

/* The longest reply dhcp_server_input() writes: a cap of this much never makes it drop a reply. */
#define DHCP_REPLY_MAX 400

/*
 * frame: one Ethernet frame from the guest. If it is a DHCPDISCOVER, DHCPREQUEST or DHCPINFORM (IPv4/UDP to port
 * 67, from guest_mac), writes the whole Ethernet reply frame (DHCPOFFER, DHCPACK or DHCPNAK) into out and returns
 * its length. Returns 0 for any other frame: not DHCP, malformed, from another MAC, DHCPDECLINE, DHCPRELEASE, a
 * DHCPREQUEST meant for another server, or a reply that would not fit in cap. Never reads past len nor writes
 * past cap. See the definition for the rules it applies.
 */
size_t dhcp_server_input(const struct dhcp_server_conf *c, const uint8_t *frame, size_t len, uint8_t *out,
			 size_t cap);

#endif
