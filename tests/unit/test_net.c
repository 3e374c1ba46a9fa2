/* Unit tests for virtio/net.c: frames sent and received through the real
 * virtio-mmio transport by a fake guest driver, over a fake backend that
 * keeps frames in memory. Ends with a hostile guest. */
#include "tests/unit/virtq_driver.c"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/virtio.h"
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/base/irq.h"

#include <check.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM_SIZE   (4 * 1024 * 1024)
#define RXRING     0x1000ull
#define TXRING     0x8000ull
#define TABLE      0x10000ull
#define RXBUF      0x100000ull          /* receive buffers from here */
#define TXBUF      0x300000ull          /* transmit buffers from here */
#define HDR        NET_VNET_HDR_LEN
#define MAXQ       64                   /* frames the fake holds */

#define F_BASE     (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) | \
		    VIRTIO_BIT(VIRTIO_NET_F_STATUS))
#define F_MRG      (F_BASE | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF))
#define BIT        VIRTIO_BIT

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* ---- A fake backend: frames wait in memory ---- */

struct frame {
	uint8_t *data;
	size_t len;
};

struct fbe {
	struct net_backend nb;
	const uint8_t *ram;                  /* every iovec must lie inside it */
	struct frame in[MAXQ];               /* waiting to be received */
	unsigned in_first, in_count;
	struct frame out[MAXQ];              /* sent by the guest (first MAXQ) */
	unsigned nout;
	int send_ret;                        /* forced send result, or 0 */
	bool endless;                        /* recv always has in[0] again */
	bool on;                             /* input enabled */
	unsigned enables, disables, recvs, sends, offload_calls;
	uint64_t offloads;
	const struct net_backend_host *host;
};

static void check_iov(const struct fbe *f, const struct iovec *iov, unsigned cnt)
{
	/* ck_assert is slow for the hostile run's millions of checks. */
	if (cnt > NET_RX_IOV_MAX)
		ck_abort_msg("%u iovecs", cnt);
	for (unsigned i = 0; i < cnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		if (p < f->ram || iov[i].iov_len > RAM_SIZE ||
		    p + iov[i].iov_len > f->ram + RAM_SIZE)
			ck_abort_msg("iovec outside guest RAM");
	}
}

