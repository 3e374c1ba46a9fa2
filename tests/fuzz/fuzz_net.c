/*
 * virtio-net (virtio/net.c) behind virtio-mmio, over a fake network
 * backend that keeps frames in memory. The input is the backend's shape,
 * the driver's features, a list of operations and an image of guest RAM:
 *
 *   u8 backend: 1 a vnet header, 2 offloads (with the header only)
 *   u8 features the driver takes (of those offered): 1 MRG_RXBUF,
 *      2 EVENT_IDX, 4 INDIRECT_DESC, 8 CSUM, 16 GUEST_CSUM, 32 GUEST_TSO4,
 *      64 HOST_TSO4, 128 MAC and STATUS
 *   u8 log2 of the queue size (mod 9)
 *   u8 number of operations; per operation u8 code, u8 a, u16 offset,
 *      u32 value (see enum op)
 *   the rest: guest RAM from address 0
 *
 * What must hold: no sanitizer report; every iovec the backend gets lies
 * inside guest RAM, at most NET_RX_IOV_MAX of them; a frame sent carries
 * at least the vnet and Ethernet headers and at most the largest frame;
 * used elements name heads of the ring; after release the backend is
 * detached with its input off.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/virtq_driver.c"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/virtio.h"
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/base/irq.h"

#include <errno.h>

#define RAM_SIZE  0x40000ull
#define RXRING    0x0ull
#define TXRING    0x4000ull
#define TABLES    0x8000ull
#define BUFS      0x9000ull
#define MAXQ      8
#define BIT       VIRTIO_BIT

enum op {
	OP_POST_RX, OP_POST_TX, OP_KICK_RX, OP_KICK_TX, OP_FRAME, OP_TX_FULL,
	OP_TX_READY, OP_POLL, OP_POKE, OP_WRITE, OP_DRIVER_UP, OP_ENDLESS, OP_COUNT
};

struct fbe {
	struct net_backend nb;
	const uint8_t *ram;
	uint32_t in_len[MAXQ];       /* frames waiting, by length */
	unsigned in_first, in_count;
	bool endless;                /* recv always has in[first] again */
	bool on;
	int send_ret;
	uint64_t sends, recvs;
	const struct net_backend_host *host;
};

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct irq_line irq;
	struct evloop loop;
	struct virtio_mmio t;
	struct net n;
	struct fbe be;
	struct vdrv rx, tx;
	uint16_t qsz;
	uint8_t want;
	bool up;
};

static struct fx *fixed;

/* ---- The fake backend ---- */

static size_t check_iov(const struct fbe *f, const struct iovec *iov, unsigned cnt)
{
	size_t total = 0;

	FZ_CHECK(cnt <= NET_RX_IOV_MAX);
	for (unsigned i = 0; i < cnt; i++) {
		FZ_CHECK(fz_inside(iov[i].iov_base, iov[i].iov_len, f->ram, RAM_SIZE));
		total += iov[i].iov_len;
	}
	return total;
}

static int fake_send(void *be, const struct iovec *iov, unsigned cnt)
{
	struct fbe *f = be;
	size_t len = check_iov(f, iov, cnt);
	volatile uint8_t sink = 0;

	FZ_CHECK(len >= f->nb.hdr_len + NET_ETH_HLEN);
	FZ_CHECK(len <= f->nb.hdr_len + NET_MAX_FRAME);
	f->sends++;
	for (unsigned i = 0; i < cnt; i++)
		for (size_t k = 0; k < iov[i].iov_len; k++)
			sink ^= ((const uint8_t *)iov[i].iov_base)[k];
	(void)sink;
	return f->send_ret;
}

static ssize_t fake_recv(void *be, const struct iovec *iov, unsigned cnt)
{
	struct fbe *f = be;
	size_t room = check_iov(f, iov, cnt), at = 0;

	f->recvs++;
	if (!f->in_count)
		return 0;
	uint32_t len = f->in_len[f->in_first % MAXQ];
	ssize_t ret = len;
	if (len > room)
		ret = -EMSGSIZE;
	for (unsigned i = 0; ret > 0 && i < cnt && at < len; i++) {
		size_t take = len - at < iov[i].iov_len ? len - at : iov[i].iov_len;
		memset(iov[i].iov_base, (int)(at & 0xff), take);
		at += take;
	}
	if (!f->endless) {
		f->in_first++;
		f->in_count--;
	}
	return ret;
}

