/*
 * netstress: a hostile guest's network load, for the user-network robustness test (tests/image/run).
 *
 *   netstress connect ADDR PORT N   opens N TCP connections to ADDR:PORT, at most 512 at a time (a guest's fd
 *                                   limit is 1024), each closed by RST once it got an answer or after 2 s;
 *                                   prints how many were accepted, refused and left unanswered
 *   netstress frames IFACE N        sends N malformed Ethernet frames on IFACE (packet socket): truncated and
 *                                   lying IPv4 headers, fragments, bogus TCP and UDP lengths, random bytes
 *
 * A static musl binary in the demo guest's initrd; busybox cannot do either without a fork per connection.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 512

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Closing with SO_LINGER 0 sends RST: the guest does not keep TIME_WAIT state for 10,000 connections. */
static void close_rst(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static int stress_connect(const char *addr, int port, long n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct pollfd pfd[BATCH];
	long accepted = 0, refused = 0, silent = 0, done = 0;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "netstress: %s is not an IPv4 address\n", addr);
		return 2;
	}
	while (done < n) {
		int batch = n - done < BATCH ? (int)(n - done) : BATCH, open = 0, i;
		long deadline;

		for (i = 0; i < batch; i++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

			if (fd < 0) {
				perror("netstress: socket");
				return 1;
			}
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
				refused++;
				close(fd);
				fd = -1;
			} else {
				open++;
			}
			pfd[i] = (struct pollfd){ .fd = fd, .events = POLLOUT };
		}
		deadline = now_ms() + 2000;
		while (open > 0 && now_ms() < deadline) {
			if (poll(pfd, (nfds_t)batch, (int)(deadline - now_ms())) <= 0)
				break;
			for (i = 0; i < batch; i++) {
				int err = 0;
				socklen_t len = sizeof(err);

				if (pfd[i].fd < 0 || !pfd[i].revents)
					continue;
				getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err)
					refused++;
				else
					accepted++;
				close_rst(pfd[i].fd);
				pfd[i].fd = -1;
				open--;
			}
		}
		for (i = 0; i < batch; i++)
			if (pfd[i].fd >= 0) {
				silent++;
				close_rst(pfd[i].fd);
			}
		done += batch;
	}
	printf("netstress: %ld connections: %ld accepted, %ld refused, %ld unanswered\n", n, accepted, refused,
	       silent);
	return 0;
}

static uint32_t rnd(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* One malformed frame of kind k into f (at least 128 bytes); returns its length. */
static size_t bad_frame(uint8_t *f, long k)
{
	size_t len = 14 + 20 + 20, i;
	uint8_t *ip = f + 14;

	memset(f, 0xff, 6);			/* broadcast: the gateway's MAC need not be known */
	memcpy(f + 6, "\x52\x54\x00\xde\xad\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 40);
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x03\x14", 4);
	memcpy(ip + 16, "\x0a\x00\x03\x02", 4);
	switch (k % 8) {
	case 0:		/* IPv4 header cut short */
		len = 14 + 10;
		break;
	case 1:		/* total length beyond the frame */
		ip[2] = 0x05;
		break;
	case 2:		/* a header length of 60 in a 40-byte packet */
		ip[0] = 0x4f;
		break;
	case 3:		/* a fragment that never completes */
		ip[6] = 0x20;
		ip[7] = (uint8_t)rnd();
		ip[4] = (uint8_t)rnd();
		break;
	case 4:		/* a TCP header length past the end */
		ip[20 + 12] = 0xf0;
		break;
	case 5:		/* UDP with a length that lies */
		ip[9] = 17;
		ip[20 + 4] = 0xff;
		break;
	case 6:		/* random bytes after a valid Ethernet header */
		len = 14 + rnd() % 100;
		for (i = 14; i < len; i++)
			f[i] = (uint8_t)rnd();
		break;
	default:	/* an ARP packet cut short */
		f[13] = 0x06;
		len = 14 + 12;
		break;
	}
	return len;
}

static int stress_frames(const char *ifname, long n)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t frame[128];
	long sent = 0, k;
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "netstress: no interface %s\n", ifname);
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("netstress: packet socket");
		return 1;
	}
	for (k = 0; k < n; k++) {
		size_t len = bad_frame(frame, k);

		memcpy(sll.sll_addr, frame, 6);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len)
			sent++;
	}
	close(fd);
	printf("netstress: %ld malformed frames sent on %s\n", sent, ifname);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "connect"))
		return stress_connect(argv[2], atoi(argv[3]), atol(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "frames"))
		return stress_frames(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: netstress connect ADDR PORT N | netstress frames IFACE N\n");
	return 2;
}