static size_t iov_total(const struct iovec *iov, unsigned cnt)
{
	size_t t = 0;

	for (unsigned i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

static int fake_send(void *be, const struct iovec *iov, unsigned cnt)
{
	struct fbe *f = be;

	check_iov(f, iov, cnt);
	f->sends++;
	if (f->send_ret)
		return f->send_ret;
	if (f->nout == MAXQ)
		return 0;
	struct frame *o = &f->out[f->nout++];
	o->len = iov_total(iov, cnt);
	o->data = malloc(o->len ? o->len : 1);
	size_t at = 0;
	for (unsigned i = 0; i < cnt; i++) {
		memcpy(o->data + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	return 0;
}

static ssize_t fake_recv(void *be, const struct iovec *iov, unsigned cnt)
{
	struct fbe *f = be;

	check_iov(f, iov, cnt);
	f->recvs++;
	if (!f->in_count)
		return 0;
	struct frame *fr = &f->in[f->in_first % MAXQ];
	size_t room = iov_total(iov, cnt), at = 0;
	ssize_t ret = (ssize_t)fr->len;
	if (fr->len > room) {
		ret = -EMSGSIZE;
	} else {
		for (unsigned i = 0; i < cnt && at < fr->len; i++) {
			size_t take = fr->len - at < iov[i].iov_len ? fr->len - at : iov[i].iov_len;
			memcpy(iov[i].iov_base, fr->data + at, take);
			at += take;
		}
	}
	if (!f->endless) {
		free(fr->data);
		f->in_first++;
		f->in_count--;
	}
	return ret;
}

static void fake_rx_enable(void *be, bool on)
{
	struct fbe *f = be;

	f->on = on;
	if (on)
		f->enables++;
	else
		f->disables++;
}

static int fake_set_offloads(void *be, uint64_t g)
{
	struct fbe *f = be;

	f->offload_calls++;
	f->offloads = g;
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

/* Queue a frame of len bytes (vnet header included when the backend has
 * one) whose byte i is seed + i. */
static void fake_queue(struct fbe *f, size_t len, uint8_t seed)
{
	ck_assert_uint_lt(f->in_count, MAXQ);
	struct frame *fr = &f->in[(f->in_first + f->in_count++) % MAXQ];
	fr->len = len;
	fr->data = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		fr->data[i] = (uint8_t)(seed + i);
}

static void fake_free(struct fbe *f)
{
	while (f->in_count) {
		free(f->in[f->in_first++ % MAXQ].data);
		f->in_count--;
	}
	for (unsigned i = 0; i < f->nout; i++)
		free(f->out[i].data);
}

/* ---- Fixture: guest RAM, transport, device, two driver rings ---- */

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct irq_line irq;
	struct evloop loop;
	struct virtio_mmio t;
	struct net *n;
	struct fbe *be;
	struct vdrv rx, tx;
};

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

static uint64_t offered(struct fx *x)
{
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = rd(x, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(x, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void queue_up(struct fx *x, unsigned q, struct vdrv *d, uint64_t ring, uint16_t qsz)
{
	vdrv_init(d, &x->mem, qsz, ring);
	wr(x, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, qsz);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, d->desc);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, d->avail);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, d->used);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_up(struct fx *x, uint16_t qsz, uint64_t features)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	wr(x, VIRTIO_MMIO_STATUS, 0);
	wr(x, VIRTIO_MMIO_STATUS, s);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	queue_up(x, NET_RXQ, &x->rx, RXRING, qsz);
	queue_up(x, NET_TXQ, &x->tx, TXRING, qsz);
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK,
			  VIRTIO_STATUS_DRIVER_OK);
	virtio_mmio_poll_notify(&x->t, NET_RXQ);   /* the activation kicks */
	virtio_mmio_poll_notify(&x->t, NET_TXQ);
}

static struct fx *fx_new(unsigned hdr_len, uint64_t be_features, uint64_t features,
			 uint16_t qsz)
{
	struct fx *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	x->ram = aligned_alloc(4096, RAM_SIZE);
	memset(x->ram, 0, RAM_SIZE);
	ck_assert_int_eq(gmem_add(&x->mem, 0, RAM_SIZE, x->ram), 0);
	ck_assert_int_eq(irq_line_init(&x->irq, 5), 0);
	ck_assert_int_eq(evloop_init(&x->loop), 0);
	x->be = calloc(1, sizeof(*x->be));
	x->be->ram = x->ram;
	x->be->nb = (struct net_backend){ &fake_ops, x->be, hdr_len, be_features, "fake" };
	x->n = calloc(1, sizeof(*x->n));
	ck_assert_int_eq(net_init(x->n, &x->be->nb, mac), 0);
	ck_assert_int_eq(virtio_mmio_init(&x->t, &x->mem, &x->irq, &net_virtio_ops, x->n), 0);
	ck_assert_int_eq(virtio_mmio_attach(&x->t, &x->loop), 0);
	ck_assert_ptr_nonnull(x->be->host);
	if (features)
		driver_up(x, qsz, features);
	return x;
}

static void fx_free(struct fx *x)
{
	virtio_mmio_release(&x->t);
	ck_assert_ptr_null(x->be->host);        /* detached */
	net_release(x->n);
	evloop_release(&x->loop);
	irq_line_release(&x->irq);
	fake_free(x->be);
	free(x->be);
	free(x->n);
	free(x->ram);
	free(x);
}

static void kick_tx(struct fx *x)
{
	virtio_mmio_poll_notify(&x->t, NET_TXQ);
}

static void kick_rx(struct fx *x)
{
	virtio_mmio_poll_notify(&x->t, NET_RXQ);
}

static void rx_ready(struct fx *x)
{
	x->be->host->rx_ready(x->be->host->opaque);
}

static void fill(struct fx *x, uint64_t gpa, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		x->ram[gpa + i] = (uint8_t)(seed + i);
}

static bool is_pattern(const uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed + i))
			return false;
	return true;
}

static void expect_used(struct vdrv *d, uint16_t head, uint32_t len)
{
	uint32_t id, l;

	ck_assert(vdrv_get_used(d, &id, &l));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(l, len);
}

/* Post n receive chains of one writable buffer of len bytes each. */
static void post_rx(struct fx *x, unsigned n, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		struct vdrv_buf b = { RXBUF + (uint64_t)i * len, len, true };
		vdrv_add(&x->rx, &b, 1);
	}
}

/* ---- Config and features ---- */

START_TEST(config_space)
{
	struct fx *x = fx_new(HDR, 0, 0, 0);
	uint8_t cfg[12];

	for (unsigned i = 0; i < sizeof(cfg); i++) {
		uint8_t d[1] = { 0 };
		virtio_mmio_bus_ops.read(&x->t, VIRTIO_MMIO_CONFIG + i, d, 1);
		cfg[i] = d[0];
	}
	ck_assert_mem_eq(cfg, mac, 6);
	ck_assert_uint_eq(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(cfg[8] | cfg[9] | cfg[10] | cfg[11], 0);   /* no MQ */
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	uint64_t f = offered(x);
	ck_assert(f & BIT(VIRTIO_NET_F_MAC));
	ck_assert(f & BIT(VIRTIO_NET_F_STATUS));
	ck_assert(f & BIT(VIRTIO_NET_F_MRG_RXBUF));
	ck_assert(f & BIT(VIRTQ_F_EVENT_IDX));
	ck_assert(f & BIT(VIRTQ_F_INDIRECT_DESC));
	ck_assert(f & BIT(VIRTIO_F_VERSION_1));
	ck_assert(!(f & BIT(VIRTIO_NET_F_CSUM)));       /* the backend has none */
	ck_assert(!(f & BIT(22)) && !(f & BIT(17)));      /* no MQ, no CTRL_VQ */
	fx_free(x);
}
END_TEST

#define ALL_OFFLOADS (BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | \
		      BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) | \
		      BIT(VIRTIO_NET_F_GUEST_UFO) | BIT(VIRTIO_NET_F_HOST_TSO4) | \
		      BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_UFO))

