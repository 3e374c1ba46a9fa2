/*
 * virtio-net (virtio 1.1 section 5.1): one receive queue (0) and one
 * transmit queue (1) over a network backend (virtio/backend/net_backend.h).
 * Transport-agnostic: the device reaches its transport through the
 * struct virtio_host lent at attach, its backend through the ops table.
 *
 *	struct net *n = calloc(1, sizeof(*n));     (large: keep it off the stack)
 *	net_init(n, &backend, mac);                backend opened by the caller
 *	virtio_mmio_init(&t, mem, &irq, &net_virtio_ops, n);
 *	virtio_mmio_attach(&t, loop);              attaches the backend too
 *	... VM runs ...
 *	virtio_mmio_release(&t);                   resets the device, detaches
 *	net_release(n);
 *	backend.ops->close(backend.be);            the device never closes it
 *
 * Offered: MAC, STATUS (the link is always up), MRG_RXBUF, INDIRECT_DESC,
 * EVENT_IDX, and the checksum and segmentation offloads the backend
 * carries (only with a vnet header), minus any the spec forbids without
 * their checksum bit. No MQ, no control queue.
 *
 * Every frame is handed to the backend straight from guest memory, and
 * received straight into it (no copy). What a guest can get wrong, and
 * what the device does (never crash, never spin):
 * - TX chain whose readable part holds less than the vnet header and an
 *   Ethernet header, or more than NET_VNET_HDR_LEN + NET_MAX_FRAME:
 *   dropped and counted, given back with used length 0. Writable
 *   segments of a TX chain are ignored.
 * - RX chain with a readable segment, or too small to hold a header
 *   (MRG_RXBUF: the vnet header; otherwise the vnet and an Ethernet
 *   header): given back unused (length 0) and counted. The spec forbids
 *   both; a reset is not needed to recover from them.
 * - A malformed ring: the queue breaks and the device needs a reset.
 *
 * Receive room: a frame is received only once the popped buffers hold
 * what the largest frame the guest accepts may need (NET_RX_MIN_ROOM, or
 * NET_VNET_HDR_LEN + NET_MAX_FRAME with a segmentation offload), or the
 * guest cannot post more. A bigger frame than that room (a jumbo frame
 * for a guest without offloads) is dropped by the backend (-EMSGSIZE) and
 * counted, unless the guest happened to post more room.
 *
 * Backpressure: when the guest has no (or too little) receive room, the
 * device turns the backend's input off; the guest's next queue-0 notify
 * turns it on again. When the backend refuses a frame (-EAGAIN), the
 * chain goes back to the ring and transmission waits for tx_ready. Each
 * event handles at most NET_BUDGET frames per queue, then the device
 * re-kicks itself through its own eventfd, so a busy guest or backend
 * cannot starve the rest of the event loop.
 *
 * The backend must not call rx_ready or tx_ready from inside one of its
 * ops (the device holds the transport's lock then): only from the loop.
 */
#ifndef MOTE_VIRTIO_NET_H
#define MOTE_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/backend/net_backend.h"
#include "virtio/virtq.h"

struct evloop;
struct virtio_dev_ops;
struct virtio_host;

#define NET_QUEUE_SIZE   256     /* QueueNumMax of both queues */
#define NET_RXQ          0
#define NET_TXQ          1
#define NET_BUDGET       NET_QUEUE_SIZE  /* frames per queue per event */
#define NET_RX_IOV_MAX   1024    /* UIO_MAXIOV: what readv takes */
#define NET_ETH_HLEN     14
/* Room a frame needs when the guest takes no segmentation offload: a
 * VLAN-tagged 1500-byte frame and the vnet header. */
#define NET_RX_MIN_ROOM  (NET_VNET_HDR_LEN + 1514 + 4)
#define NET_CONFIG_SIZE  8       /* mac[6], status (le16) */

/* Feature bits (section 5.1.3) beyond the offloads in net_backend.h. */
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16
#define VIRTIO_NET_S_LINK_UP    1

/* What happened to frames; read by tests and statistics. */
struct net_stats {
	uint64_t rx_frames, rx_bytes;   /* delivered; bytes without the vnet header */
	uint64_t tx_frames, tx_bytes;   /* taken by the backend */
	uint64_t rx_too_big;            /* -EMSGSIZE: no room, frame dropped */
	uint64_t rx_bad_chain;          /* RX chain the spec forbids, given back */
	uint64_t rx_errors;             /* recv failed or reported a bogus length */
	uint64_t rx_stalls;             /* input turned off: no receive room */
	uint64_t tx_short, tx_too_big;  /* TX chains dropped */
	uint64_t tx_errors;             /* send failed (not -EAGAIN): frame lost */
	uint64_t tx_eagain;             /* backend full: transmission paused */
};

/* A receive chain popped and kept for the next frames. */
struct net_rx_buf {
	uint16_t head;
	unsigned niov;                  /* its iovecs, in order, in rx_iov */
	uint32_t len;                   /* writable bytes */
};

struct net {
	const struct net_backend *be;   /* not owned */
	uint8_t config[NET_CONFIG_SIZE];
	const struct virtio_host *host; /* set by attach */
	struct evloop *loop;            /* set while attached */
	struct net_backend_host be_host;
	int kick_fd;                    /* re-kicks the device after a budget ran out */
	struct virtq *rxq, *txq;        /* set while the driver has the device active */
	uint64_t features;              /* negotiated */
	uint32_t rx_need;               /* receive room to have before recv */
	bool rx_on;                     /* backend input enabled */
	bool tx_blocked;                /* send said -EAGAIN; waiting for tx_ready */
	bool rx_more, tx_more;          /* budget ran out; kick_fd signalled */
	struct net_stats stats;
	/* Receive chains popped in this pass, oldest first; given back with
	 * virtq_unpop() before the pass ends. */
	unsigned nstash, rx_niov;
	uint64_t stash_bytes;
	struct net_rx_buf stash[NET_QUEUE_SIZE];
	struct iovec rx_iov[NET_RX_IOV_MAX];
	struct iovec tx_iov[NET_QUEUE_SIZE];
	struct virtq_chain chain;       /* scratch for virtq_pop */
};

/* The device's side of the transport; dev is the struct net. */
extern const struct virtio_dev_ops net_virtio_ops;

/*
 * Set n up over an opened backend be (which must outlive n; the device
 * never closes it) with MAC address mac. Returns 0, -EINVAL (incomplete
 * ops, a hdr_len other than 0 or NET_VNET_HDR_LEN, offloads without
 * set_offloads) or -errno (no eventfd).
 */
int net_init(struct net *n, const struct net_backend *be, const uint8_t mac[6])
	__attribute__((warn_unused_result));

/* Free what net_init() made (after virtio_mmio_release() of the transport). */
void net_release(struct net *n);

/* What the device's own eventfd handler runs: continue work a budget cut
 * short. Takes the lock. Exposed for tests. */
void net_poll(struct net *n);

#endif
