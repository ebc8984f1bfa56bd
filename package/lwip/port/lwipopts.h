/* lwIP options for the VMM's user-mode networking (vmm/net/user.c): one single-threaded stack per guest
 * process, driven by the VMM's event loop (NO_SYS), IPv4 only, raw API only. See docs/network.md. */
#ifndef SHRIKE_LWIPOPTS_H
#define SHRIKE_LWIPOPTS_H

#define NO_SYS                  1
#define SYS_LIGHTWEIGHT_PROT    0
#define LWIP_NETCONN            0
#define LWIP_SOCKET             0
/* The NAT is IPv4 only; the user backend drops IPv6 frames before lwIP sees them. */
#define LWIP_IPV4               1
#define LWIP_IPV6               0
#define LWIP_ARP                1
#define LWIP_ETHERNET           1
#define LWIP_ICMP               1
#define LWIP_UDP                1
#define LWIP_TCP                1
#define LWIP_DHCP               0
#define LWIP_DNS                0
#define LWIP_STATS              0
/* The guest's address is known, so lwIP never has to ask for it (an inbound forward connects at once). */
#define ETHARP_SUPPORT_STATIC_ENTRIES 1

/* Memory comes from the C heap: the VMM bounds connections itself (NAT_TCP_MAX, NAT_UDP_MAX). */
#define MEM_LIBC_MALLOC         1
#define MEMP_MEM_MALLOC         1
#define MEM_ALIGNMENT           8

/* The link is virtual: nothing is reordered and fragments are never needed, so both are dropped, which keeps
 * a guest from parking memory in reassembly or out-of-sequence queues. */
#define IP_REASSEMBLY           0
#define IP_FRAG                 0
#define TCP_QUEUE_OOSEQ         0

/* Throughput: 1460-byte segments and a 128 KiB window each way (window scaling, shift 2). Per flow this is
 * also the bound on what a guest can make the VMM hold. */
#define TCP_MSS                 1460
#define LWIP_WND_SCALE          1
#define TCP_RCV_SCALE           2
#define TCP_WND                 (88 * TCP_MSS)
#define TCP_SND_BUF             (88 * TCP_MSS)
/* lwIP counts the low-water mark in 16 bits; the default (half the send buffer) is too close to the limit. */
#define TCP_SNDLOWAT            (16 * TCP_MSS)
#define TCP_SND_QUEUELEN        ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define MEMP_NUM_TCP_SEG        TCP_SND_QUEUELEN
#define MEMP_NUM_TCP_PCB        256
#define MEMP_NUM_UDP_PCB        4
/* One pbuf per frame, so the copy to the guest's queue is one memcpy. */
#define LWIP_NETIF_TX_SINGLE_PBUF 1
/* TIME_WAIT lasts 2 * TCP_MSL; on a virtual wire a second is plenty and frees flow slots fast. */
#define TCP_MSL                 1000UL

#define LWIP_RAND()             ((u32_t)random())

#endif