START_TEST(offload_features)
{
	struct fx *x = fx_new(HDR, ALL_OFFLOADS, 0, 0);
	ck_assert_uint_eq(offered(x) & ALL_OFFLOADS, ALL_OFFLOADS);
	fx_free(x);

	/* No vnet header: no offloads, whatever the backend claims. */
	x = fx_new(0, ALL_OFFLOADS, 0, 0);
	ck_assert_uint_eq(offered(x) & ALL_OFFLOADS, 0);
	fx_free(x);

	/* Segmentation without its checksum offload is not offered. */
	x = fx_new(HDR, ALL_OFFLOADS & ~(BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_CSUM)),
		   0, 0);
	ck_assert_uint_eq(offered(x) & ALL_OFFLOADS, 0);
	fx_free(x);
}
END_TEST

START_TEST(set_offloads_follows_negotiation)
{
	uint64_t g = BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4);
	struct fx *x = fx_new(HDR, ALL_OFFLOADS, F_MRG | g | BIT(VIRTIO_NET_F_CSUM), 16);

	ck_assert_uint_eq(x->be->offloads, g);
	ck_assert_uint_eq(x->n->rx_need, HDR + NET_MAX_FRAME);
	ck_assert_uint_ge(x->be->enables, 1);   /* the activation kick */
	wr(x, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(x->be->offloads, 0);
	ck_assert(!x->be->on);
	/* A driver taking TSO without GUEST_CSUM: the backend gets nothing. */
	driver_up(x, 16, F_BASE | BIT(VIRTIO_NET_F_GUEST_TSO4));
	ck_assert_uint_eq(x->be->offloads, 0);
	ck_assert_uint_eq(x->n->rx_need, NET_RX_MIN_ROOM);
	fx_free(x);
}
END_TEST

START_TEST(bad_backend_refused)
{
	struct net *n = calloc(1, sizeof(*n));
	struct net_backend nb = { &fake_ops, NULL, 7, 0, "x" };
	struct net_backend_ops no_offl = fake_ops;

	ck_assert_int_eq(net_init(n, &nb, mac), -EINVAL);       /* hdr_len 7 */
	ck_assert_int_eq(n->kick_fd, -1);
	net_release(n);                                          /* safe after a failure */
	nb.hdr_len = HDR;
	ck_assert_int_eq(net_init(n, &nb, NULL), -EINVAL);
	no_offl.set_offloads = NULL;
	nb.ops = &no_offl;
	nb.features = BIT(VIRTIO_NET_F_CSUM);
	ck_assert_int_eq(net_init(n, &nb, mac), -EINVAL);
	nb.features = 0;
	ck_assert_int_eq(net_init(n, &nb, mac), 0);
	net_release(n);
	free(n);
}
END_TEST

/* ---- Transmit ---- */

static void tx_expect(struct fx *x, unsigned i, size_t len, uint8_t seed)
{
	ck_assert_uint_gt(x->be->nout, i);
	ck_assert_uint_eq(x->be->out[i].len, len);
	ck_assert(is_pattern(x->be->out[i].data, len, seed));
}

START_TEST(tx_header_split_and_joined)
{
	struct fx *x = fx_new(HDR, 0, F_BASE, 16);
	struct vdrv_buf split[] = { { TXBUF, HDR, false }, { TXBUF + HDR, 100, false } };
	struct vdrv_buf joined[] = { { TXBUF + 4096, HDR + 60, false } };
	/* Writable segments of a TX chain are ignored. */
	struct vdrv_buf odd[] = { { TXBUF + 8192, 5, false }, { TXBUF + 8197, 95, false },
				  { TXBUF + 9000, 64, true } };

	fill(x, TXBUF, HDR + 100, 1);
	fill(x, TXBUF + 4096, HDR + 60, 2);
	fill(x, TXBUF + 8192, 100, 3);
	uint16_t h1 = vdrv_add(&x->tx, split, 2);
	uint16_t h2 = vdrv_add(&x->tx, joined, 1);
	uint16_t h3 = vdrv_add(&x->tx, odd, 3);
	kick_tx(x);
	ck_assert_uint_eq(x->be->nout, 3);
	tx_expect(x, 0, HDR + 100, 1);
	tx_expect(x, 1, HDR + 60, 2);
	tx_expect(x, 2, 100, 3);
	expect_used(&x->tx, h1, 0);
	expect_used(&x->tx, h2, 0);
	expect_used(&x->tx, h3, 0);
	ck_assert_uint_eq(x->n->stats.tx_frames, 3);
	ck_assert_uint_eq(x->n->stats.tx_bytes, 100 + 60 + 88);
	fx_free(x);
}
END_TEST

