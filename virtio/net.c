#include "virtio/net.h"

#include "virtio/device.h"
#include "virtio/virtio.h"
#include "vmm/base/efd.h"
#include "vmm/base/evloop.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define HDR NET_VNET_HDR_LEN
#define NUM_BUFFERS_OFF 10      /* le16 in struct virtio_net_hdr_v1 */

#define OFFLOADS (VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
		  VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
		  VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | \
		  VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO))
#define GUEST_GSO (VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
		   VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO))
#define HOST_GSO  (VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | \
		   VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO))
#define GUEST_OFFLOADS (VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | GUEST_GSO)

/* ---- Setup ---- */

static bool backend_valid(const struct net_backend *be)
{
	const struct net_backend_ops *o = be ? be->ops : NULL;

	if (!o || !o->send || !o->recv || !o->rx_enable || !o->attach || !o->detach)
		return false;
	if (be->hdr_len != 0 && be->hdr_len != HDR)
		return false;
	return !(be->features & OFFLOADS) || o->set_offloads;
}

static void on_rx_ready(void *opaque);
static void on_tx_ready(void *opaque);

int net_init(struct net *n, const struct net_backend *be, const uint8_t mac[6])
{
	memset(n, 0, sizeof(*n));
	n->kick_fd = -1;                 /* net_release() is safe after a failure */
	if (!mac || !backend_valid(be))
		return -EINVAL;
	n->kick_fd = efd_new();
	if (n->kick_fd < 0)
		return n->kick_fd;
	n->be = be;
	n->be_host = (struct net_backend_host){ on_rx_ready, on_tx_ready, n };
	memcpy(n->config, mac, 6);
	uint16_t status = htole16(VIRTIO_NET_S_LINK_UP);
	memcpy(n->config + 6, &status, 2);
	return 0;
}

void net_release(struct net *n)
{
	if (n->kick_fd >= 0)
		close(n->kick_fd);
	n->kick_fd = -1;
}

/* Come back to the rest of the work on the next loop turn, after the
 * other devices had theirs. */
static void reschedule(struct net *n, bool *more)
{
	*more = true;
	efd_signal(n->kick_fd);
}

/* ---- Transmit ---- */

/* The readable part of c from byte skip on, as iovecs (zero-length pieces
 * left out). Count, or -1 if more than max would be needed. */
static int map_readable(struct iovec *iov, unsigned max, const struct virtq_chain *c,
			uint64_t skip)
{
	unsigned cnt = 0;

	for (unsigned i = 0; i < c->nread; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		if (cnt == max)
			return -1;
		iov[cnt++] = (struct iovec){ s->host + skip, s->len - skip };
		skip = 0;
	}
	return cnt;
}

/* Hand one chain to the backend. 0 when it is done with (sent, or dropped
 * and counted), -EAGAIN when the backend is full. */
static int tx_one(struct net *n, const struct virtq_chain *c)
{
	if (c->read_len < HDR + NET_ETH_HLEN) {
		n->stats.tx_short++;
		return 0;
	}
	if (c->read_len > HDR + NET_MAX_FRAME) {
		n->stats.tx_too_big++;
		return 0;
	}
	/* A bare-frame backend carries no offloads: the header is dropped. */
	int cnt = map_readable(n->tx_iov, NET_QUEUE_SIZE, c, n->be->hdr_len ? 0 : HDR);
	if (cnt < 0) {
		n->stats.tx_too_big++;
		return 0;
	}
	int err = n->be->ops->send(n->be->be, n->tx_iov, (unsigned)cnt);
	if (err == -EAGAIN)
		return err;
	if (err < 0) {
		n->stats.tx_errors++;
		return 0;
	}
	n->stats.tx_frames++;
	n->stats.tx_bytes += c->read_len - HDR;
	return 0;
}

static void tx_process(struct net *n)
{
	unsigned done = 0;
	bool pushed = false;

	n->tx_more = false;
	while (!n->tx_blocked && done < NET_BUDGET) {
		int r = virtq_pop(n->txq, &n->chain);
		if (r < 0)
			virtio_host_needs_reset(n->host);
		if (r <= 0)
			break;
		if (tx_one(n, &n->chain) == -EAGAIN) {
			/* The chain goes back to the ring, in order; tx_ready
			 * takes it from there. */
			virtq_unpop(n->txq, 1);
			n->tx_blocked = true;
			n->stats.tx_eagain++;
			break;
		}
		if (virtq_push(n->txq, n->chain.head, 0) < 0)
			virtio_host_needs_reset(n->host);
		pushed = true;
		done++;
	}
	if (done == NET_BUDGET)
		reschedule(n, &n->tx_more);
	if (pushed)
		virtio_host_signal_used(n->host, NET_TXQ);
}

