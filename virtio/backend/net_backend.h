/*
 * The network backend contract: where virtio-net's frames go. The device
 * (virtio/net.c) knows rings and headers; a backend (TAP, user-mode over
 * libslirp, a fake in tests) knows only frames. Backends run on the VM's
 * event loop; they never see guest memory except through the iovecs the
 * device lends them for the length of one call.
 *
 * A frame crosses the contract as one scatter list. When the backend's
 * hdr_len is NET_VNET_HDR_LEN, the list starts with a struct
 * virtio_net_hdr_v1 (offloads pass through: a TAP with IFF_VNET_HDR);
 * when it is 0, the list is the bare Ethernet frame and the backend
 * carries no offloads (features is 0).
 *
 * Backpressure: the device calls rx_enable(false) when the guest has no
 * receive buffers. The backend then stops watching its input, so nothing
 * spins and nothing is read that could not be delivered; frames wait in
 * the kernel (TAP) or in a bounded queue (user-mode). rx_enable(true)
 * resumes, and the backend calls host->rx_ready if frames are waiting.
 */
#ifndef MOTE_VIRTIO_NET_BACKEND_H
#define MOTE_VIRTIO_NET_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct evloop;

/* sizeof(struct virtio_net_hdr_v1): flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers (virtio 1.1 section 5.1.6). */
#define NET_VNET_HDR_LEN 12

/* Largest frame a backend hands over or takes, vnet header excluded: a
 * 64 KiB GSO packet plus its Ethernet header (and a VLAN tag). */
#define NET_MAX_FRAME (65535 + 18)

/* virtio-net feature bits (virtio 1.1 section 5.1.3) that depend on what
 * the backend can carry. */
#define VIRTIO_NET_F_CSUM        0   /* host takes partial checksums */
#define VIRTIO_NET_F_GUEST_CSUM  1   /* guest takes partial checksums */
#define VIRTIO_NET_F_GUEST_TSO4  7
#define VIRTIO_NET_F_GUEST_TSO6  8
#define VIRTIO_NET_F_GUEST_UFO   10
#define VIRTIO_NET_F_HOST_TSO4   11
#define VIRTIO_NET_F_HOST_TSO6   12
#define VIRTIO_NET_F_HOST_UFO    14

/* The device's side, given to attach. Called on the event-loop thread,
 * without the device's lock held. */
struct net_backend_host {
	/* Frames are waiting: the device should call recv() until it
	 * returns 0 or the guest runs out of buffers. */
	void (*rx_ready)(void *opaque);
	/* send() returned -EAGAIN earlier and the backend can take frames
	 * again. */
	void (*tx_ready)(void *opaque);
	void *opaque;
};

struct net_backend_ops {
	/* Send one frame (starting with the vnet header when hdr_len is
	 * set). 0: sent, or dropped and counted by the backend (a frame
	 * the host refused is lost, as on a wire); -EAGAIN: the backend is
	 * full, the frame was not taken, tx_ready follows. */
	int (*send)(void *be, const struct iovec *iov, unsigned iovcnt);
	/* Take the next waiting frame into iov. Returns its length (vnet
	 * header included), 0 when none is waiting, -EMSGSIZE when it did
	 * not fit (the frame is dropped), or another -errno. */
	ssize_t (*recv)(void *be, const struct iovec *iov, unsigned iovcnt);
	/* Watch for incoming frames (on), or stop (off): see above. */
	void (*rx_enable)(void *be, bool on);
	/* The offloads the guest accepted (VIRTIO_NET_F_GUEST_* bits): the
	 * backend must hand over only frames the guest can take. Called at
	 * DRIVER_OK and reset (0). Returns 0 or -errno. May be NULL when
	 * features is 0. */
	int (*set_offloads)(void *be, uint64_t guest_features);
	/* Register the backend's fds on loop; host stays valid until
	 * detach. Input starts disabled (rx_enable(true) turns it on). */
	int (*attach)(void *be, struct evloop *loop, const struct net_backend_host *host);
	void (*detach)(void *be);
	/* Release everything (a TAP mote created disappears with its last
	 * fd). Safe after a failed open. */
	void (*close)(void *be);
};

/* An opened backend, as the device manager hands it to the device. */
struct net_backend {
	const struct net_backend_ops *ops;
	void *be;
	unsigned hdr_len;          /* NET_VNET_HDR_LEN or 0 */
	uint64_t features;         /* VIRTIO_NET_F_* offload bits above it carries */
	char name[32];             /* for messages: "tap0", "user" */
};

#endif