/* A bare-frame backend gets the frame without the vnet header, however
 * the driver split the header. */
START_TEST(tx_no_vnet_header)
{
	struct fx *x = fx_new(0, 0, F_BASE, 16);
	struct vdrv_buf b[] = { { TXBUF, 7, false }, { TXBUF + 7, 5 + 40, false },
				{ TXBUF + 52, 30, false } };

	fill(x, TXBUF, 82, 9);
	uint16_t h = vdrv_add(&x->tx, b, 3);
	kick_tx(x);
	tx_expect(x, 0, 70, 9 + HDR);
	expect_used(&x->tx, h, 0);
	fx_free(x);
}
END_TEST

START_TEST(tx_bad_chains_dropped)
{
	struct fx *x = fx_new(HDR, 0, F_BASE | BIT(VIRTQ_F_INDIRECT_DESC), 16);
	struct vdrv_buf shrt[] = { { TXBUF, 10, false } };
	struct vdrv_buf hdr_only[] = { { TXBUF, HDR, false }, { TXBUF, 0, false } };
	struct vdrv_buf write_only[] = { { TXBUF, 100, true } };
	struct vdrv_buf big[] = { { TXBUF, HDR + NET_MAX_FRAME, false },
				  { TXBUF, 1, false } };
	struct vdrv_buf ok[] = { { TXBUF, HDR + NET_MAX_FRAME, false } };

	uint16_t h[5];
	h[0] = vdrv_add(&x->tx, shrt, 1);
	h[1] = vdrv_add(&x->tx, hdr_only, 2);
	h[2] = vdrv_add(&x->tx, write_only, 1);
	h[3] = vdrv_add(&x->tx, big, 2);
	h[4] = vdrv_add(&x->tx, ok, 1);
	kick_tx(x);
	for (unsigned i = 0; i < 5; i++)
		expect_used(&x->tx, h[i], 0);
	ck_assert_uint_eq(x->n->stats.tx_short, 3);
	ck_assert_uint_eq(x->n->stats.tx_too_big, 1);
	ck_assert_uint_eq(x->be->nout, 1);
	ck_assert_uint_eq(x->be->out[0].len, HDR + NET_MAX_FRAME);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	fx_free(x);
}
END_TEST

START_TEST(tx_eagain_resumes_on_tx_ready)
{
	struct fx *x = fx_new(HDR, 0, F_BASE, 16);
	uint16_t h[3];

	for (unsigned i = 0; i < 3; i++) {
		struct vdrv_buf b = { TXBUF + 256 * i, HDR + 50, false };
		fill(x, b.gpa, b.len, (uint8_t)(10 * i));
		h[i] = vdrv_add(&x->tx, &b, 1);
	}
	x->be->send_ret = -EAGAIN;
	kick_tx(x);
	ck_assert_uint_eq(x->be->sends, 1);
	ck_assert(x->n->tx_blocked);
	ck_assert_uint_eq(vdrv_used_idx(&x->tx), 0);
	kick_tx(x);                              /* waits for tx_ready: no retry */
	ck_assert_uint_eq(x->be->sends, 1);
	x->be->send_ret = 0;
	x->be->host->tx_ready(x->be->host->opaque);
	ck_assert_uint_eq(x->be->nout, 3);
	for (unsigned i = 0; i < 3; i++) {
		tx_expect(x, i, HDR + 50, (uint8_t)(10 * i));
		expect_used(&x->tx, h[i], 0);
	}
	ck_assert_uint_eq(x->n->stats.tx_eagain, 1);
	ck_assert_uint_eq(x->n->stats.tx_frames, 3);
	fx_free(x);
}
END_TEST

/* A backend error other than -EAGAIN loses the frame, as on a wire. */
START_TEST(tx_error_loses_frame)
{
	struct fx *x = fx_new(HDR, 0, F_BASE, 16);
	struct vdrv_buf b = { TXBUF, HDR + 50, false };

	x->be->send_ret = -EIO;
	uint16_t h = vdrv_add(&x->tx, &b, 1);
	kick_tx(x);
	expect_used(&x->tx, h, 0);
	ck_assert_uint_eq(x->n->stats.tx_errors, 1);
	ck_assert(!x->n->tx_blocked);
	fx_free(x);
}
END_TEST

/* ---- Receive ---- */

/* Mergeable buffers: a frame spread over chains whose first descriptor
 * ends inside the header, so num_buffers straddles two segments. */