/* ---- Receive ---- */

static bool rx_chain_ok(const struct net *n, const struct virtq_chain *c)
{
	/* Mergeable buffers each hold at least a header (5.1.6.3.1);
	 * without them one chain holds the whole frame. */
	uint64_t min = n->features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) ? HDR : HDR + NET_ETH_HLEN;

	return c->nread == 0 && c->write_len >= min;
}

/* Append the popped chain to the stash. 1 if kept, 0 if it does not fit
 * (the caller gives it back). */
static int rx_stash(struct net *n, const struct virtq_chain *c)
{
	if (n->rx_niov + c->nseg > NET_RX_IOV_MAX)
		return 0;
	struct net_rx_buf *b = &n->stash[n->nstash++];
	*b = (struct net_rx_buf){ c->head, 0, (uint32_t)c->write_len };
	for (unsigned i = 0; i < c->nseg; i++) {
		if (!c->seg[i].len)
			continue;
		n->rx_iov[n->rx_niov++] = (struct iovec){ c->seg[i].host, c->seg[i].len };
		b->niov++;
	}
	n->stash_bytes += b->len;
	return 1;
}

/* Give a forbidden chain straight back, unused. Only with an empty stash:
 * a push among stashed chains would break virtq_unpop()'s order. */
static void rx_drop_chain(struct net *n, uint16_t head, bool *pushed)
{
	n->stats.rx_bad_chain++;
	if (virtq_push(n->rxq, head, 0) < 0)
		virtio_host_needs_reset(n->host);
	*pushed = true;
}

/* Pop until the stash holds the room a frame needs, the ring is empty,
 * or a chain cannot join it. 1: recv may go ahead; 0: wait for the guest;
 * <0: the ring is broken. At most a queue's worth of pops: a guest
 * posting bad chains as fast as they are dropped cannot hold us here. */
static int rx_fill(struct net *n, bool *pushed)
{
	bool mrg = n->features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	uint64_t want = mrg ? n->rx_need : 1;
	bool stuck = false;

	for (unsigned pops = 0; pops < NET_QUEUE_SIZE && n->stash_bytes < want &&
				n->nstash < n->rxq->size; pops++) {
		int r = virtq_pop(n->rxq, &n->chain);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		bool ok = rx_chain_ok(n, &n->chain);
		if (!ok && !n->nstash) {
			rx_drop_chain(n, n->chain.head, pushed);
			continue;
		}
		if (!ok || !rx_stash(n, &n->chain)) {
			virtq_unpop(n->rxq, 1);   /* retried once the stash empties */
			stuck = true;
			break;
		}
	}
	if (!mrg)
		return n->nstash > 0;
	/* Wait for more buffers unless the guest cannot post any more. */
	if (stuck || n->nstash == n->rxq->size)
		return n->stash_bytes >= HDR + NET_ETH_HLEN;
	return n->stash_bytes >= n->rx_need;
}

/* Receive one frame into the stash: its length with the vnet header, as
 * the guest sees it, or what recv returned (<= 0). */
static ssize_t rx_recv(struct net *n)
{
	struct iovec *iov = n->rx_iov;
	unsigned cnt = n->rx_niov;
	size_t skip = n->be->hdr_len ? 0 : HDR;

	/* A bare-frame backend: the frame goes after the header we write. */
	while (cnt && skip >= iov->iov_len) {
		skip -= iov->iov_len;
		iov++;
		cnt--;
	}
	if (!cnt)
		return -EINVAL;                  /* rx_fill() left room: unreachable */
	struct iovec first = iov[0];
	iov[0].iov_base = (uint8_t *)iov[0].iov_base + skip;
	iov[0].iov_len -= skip;
	ssize_t len = n->be->ops->recv(n->be->be, iov, cnt);
	iov[0] = first;
	if (len <= 0)
		return len;
	return n->be->hdr_len ? len : len + HDR;
}

