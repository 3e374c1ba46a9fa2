/*
 * The TAP backend: frames go to and come from a Linux TAP interface with
 * IFF_VNET_HDR, so virtio-net's header and its offloads (checksum, TSO)
 * pass through untouched. hdr_len is NET_VNET_HDR_LEN; features are CSUM,
 * GUEST_CSUM, HOST_TSO4/6 and GUEST_TSO4/6. UFO is not offered: Linux
 * stopped producing UFO in 4.14, so it gains nothing (set_offloads still
 * maps GUEST_UFO to TUN_F_UFO, which Linux accepts). The kernel hands the
 * guest only what set_offloads allowed (TUNSETOFFLOAD), none before.
 *
 * recv copes with any iovec: when the caller's room is smaller than the
 * largest possible frame, the frame is read into the backend's own buffer
 * first, so a frame that does not fit is reported (-EMSGSIZE) instead of
 * being silently truncated by the kernel.
 */
#ifndef MOTE_VIRTIO_NET_TAP_H
#define MOTE_VIRTIO_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_backend;

/* Open TAP interface ifname into *out. create false: the interface must
 * exist already (made by "ip tuntap add ... mode tap", persistent) and be
 * free. create true: mote creates it, and it must not exist; the kernel
 * removes it when the backend's fd closes, on every exit path. 0, or
 * -errno and one line in err. After a failure out->ops->close(out->be)
 * is safe and does nothing. */
int net_tap_open(struct net_backend *out, const char *ifname, bool create,
		 char *err, size_t errlen) __attribute__((warn_unused_result));

struct net_tap_stats {
	uint64_t tx_dropped;      /* frames the kernel refused (send) */
	uint64_t rx_oversize;     /* frames larger than the caller's room */
};

/* Counters of an open TAP backend (b->be from net_tap_open). */
void net_tap_stats(const void *be, struct net_tap_stats *st);

#endif