START_TEST(rx_mergeable_across_descriptors)
{
	struct fx *x = fx_new(HDR, 0, F_MRG, 64);
	uint16_t h[20];

	for (unsigned i = 0; i < 20; i++) {
		uint64_t base = RXBUF + 4096 * i;
		struct vdrv_buf b[] = { { base, 11, true }, { base + 100, 96, true } };
		h[i] = vdrv_add(&x->rx, b, 2);
	}
	kick_rx(x);
	fake_queue(x->be, 300, 0x40);
	rx_ready(x);
	expect_used(&x->rx, h[0], 107);
	expect_used(&x->rx, h[1], 107);
	expect_used(&x->rx, h[2], 86);
	uint32_t id, len;
	ck_assert(!vdrv_get_used(&x->rx, &id, &len));
	/* Header: the backend's bytes, then num_buffers = 3 across the split. */
	ck_assert(is_pattern(x->ram + RXBUF, 10, 0x40));
	ck_assert_uint_eq(x->ram[RXBUF + 10], 3);
	ck_assert_uint_eq(x->ram[RXBUF + 100], 0);
	ck_assert(is_pattern(x->ram + RXBUF + 101, 95, 0x40 + 12));
	ck_assert(is_pattern(x->ram + RXBUF + 4096, 11, 0x40 + 107));
	ck_assert(is_pattern(x->ram + RXBUF + 8192 + 100, 75, (uint8_t)(0x40 + 225)));
	ck_assert_uint_eq(x->n->stats.rx_frames, 1);
	ck_assert_uint_eq(x->n->stats.rx_bytes, 300 - HDR);
	/* The unused chains went back: the next frame starts at h[3]. */
	fake_queue(x->be, 50, 1);
	rx_ready(x);
	expect_used(&x->rx, h[3], 50);
	ck_assert_uint_eq(x->ram[RXBUF + 3 * 4096 + 10], 1);
	ck_assert(x->be->on);
	fx_free(x);
}
END_TEST

/* A bare-frame backend: the device writes the header itself. */
START_TEST(rx_mergeable_no_vnet_header)
{
	struct fx *x = fx_new(0, 0, F_MRG, 64);

	memset(x->ram + RXBUF, 0xff, 64 * 1024);
	post_rx(x, 40, 64);
	fake_queue(x->be, 200, 5);               /* bare frame */
	fake_queue(x->be, 40, 6);
	rx_ready(x);
	uint8_t want[HDR] = { 0 };
	want[10] = 4;                            /* 212 bytes in 64-byte chains */
	ck_assert_mem_eq(x->ram + RXBUF, want, HDR);
	ck_assert(is_pattern(x->ram + RXBUF + HDR, 200, 5));
	uint32_t id, len;
	for (unsigned i = 0; i < 3; i++) {
		ck_assert(vdrv_get_used(&x->rx, &id, &len));
		ck_assert_uint_eq(len, 64);
	}
	expect_used(&x->rx, 3, 20);
	expect_used(&x->rx, 4, 52);
	want[10] = 1;
	ck_assert_mem_eq(x->ram + RXBUF + 4 * 64, want, HDR);
	ck_assert(is_pattern(x->ram + RXBUF + 4 * 64 + HDR, 40, 6));
	ck_assert_uint_eq(x->n->stats.rx_bytes, 240);
	fx_free(x);
}
END_TEST

/* Without MRG_RXBUF one chain holds a frame; too big is dropped, the
 * chain serves the next frame. */
START_TEST(rx_without_mergeable)
{
	struct fx *x = fx_new(HDR, 0, F_BASE, 16);
	struct vdrv_buf b[] = { { RXBUF, 5, true }, { RXBUF + 5, 2000, true } };

	uint16_t h1 = vdrv_add(&x->rx, b, 2);
	b[0].gpa = RXBUF + 4096;
	b[1].gpa = RXBUF + 4101;
	uint16_t h2 = vdrv_add(&x->rx, b, 2);
	fake_queue(x->be, 1000, 1);
	fake_queue(x->be, 3000, 2);              /* does not fit one chain */
	fake_queue(x->be, 2005, 3);              /* exactly fits */
	rx_ready(x);
	expect_used(&x->rx, h1, 1000);
	expect_used(&x->rx, h2, 2005);
	ck_assert_uint_eq(x->ram[RXBUF + 10], 1);
	ck_assert(is_pattern(x->ram + RXBUF + 12, 988, 1 + 12));
	ck_assert(is_pattern(x->ram + RXBUF + 4096 + 12, 1993, 3 + 12));
	ck_assert_uint_eq(x->n->stats.rx_too_big, 1);
	ck_assert_uint_eq(x->n->stats.rx_frames, 2);
	/* Ring empty: input off, nothing read that could not be delivered. */
	fake_queue(x->be, 100, 4);
	rx_ready(x);
	ck_assert(!x->be->on);
	ck_assert_uint_eq(x->be->in_count, 1);
	fx_free(x);
}
END_TEST

