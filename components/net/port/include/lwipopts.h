/* lwIP configuration for Tern (lwIP's src/include/lwip/opt.h lists every
 * option). IPv4 with ARP, ICMP, UDP, TCP, DHCP and raw sockets; the netconn
 * API for applications (no BSD sockets); the stack runs in the tcpip
 * thread and other threads call the raw API under LOCK_TCPIP_CORE(). */
#ifndef TERN_LWIPOPTS_H
#define TERN_LWIPOPTS_H

#include <rtos/config.hpp>

/* ---- OS integration ---- */
#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1
#define LWIP_TCPIP_CORE_LOCKING 1
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0
#define TCPIP_THREAD_NAME "tcpip"
#define TCPIP_THREAD_STACKSIZE 8192
#define TCPIP_THREAD_PRIO 8
#define TCPIP_MBOX_SIZE 128
/* Releasing the core lock first notifies the devices of the frames queued
 * meanwhile (components/net/stack.cpp): one kick per output burst. */
#define LOCK_TCPIP_CORE() sys_mutex_lock(&lock_tcpip_core)
#define UNLOCK_TCPIP_CORE() tern_lwip_unlock_core()
#define DEFAULT_THREAD_STACKSIZE 4096
#define DEFAULT_THREAD_PRIO 12
#define DEFAULT_RAW_RECVMBOX_SIZE 8
#define DEFAULT_UDP_RECVMBOX_SIZE 64
#define DEFAULT_TCP_RECVMBOX_SIZE 64
#define DEFAULT_ACCEPTMBOX_SIZE 8

/* ---- memory: lwIP's heap is the kernel heap (visible in `free`);
 * pools are static ---- */
#define MEM_LIBC_MALLOC 1
#define mem_clib_malloc tern_lwip_malloc
#define mem_clib_free tern_lwip_free
#define mem_clib_calloc tern_lwip_calloc
#define MEM_ALIGNMENT 8
#define MEMP_NUM_PBUF 64
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_TCP_SEG 256
#define MEMP_NUM_NETBUF 32
#define MEMP_NUM_NETCONN 24
#define MEMP_NUM_TCPIP_MSG_INPKT 128
/* Copies of received frames (small ones, and when the driver lends no
 * more buffers): CONFIG_NET_PBUF_POOL_SIZE pbufs of one frame each. */
#define PBUF_POOL_SIZE CONFIG_NET_PBUF_POOL_SIZE

/* ---- protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_NETCONN 1
#define LWIP_SOCKET 0
#define LWIP_SO_RCVTIMEO 1
/* errno values for err_to_errno() (no C library errno here) */
#define LWIP_PROVIDE_ERRNO 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_API 0
#define LWIP_STATS 0

#if defined(CONFIG_NET_DHCP)
#define LWIP_DHCP 1
#else
#define LWIP_DHCP 0
#endif
/* Bind at once: QEMU's user network has nobody else on the link, and the
 * ARP probe would delay every boot by a second or more. */
#define DHCP_DOES_ARP_CHECK 0

/* ---- TCP: window and send buffer from Kconfig (64 KiB each by default) ---- */
#define TCP_MSS 1460
#define TCP_WND CONFIG_NET_TCP_WND
/* A window above 64 KiB needs window scaling (RFC 7323), used when the
 * peer offers it too; otherwise lwIP advertises at most 65535 bytes. */
#if TCP_WND > 0xffff
#define LWIP_WND_SCALE 1
#if TCP_WND <= (0xffff << 1)
#define TCP_RCV_SCALE 1
#elif TCP_WND <= (0xffff << 2)
#define TCP_RCV_SCALE 2
#elif TCP_WND <= (0xffff << 3)
#define TCP_RCV_SCALE 3
#else
#define TCP_RCV_SCALE 4
#endif
#endif
#define TCP_SND_BUF CONFIG_NET_TCP_SND_BUF
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
/* A window update on its own only when the application has freed a
 * quarter of the window: the ACKs of received data carry the rest. */
#define TCP_WND_UPDATE_THRESHOLD (TCP_WND / 4)
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_KEEPALIVE 1
/* The netif verifies every received TCP segment before it may coalesce it
 * (components/net/gro.cpp); a coalesced segment carries its first part's
 * checksum, so lwIP must not check it again. */
#define CHECKSUM_CHECK_TCP 0
/* One's complement sums (TCP and UDP checksums of what is sent, the IP
 * and UDP checks) with 64-bit words. */
#define LWIP_CHKSUM tern_lwip_chksum
/* The netif's coalesced segments are acknowledged at once (stack.cpp). */
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    tern_lwip_tcp_inpacket(pcb, p)

/* ---- checks ---- */
#define LWIP_NOASSERT_ON_ERROR 0

#ifdef __cplusplus
extern "C" {
#endif
struct tcp_pcb;
struct pbuf;
void tern_lwip_unlock_core(void);
int tern_lwip_tcp_inpacket(struct tcp_pcb* pcb, struct pbuf* p);
unsigned short tern_lwip_chksum(const void* data, int len);
void* tern_lwip_malloc(unsigned long size);
void tern_lwip_free(void* p);
void* tern_lwip_calloc(unsigned long n, unsigned long size);
#ifdef __cplusplus
}
#endif

#endif