/* Write len bytes at offset off of iov[0..cnt), across segments. */
static void iov_put(const struct iovec *iov, unsigned cnt, size_t off, const void *src,
		    size_t len)
{
	const uint8_t *p = src;

	for (unsigned i = 0; i < cnt && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		memcpy((uint8_t *)iov[i].iov_base + off, p, take);
		p += take;
		len -= take;
		off = 0;
	}
}

/* Drop the first m chains of the stash (delivered). */
static void rx_consume(struct net *n, unsigned m)
{
	unsigned niov = 0;

	for (unsigned i = 0; i < m; i++) {
		niov += n->stash[i].niov;
		n->stash_bytes -= n->stash[i].len;
	}
	n->nstash -= m;
	n->rx_niov -= niov;
	memmove(n->stash, n->stash + m, n->nstash * sizeof(n->stash[0]));
	memmove(n->rx_iov, n->rx_iov + niov, n->rx_niov * sizeof(n->rx_iov[0]));
}

/* The frame of total bytes (header included) sits at the start of the
 * stash: finish its header and hand its chains to the guest. */
static void rx_deliver(struct net *n, uint64_t total)
{
	uint8_t hdr[HDR] = { 0 };
	uint64_t rem = total;
	unsigned m = 0;

	while (rem > n->stash[m].len)
		rem -= n->stash[m++].len;
	uint16_t nb = htole16((uint16_t)(m + 1));
	memcpy(hdr + NUM_BUFFERS_OFF, &nb, 2);
	/* A vnet-header backend wrote the rest of the header itself. Before
	 * the pushes: a push may publish (a ring's worth pending). */
	size_t off = n->be->hdr_len ? NUM_BUFFERS_OFF : 0;
	iov_put(n->rx_iov, n->stash[0].niov, off, hdr + off, HDR - off);
	rem = total;
	for (unsigned i = 0; i <= m; i++) {
		uint32_t take = rem < n->stash[i].len ? (uint32_t)rem : n->stash[i].len;
		rem -= take;
		if (virtq_push(n->rxq, n->stash[i].head, take) < 0)
			virtio_host_needs_reset(n->host);
	}
	rx_consume(n, m + 1);
	n->stats.rx_frames++;
	n->stats.rx_bytes += total - HDR;
}

/* No room for a frame: stop the backend's input until the guest posts
 * buffers (queue-0 notify), so nothing spins meanwhile. */
static void rx_stall(struct net *n)
{
	if (!n->rx_on)
		return;
	n->be->ops->rx_enable(n->be->be, false);
	n->rx_on = false;
	n->stats.rx_stalls++;
}

/* Receive one frame. False when the pass should end. */
static bool rx_one(struct net *n, bool *pushed)
{
	int r = rx_fill(n, pushed);

	if (r < 0)
		virtio_host_needs_reset(n->host);
	if (r == 0)
		rx_stall(n);
	if (r <= 0)
		return false;
	ssize_t len = rx_recv(n);
	if (len == 0)
		return false;
	if (len == -EMSGSIZE) {
		n->stats.rx_too_big++;           /* the chains stay for the next */
		return true;
	}
	/* Beyond the room it had, or shorter than a header: a broken backend. */
	if (len < 0 || (uint64_t)len > n->stash_bytes || len < HDR) {
		n->stats.rx_errors++;
		return false;
	}
	rx_deliver(n, (uint64_t)len);
	*pushed = true;
	return true;
}

static void rx_process(struct net *n)
{
	unsigned done = 0;
	bool pushed = false;

	n->rx_more = false;
	while (done < NET_BUDGET && rx_one(n, &pushed))
		done++;
	if (done == NET_BUDGET)
		reschedule(n, &n->rx_more);
	/* Chains not used go back: the guest owns them again on reset, and a
	 * queue reset between passes must find nothing held here. */
	if (n->nstash && virtq_unpop(n->rxq, (uint16_t)n->nstash) < 0)
		virtio_host_needs_reset(n->host);
	n->nstash = n->rx_niov = 0;
	n->stash_bytes = 0;
	if (pushed)
		virtio_host_signal_used(n->host, NET_RXQ);
}

/* The guest posted receive buffers (or the device just started). */
static void rx_resume(struct net *n)
{
	if (!n->rx_on) {
		n->be->ops->rx_enable(n->be->be, true);
		n->rx_on = true;
	}
	rx_process(n);
}