START_TEST(rx_bad_chains)
{
	struct fx *x = fx_new(HDR, 0, F_MRG, 64);
	struct vdrv_buf readable[] = { { RXBUF, 16, false }, { RXBUF + 16, 4000, true } };
	struct vdrv_buf tiny[] = { { RXBUF, 11, true } };

	uint16_t h1 = vdrv_add(&x->rx, readable, 2);
	uint16_t h2 = vdrv_add(&x->rx, tiny, 1);
	struct vdrv_buf good = { RXBUF + 8192, 4000, true };
	uint16_t h3 = vdrv_add(&x->rx, &good, 1);
	fake_queue(x->be, 60, 1);
	rx_ready(x);
	expect_used(&x->rx, h1, 0);
	expect_used(&x->rx, h2, 0);
	expect_used(&x->rx, h3, 60);
	ck_assert_uint_eq(x->n->stats.rx_bad_chain, 2);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	fx_free(x);
}
END_TEST

/* No receive room: input goes off, nothing is lost, and the guest's next
 * buffers bring it back. */
START_TEST(rx_backpressure)
{
	struct fx *x = fx_new(HDR, 0, F_MRG | BIT(VIRTQ_F_EVENT_IDX), 64);
	uint32_t id, len;

	/* The activation kick found no buffers. */
	ck_assert(!x->be->on);
	ck_assert_uint_eq(x->n->stats.rx_stalls, 1);
	ck_assert_uint_eq(vdrv_avail_event(&x->rx), 0);   /* notify on the next */
	for (unsigned i = 0; i < 5; i++)
		fake_queue(x->be, 100 + i, (uint8_t)i);
	rx_ready(x);                             /* a late event: still nothing */
	ck_assert_uint_eq(x->be->recvs, 0);
	/* Less room than a frame may need: still waiting, input off again. */
	unsigned disables = x->be->disables;
	post_rx(x, 1, 1000);
	kick_rx(x);
	ck_assert(!x->be->on);
	ck_assert_uint_eq(x->be->recvs, 0);
	ck_assert_uint_eq(x->be->enables, 2);
	ck_assert_uint_eq(x->be->disables, disables + 1);
	/* Room for three frames: each needs 1530 bytes of room to start. */
	post_rx(x, 3, 1000);
	kick_rx(x);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert(vdrv_get_used(&x->rx, &id, &len));
		ck_assert_uint_eq(len, 100 + i);
	}
	ck_assert(!vdrv_get_used(&x->rx, &id, &len));
	ck_assert(!x->be->on);
	ck_assert_uint_eq(x->be->in_count, 2);
	post_rx(x, 2, 1000);
	kick_rx(x);
	for (unsigned i = 3; i < 5; i++) {
		ck_assert(vdrv_get_used(&x->rx, &id, &len));
		ck_assert_uint_eq(len, 100 + i);
	}
	ck_assert_uint_eq(x->be->in_count, 0);
	ck_assert_uint_eq(x->n->stats.rx_frames, 5);
	ck_assert_uint_eq(x->n->stats.rx_too_big, 0);
	fx_free(x);
}
END_TEST

/* An endless stream the guest cannot take: each event handles at most
 * NET_BUDGET frames, then the device re-kicks itself on the loop. */
START_TEST(rx_budget_no_spin)
{
	struct fx *x = fx_new(HDR, 0, F_BASE, 16);

	post_rx(x, 1, 100);
	fake_queue(x->be, 5000, 1);
	x->be->endless = true;
	rx_ready(x);
	ck_assert_uint_eq(x->be->recvs, NET_BUDGET);
	ck_assert(x->n->rx_more);
	struct pollfd p = { .fd = x->n->kick_fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 1);
	net_poll(x->n);
	ck_assert_uint_eq(x->be->recvs, 2 * NET_BUDGET);
	x->be->endless = false;
	fx_free(x);
}
END_TEST

/* A guest publishing one TX chain many times: each is sent and used. */
START_TEST(tx_republished_head)
{
	struct fx *x = fx_new(HDR, 0, F_BASE, 16);
	struct vdrv_buf b = { TXBUF, HDR + 20, false };
	uint16_t h = vdrv_chain(&x->tx, &b, 1);

	for (unsigned i = 0; i < 16; i++)
		vdrv_publish(&x->tx, h);
	kick_tx(x);
	ck_assert_uint_eq(x->be->sends, 16);
	ck_assert_uint_eq(vdrv_used_idx(&x->tx), 16);
	ck_assert(!x->n->tx_more);
	fx_free(x);
}
END_TEST

