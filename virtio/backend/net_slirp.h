/*
 * The user-mode backend: a TCP/IP stack in mote's process (libslirp), so
 * a guest reaches the network with no privileges and no host setup. IPv4
 * only, on slirp's default network: guest 10.0.2.15 (by DHCP), gateway
 * and host 10.0.2.2, DNS 10.0.2.3 (relayed to the host's resolver).
 * Outbound connections are allowed; inbound ones only through the host
 * forwards below. Frames are bare Ethernet (hdr_len 0, no offloads).
 *
 * The stack runs on the VM's event loop, with no thread of its own: the
 * backend registers one inner epoll set (slirp's sockets) and one timerfd
 * (slirp's timers). Frames for the guest wait in a bounded queue; beyond
 * it they are dropped and counted (TCP retransmits). While the queue is
 * full, slirp's sockets are not read: with the guest's input off, data
 * waits in the host's socket buffers and the loop sleeps.
 */
#ifndef MOTE_VIRTIO_NET_SLIRP_H
#define MOTE_VIRTIO_NET_SLIRP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_backend;

/* Frames and bytes the queue to the guest holds at most. */
#define NET_SLIRP_QUEUE_FRAMES 256
#define NET_SLIRP_QUEUE_BYTES  (4u << 20)

#define NET_SLIRP_MAX_FWDS 32

enum net_slirp_proto { NET_SLIRP_TCP, NET_SLIRP_UDP };

/* A host port forwarded into the guest. */
struct net_slirp_fwd {
	enum net_slirp_proto proto;
	struct in_addr host_addr;  /* where to listen; INADDR_ANY: every address */
	uint16_t host_port;        /* 1..65535 */
	uint16_t guest_port;       /* 1..65535, on 10.0.2.15 */
};

struct net_slirp_config {
	const struct net_slirp_fwd *fwds;
	unsigned nfwds;            /* at most NET_SLIRP_MAX_FWDS */
	const char *hostname;      /* offered by DHCP; NULL: none */
};

/* Start a user-mode stack into *out. 0, or -errno and one line in err
 * (a forward whose host port is taken is named). After a failure
 * out->ops->close(out->be) is safe and does nothing. */
int net_slirp_open(struct net_backend *out, const struct net_slirp_config *cfg,
		   char *err, size_t errlen) __attribute__((warn_unused_result));

struct net_slirp_stats {
	uint64_t rx_frames;        /* frames queued for the guest */
	uint64_t rx_dropped;       /* frames dropped: queue full or too large */
	uint64_t rx_oversize;      /* frames recv could not fit into the iovec */
	uint64_t tx_dropped;       /* frames from the guest with a bad length */
	uint64_t guest_errors;     /* malformed packets slirp complained about */
	unsigned queued;           /* frames waiting now */
};

/* Counters of an open user-mode backend (b->be from net_slirp_open). */
void net_slirp_stats(const void *be, struct net_slirp_stats *st);

#endif