/* ---- Event-loop entry points (lock not held) ---- */

static void on_rx_ready(void *opaque)
{
	struct net *n = opaque;

	virtio_host_lock(n->host);
	if (n->rxq)
		rx_process(n);
	virtio_host_unlock(n->host);
}

static void on_tx_ready(void *opaque)
{
	struct net *n = opaque;

	virtio_host_lock(n->host);
	n->tx_blocked = false;
	if (n->txq)
		tx_process(n);
	virtio_host_unlock(n->host);
}

void net_poll(struct net *n)
{
	virtio_host_lock(n->host);
	if (n->rxq && n->rx_more)
		rx_process(n);
	if (n->txq && n->tx_more)
		tx_process(n);
	virtio_host_unlock(n->host);
}

static void on_kick(void *opaque, uint32_t events)
{
	struct net *n = opaque;

	/* Drain first: a budget running out again re-arms it. */
	efd_drain(n->kick_fd);
	net_poll(n);
}

/* ---- Transport callbacks (transport lock held) ---- */

static uint64_t net_features(void *dev)
{
	const struct net *n = dev;
	uint64_t f = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		     VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTQ_F_INDIRECT_DESC) |
		     VIRTIO_BIT(VIRTQ_F_EVENT_IDX);

	/* Offloads ride in the vnet header: none without one. */
	if (n->be->hdr_len == HDR)
		f |= n->be->features & OFFLOADS;
	/* Section 5.1.3.1: segmentation needs its checksum offload. */
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		f &= ~GUEST_GSO;
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
		f &= ~HOST_GSO;
	return f;
}

static void net_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	const struct net *n = dev;

	/* Bytes past the config read as zero (the bus pre-zeroes data). */
	for (unsigned i = 0; i < len && off < sizeof(n->config) - i; i++)
		data[i] = n->config[off + i];
}

static int net_attach(void *dev, const struct virtio_host *host, struct evloop *loop)
{
	struct net *n = dev;

	n->host = host;
	int err = evloop_add(loop, n->kick_fd, EPOLLIN, on_kick, n);
	if (err)
		return err;
	err = n->be->ops->attach(n->be->be, loop, &n->be_host);
	if (err) {
		evloop_del(loop, n->kick_fd);
		return err;
	}
	n->loop = loop;
	return 0;
}

static void net_detach(void *dev, struct evloop *loop)
{
	struct net *n = dev;

	if (!n->loop)
		return;
	n->be->ops->detach(n->be->be);
	evloop_del(n->loop, n->kick_fd);
	n->loop = NULL;
}

static int net_activate(void *dev, struct virtq *queues, uint64_t features)
{
	struct net *n = dev;
	uint64_t off = features & GUEST_OFFLOADS;

	/* A driver may accept segmentation without its checksum bit (the
	 * transport takes any subset); the backend never sees that. */
	if (!(off & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		off = 0;
	if (n->be->ops->set_offloads) {
		int err = n->be->ops->set_offloads(n->be->be, off);
		if (err)
			return err;
	}
	n->features = features;
	n->rx_need = off & GUEST_GSO ? HDR + NET_MAX_FRAME : NET_RX_MIN_ROOM;
	/* Input stays off until queue 0's first notify: the transport kicks
	 * every ready queue right after this. */
	n->rxq = &queues[NET_RXQ];
	n->txq = &queues[NET_TXQ];
	return 0;
}

static void net_reset(void *dev)
{
	struct net *n = dev;

	n->rxq = n->txq = NULL;
	/* Nothing in flight: send and recv finish inside their calls. */
	if (n->loop) {
		n->be->ops->rx_enable(n->be->be, false);
		if (n->be->ops->set_offloads)
			n->be->ops->set_offloads(n->be->be, 0);
	}
	n->rx_on = false;
	n->features = 0;
	n->tx_blocked = n->rx_more = n->tx_more = false;
}

static void net_queue_notify(void *dev, unsigned q)
{
	struct net *n = dev;

	if (q == NET_RXQ)
		rx_resume(n);
	else if (q == NET_TXQ)
		tx_process(n);
}

const struct virtio_dev_ops net_virtio_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.num_queues = 2,
	.queue_max = NET_QUEUE_SIZE,
	.features = net_features,
	.config_read = net_config_read,
	.attach = net_attach,
	.detach = net_detach,
	.activate = net_activate,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
};