START_TEST(reset_mid_traffic)
{
	struct fx *x = fx_new(HDR, 0, F_MRG, 16);

	post_rx(x, 4, 2000);
	fake_queue(x->be, 100, 1);
	rx_ready(x);
	x->be->send_ret = -EAGAIN;
	struct vdrv_buf b = { TXBUF, HDR + 20, false };
	vdrv_add(&x->tx, &b, 1);
	kick_tx(x);
	ck_assert(x->n->tx_blocked);
	/* Queue 0 reset by itself: the device holds nothing of it. */
	wr(x, VIRTIO_MMIO_QUEUE_SEL, NET_RXQ);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 0);
	fake_queue(x->be, 100, 2);
	rx_ready(x);
	ck_assert_uint_eq(x->be->in_count, 1);
	wr(x, VIRTIO_MMIO_STATUS, 0);
	ck_assert(!x->n->tx_blocked && !x->be->on);
	x->be->send_ret = 0;
	driver_up(x, 16, F_MRG);
	post_rx(x, 4, 2000);
	kick_rx(x);
	expect_used(&x->rx, 0, 100);
	vdrv_add(&x->tx, &b, 1);
	kick_tx(x);
	ck_assert_uint_eq(x->be->nout, 1);
	fx_free(x);
}
END_TEST