static void fake_rx_enable(void *be, bool on)
{
	((struct fbe *)be)->on = on;
}

static int fake_set_offloads(void *be, uint64_t g)
{
	return 0;
}

static int fake_attach(void *be, struct evloop *loop, const struct net_backend_host *h)
{
	((struct fbe *)be)->host = h;
	return 0;
}

static void fake_detach(void *be)
{
	((struct fbe *)be)->host = NULL;
}

static const struct net_backend_ops fake_ops = {
	.send = fake_send,
	.recv = fake_recv,
	.rx_enable = fake_rx_enable,
	.set_offloads = fake_set_offloads,
	.attach = fake_attach,
	.detach = fake_detach,
};

/* ---- The driver ---- */

static void wr(struct fx *x, uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(&x->t, off, (const uint8_t *)&v, 4);
}

static uint32_t rd(struct fx *x, uint64_t off)
{
	uint8_t d[4] = { 0 };
	uint32_t v;

	virtio_mmio_bus_ops.read(&x->t, off, d, 4);
	memcpy(&v, d, 4);
	return v;
}

static uint64_t wanted(uint8_t w)
{
	return (w & 1 ? BIT(VIRTIO_NET_F_MRG_RXBUF) : 0) | (w & 2 ? BIT(VIRTQ_F_EVENT_IDX) : 0) |
	       (w & 4 ? BIT(VIRTQ_F_INDIRECT_DESC) : 0) | (w & 8 ? BIT(VIRTIO_NET_F_CSUM) : 0) |
	       (w & 16 ? BIT(VIRTIO_NET_F_GUEST_CSUM) : 0) |
	       (w & 32 ? BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) : 0) |
	       (w & 64 ? BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) : 0) |
	       (w & 128 ? BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) : 0) |
	       BIT(VIRTIO_F_VERSION_1);
}

static void queue_up(struct fx *x, unsigned q, struct vdrv *d, uint64_t ring)
{
	vdrv_init(d, &x->mem, x->qsz, ring);
	wr(x, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, x->qsz);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)d->desc);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)d->avail);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)d->used);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_up(struct fx *x)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint64_t f;

	wr(x, VIRTIO_MMIO_STATUS, 0);
	wr(x, VIRTIO_MMIO_STATUS, s);
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(x, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f |= (uint64_t)rd(x, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	f &= wanted(x->want);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, f >> 32);
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	queue_up(x, NET_RXQ, &x->rx, RXRING);
	queue_up(x, NET_TXQ, &x->tx, TXRING);
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	FZ_CHECK(x->t.active);
	virtio_mmio_poll_notify(&x->t, NET_RXQ);
	virtio_mmio_poll_notify(&x->t, NET_TXQ);
	x->up = true;
}

/* One chain of 1..4 buffers at BUFS + off * 4 with the lengths v gives;
 * forbidden shapes when a says so (a readable part on RX, a writable part
 * on TX), through an indirect table when a & 0x80. */
static void post(struct fx *x, struct vdrv *d, bool rx, uint8_t a, uint16_t off, uint32_t v)
{
	struct vdrv_buf bufs[4];
	unsigned n = 1 + (a & 3);
	uint64_t gpa = BUFS + (uint64_t)off * 4;

	if (!x->up)
		return;
	for (unsigned i = 0; i < n; i++, v = v * 1103515245u + 12345u) {
		uint32_t len = a & 0x20 ? (v >> 8) & 0xffff : (v >> 8) & 0x7ff;
		bufs[i] = (struct vdrv_buf){ gpa, len, rx };
		gpa += len;
	}
	if (a & 0x40)
		bufs[rx ? 0 : n - 1].write = !rx;
	if (a & 0x80)
		vdrv_publish(d, vdrv_chain_indirect(d, TABLES + (rx ? 0 : 0x400), bufs, n));
	else
		vdrv_add(d, bufs, n);
}

static void drain_used(struct fx *x)
{
	uint32_t id, len;

	if (!x->up)
		return;
	while (vdrv_get_used(&x->rx, &id, &len))
		FZ_CHECK(id < x->qsz);
	while (vdrv_get_used(&x->tx, &id, &len))
		FZ_CHECK(id < x->qsz && len == 0);
}

