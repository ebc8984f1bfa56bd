/* lwIP options for the VMM's user-mode networking: one single-threaded stack per guest
 * process, driven by the VMM's event loop (NO_SYS), IPv4 and IPv6, raw API only. */
#ifndef SHRIKE_LWIPOPTS_H
#define SHRIKE_LWIPOPTS_H

#define NO_SYS                  1
#define SYS_LIGHTWEIGHT_PROT    0
#define LWIP_NETCONN            0
#define LWIP_SOCKET             0
#define LWIP_IPV4               1
#define LWIP_IPV6               1
#define LWIP_ARP                1
#define LWIP_ETHERNET           1
#define LWIP_ICMP               1
#define LWIP_UDP                1
#define LWIP_TCP                1
#define LWIP_DHCP               0
#define LWIP_DNS                0
#define LWIP_STATS              0

/* Memory comes from the C heap: the VMM bounds connections itself. */
#define MEM_LIBC_MALLOC         1
#define MEMP_MEM_MALLOC         1
#define MEM_ALIGNMENT           8
#define TCP_MSS                 1460
#define TCP_WND                 (16 * TCP_MSS)
#define TCP_SND_BUF             (16 * TCP_MSS)
#define MEMP_NUM_TCP_PCB        256
#define MEMP_NUM_UDP_PCB        64

#endif