/* A broken ring asks for a reset rather than going on. */
START_TEST(broken_ring_needs_reset)
{
	struct fx *x = fx_new(HDR, 0, F_MRG, 16);

	vdrv_publish(&x->rx, 16);                /* head out of range */
	fake_queue(x->be, 100, 1);
	rx_ready(x);
	ck_assert(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(x->be->in_count, 1);
	fx_free(x);
}
END_TEST

/* ---- A hostile guest ---- */

/* A seeded generator (splitmix64): each seed replays the same run. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* Addresses and lengths a hostile guest likes: edges, or anything. */
static uint64_t bad_addr(uint64_t *s)
{
	static const uint64_t v[] = { 0, RAM_SIZE - 1, RAM_SIZE, RAM_SIZE - 16, UINT64_MAX,
				      UINT64_MAX - 15, 1ull << 63, RXRING, TXRING };

	if (below(s, 3) == 0)
		return v[below(s, sizeof(v) / sizeof(v[0]))];
	return RXBUF + below(s, RAM_SIZE - RXBUF);
}

static uint32_t bad_len(uint64_t *s)
{
	static const uint32_t v[] = { 0, 1, 11, 12, 13, 26, 1514, 1530, 4096, 65535,
				      HDR + NET_MAX_FRAME, HDR + NET_MAX_FRAME + 1,
				      0x7fffffff, 0xffffffff };

	if (below(s, 2) == 0)
		return v[below(s, sizeof(v) / sizeof(v[0]))];
	return (uint32_t)below(s, 5000);
}

static struct vdrv *some_ring(struct fx *x, uint64_t *s)
{
	return below(s, 2) ? &x->rx : &x->tx;
}

static void hostile_desc(struct fx *x, uint64_t *s)
{
	struct vdrv *d = some_ring(x, s);
	uint16_t flags = (uint16_t)below(s, 8);

	if (flags & VIRTQ_DESC_F_INDIRECT) {
		/* Point at a table of random entries. */
		uint32_t n = 1 + (uint32_t)below(s, 8);
		for (uint32_t i = 0; i < n; i++)
			drv_put_desc(d, TABLE + 16 * i, bad_addr(s), bad_len(s),
				     (uint16_t)below(s, 8), (uint16_t)below(s, n + 1));
		vdrv_set_desc(d, (uint16_t)below(s, d->size), TABLE,
			      below(s, 4) ? 16 * n : bad_len(s), flags, 0);
		return;
	}
	vdrv_set_desc(d, (uint16_t)below(s, d->size), bad_addr(s), bad_len(s), flags,
		      (uint16_t)below(s, d->size + 2));
}

/* A well-formed chain of 1..3 buffers, so that deep paths are reached. */
static void good_chain(struct fx *x, uint64_t *s, bool rx)
{
	struct vdrv_buf b[3];
	unsigned n = 1 + (unsigned)below(s, 3);
	uint64_t base = (rx ? RXBUF : TXBUF) + below(s, 64) * 4096;

	for (unsigned i = 0; i < n; i++)
		b[i] = (struct vdrv_buf){ base + 1600 * i, 1 + (uint32_t)below(s, 1600), rx };
	vdrv_add(rx ? &x->rx : &x->tx, b, n);
}

static void hostile_reset(struct fx *x, uint64_t *s)
{
	uint64_t f = F_BASE;

	if (below(s, 2))
		f |= BIT(VIRTIO_NET_F_MRG_RXBUF);
	f |= below(s, 2) ? BIT(VIRTQ_F_EVENT_IDX) : 0;
	f |= below(s, 2) ? BIT(VIRTQ_F_INDIRECT_DESC) : 0;
	f |= rnd(s) & offered(x) & ALL_OFFLOADS;
	driver_up(x, below(s, 2) ? 16 : 256, f);
}

static void hostile_step(struct fx *x, uint64_t *s)
{
	struct fbe *f = x->be;
	uint32_t id, len;

	switch (below(s, 14)) {
	case 0:
	case 1:
		hostile_desc(x, s);
		break;
	case 2: {
		struct vdrv *d = some_ring(x, s);
		vdrv_publish(d, (uint16_t)below(s, d->size + 2));
		break;
	}
	case 3:
		good_chain(x, s, true);
		break;
	case 4:
		good_chain(x, s, false);
		break;
	case 5:
		if (below(s, 8) == 0)
			vdrv_set_avail_idx(some_ring(x, s), (uint16_t)rnd(s));
		break;
	case 6:
		if (f->in_count < MAXQ)
			fake_queue(f, below(s, 4) ? below(s, 3000) : below(s, 70000), 1);
		break;
	case 7: {
		unsigned before = f->recvs;
		rx_ready(x);
		ck_assert_uint_le(f->recvs - before, NET_BUDGET);
		break;
	}
	case 8:
		kick_rx(x);
		break;
	case 9: {
		unsigned before = f->sends;
		kick_tx(x);
		ck_assert_uint_le(f->sends - before, NET_BUDGET);
		break;
	}
	case 10: {
		static const int rets[] = { 0, 0, -EAGAIN, -EIO };
		f->send_ret = rets[below(s, 4)];
		if (f->send_ret != -EAGAIN)
			f->host->tx_ready(f->host->opaque);
		break;
	}
	case 11:
		net_poll(x->n);
		break;
	case 12:
		while (vdrv_get_used(&x->rx, &id, &len) || vdrv_get_used(&x->tx, &id, &len))
			;
		break;
	default:
		if (below(s, 20) == 0) {
			hostile_reset(x, s);
		} else if (below(s, 10) == 0) {
			unsigned q = (unsigned)below(s, 2);
			wr(x, VIRTIO_MMIO_QUEUE_SEL, q);
			wr(x, VIRTIO_MMIO_QUEUE_READY, 0);
		}
		break;
	}
}

/* Whatever came before, a reset and a good driver make the device work. */
static void hostile_recover(struct fx *x)
{
	struct vdrv_buf tb = { TXBUF, HDR + 64, false };

	x->be->send_ret = 0;
	x->be->endless = false;
	fake_free(x->be);
	x->be->in_first = x->be->in_count = x->be->nout = 0;
	driver_up(x, 16, F_MRG);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	fill(x, TXBUF, HDR + 64, 7);
	vdrv_add(&x->tx, &tb, 1);
	kick_tx(x);
	ck_assert_uint_eq(x->be->nout, 1);
	post_rx(x, 4, 1024);
	kick_rx(x);
	fake_queue(x->be, x->be->nb.hdr_len + 80, 3);
	rx_ready(x);
	uint32_t id, len;
	ck_assert(vdrv_get_used(&x->rx, &id, &len));
	ck_assert_uint_eq(len, HDR + 80);
	ck_assert(x->be->on);
}

START_TEST(net_hostile)
{
	uint64_t seed = 0x6e6574ull + (uint64_t)_i, s = seed;
	unsigned hdr = below(&s, 3) ? HDR : 0;
	struct fx *x = fx_new(hdr, ALL_OFFLOADS, 0, 0);

	hostile_reset(x, &s);
	for (unsigned op = 0; op < 4000; op++)
		hostile_step(x, &s);
	hostile_recover(x);
	fx_free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("net");
	TCase *fz = tcase_create("hostile");

	tcase_add_test(tc, config_space);
	tcase_add_test(tc, offload_features);
	tcase_add_test(tc, set_offloads_follows_negotiation);
	tcase_add_test(tc, bad_backend_refused);
	tcase_add_test(tc, tx_header_split_and_joined);
	tcase_add_test(tc, tx_no_vnet_header);
	tcase_add_test(tc, tx_bad_chains_dropped);
	tcase_add_test(tc, tx_eagain_resumes_on_tx_ready);
	tcase_add_test(tc, tx_error_loses_frame);
	tcase_add_test(tc, rx_mergeable_across_descriptors);
	tcase_add_test(tc, rx_mergeable_no_vnet_header);
	tcase_add_test(tc, rx_without_mergeable);
	tcase_add_test(tc, rx_bad_chains);
	tcase_add_test(tc, rx_backpressure);
	tcase_add_test(tc, rx_budget_no_spin);
	tcase_add_test(tc, tx_republished_head);
	tcase_add_test(tc, reset_mid_traffic);
	tcase_add_test(tc, broken_ring_needs_reset);
	suite_add_tcase(s, tc);
	tcase_set_timeout(fz, 120);
	tcase_add_loop_test(fz, net_hostile, 0, 40);
	suite_add_tcase(s, fz);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