static void run_op(struct fx *x, uint8_t code, uint8_t a, uint16_t off, uint32_t v)
{
	struct fbe *f = &x->be;

	switch (code % OP_COUNT) {
	case OP_POST_RX:
		for (unsigned i = 0; i <= (a >> 2 & 3); i++)
			post(x, &x->rx, true, a, off + i * 0x800, v + i);
		break;
	case OP_POST_TX:   post(x, &x->tx, false, a, off, v); break;
	case OP_KICK_RX:   virtio_mmio_poll_notify(&x->t, NET_RXQ); break;
	case OP_KICK_TX:   virtio_mmio_poll_notify(&x->t, NET_TXQ); break;
	case OP_FRAME:
		if (f->in_count < MAXQ)
			f->in_len[(f->in_first + f->in_count++) % MAXQ] =
				v % (f->nb.hdr_len + NET_MAX_FRAME + 64);
		if (f->host && f->on)
			f->host->rx_ready(f->host->opaque);
		break;
	case OP_TX_FULL:   f->send_ret = a & 1 ? -EAGAIN : -EIO; break;
	case OP_TX_READY:
		f->send_ret = 0;
		if (f->host)
			f->host->tx_ready(f->host->opaque);
		break;
	case OP_POLL:      net_poll(&x->n); break;
	case OP_POKE:      memcpy(x->ram + (uint64_t)off * 4 % (RAM_SIZE - 3), &v, 4); break;
	case OP_WRITE: {
		uint8_t d[4];
		memcpy(d, &v, 4);
		virtio_mmio_bus_ops.write(&x->t, off % VIRTIO_MMIO_SIZE & ~3u, d, 4);
		x->up = x->up && x->t.active;
		break;
	}
	case OP_DRIVER_UP: x->want = a; driver_up(x); break;
	case OP_ENDLESS:   f->endless = a & 1; break;
	}
	drain_used(x);
}

/* Guest RAM lives across inputs (allocating it costs page faults). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fixed = calloc(1, sizeof(*fixed));
	fixed->ram = fz_ram_alloc(RAM_SIZE);
	FZ_CHECK(gmem_add(&fixed->mem, 0, RAM_SIZE, fixed->ram) == 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct fin in = { data, size };
	struct fx *x = fixed;
	uint8_t shape = fin_u8(&in);
	unsigned hdr = shape & 1 ? NET_VNET_HDR_LEN : 0;
	uint64_t offl = hdr && (shape & 2) ?
		BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
		BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
		BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) : 0;

	memset(x->ram, 0, RAM_SIZE);
	memset(&x->n, 0, sizeof(x->n));
	memset(&x->be, 0, sizeof(x->be));
	x->up = false;
	x->want = fin_u8(&in);
	x->qsz = (uint16_t)(1u << (fin_u8(&in) % 9));
	x->be.ram = x->ram;
	x->be.nb = (struct net_backend){ &fake_ops, &x->be, hdr, offl, "fake" };
	FZ_CHECK(irq_line_init(&x->irq, 5) == 0);
	FZ_CHECK(evloop_init(&x->loop) == 0);
	FZ_CHECK(net_init(&x->n, &x->be.nb, mac) == 0);
	FZ_CHECK(virtio_mmio_init(&x->t, &x->mem, &x->irq, &net_virtio_ops, &x->n) == 0);
	FZ_CHECK(virtio_mmio_attach(&x->t, &x->loop) == 0);

	unsigned nops = fin_u8(&in);
	const uint8_t *ops = in.p;
	size_t opbytes = nops * 8u < in.n ? nops * 8u : in.n;
	in.p += opbytes;
	in.n -= opbytes;
	fin_bytes(&in, x->ram, RAM_SIZE);
	driver_up(x);
	for (size_t i = 0; i + 8 <= opbytes; i += 8) {
		uint16_t off;
		uint32_t v;
		memcpy(&off, ops + i + 2, 2);
		memcpy(&v, ops + i + 4, 4);
		run_op(x, ops[i], ops[i + 1], off, v);
	}
	/* What the event loop would still do: the device's re-kicks. */
	for (unsigned i = 0; i < 4 && evloop_poll(&x->loop, 0) > 0; i++)
		drain_used(x);

	virtio_mmio_release(&x->t);
	FZ_CHECK(x->be.host == NULL && !x->be.on);
	net_release(&x->n);
	evloop_release(&x->loop);
	irq_line_release(&x->irq);
	return 0;
}
