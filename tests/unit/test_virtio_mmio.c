/* Unit tests for virtio/mmio.c: the register file, status state machine,
 * feature negotiation, queue setup, notifications and interrupts, driven
 * through the bus ops with a fake device behind the transport. */
#include "tests/unit/virtq_driver.c"
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/base/irq.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM_SIZE (128 * 1024)
#define QSZ      8
#define DEV_FEATURES (VIRTIO_BIT(3) | VIRTIO_BIT(VIRTQ_F_EVENT_IDX))

/* The fake device: records what the transport asked of it, and echoes
 * every popped chain back with its write_len. */
struct fake {
	const struct virtio_host *host;
	struct virtq *qs;
	uint64_t features;
	int activations, resets, notifies, attaches, detaches;
	int activate_ret;
	uint8_t config[8];
	struct virtq_chain c;
};

static uint64_t fake_features(void *dev)
{
	return DEV_FEATURES;
}

static void fake_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	struct fake *f = dev;

	if (off <= sizeof(f->config) && len <= sizeof(f->config) - off)
		memcpy(data, f->config + off, len);
}

static void fake_config_write(void *dev, uint32_t off, const uint8_t *data, unsigned len)
{
	struct fake *f = dev;

	if (off <= sizeof(f->config) && len <= sizeof(f->config) - off)
		memcpy(f->config + off, data, len);
}

static int fake_attach(void *dev, const struct virtio_host *host, struct evloop *loop)
{
	struct fake *f = dev;

	f->host = host;
	f->attaches++;
	return 0;
}

static void fake_detach(void *dev, struct evloop *loop)
{
	((struct fake *)dev)->detaches++;
}

static int fake_activate(void *dev, struct virtq *qs, uint64_t features)
{
	struct fake *f = dev;

	f->qs = qs;
	f->features = features;
	f->activations++;
	return f->activate_ret;
}

static void fake_reset(void *dev)
{
	struct fake *f = dev;

	f->qs = NULL;
	f->resets++;
}

static void fake_notify(void *dev, unsigned q)
{
	struct fake *f = dev;
	int n;

	f->notifies++;
	while ((n = virtq_pop(&f->qs[q], &f->c)) > 0)
		ck_assert_int_eq(virtq_push(&f->qs[q], f->c.head, f->c.write_len), 0);
	if (n < 0)
		virtio_host_needs_reset(f->host);
	virtio_host_signal_used(f->host, q);
}

static const struct virtio_dev_ops fake_ops = {
	.name = "fake",
	.device_id = 42,
	.num_queues = 2,
	.queue_max = QSZ,
	.features = fake_features,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.attach = fake_attach,
	.detach = fake_detach,
	.activate = fake_activate,
	.reset = fake_reset,
	.queue_notify = fake_notify,
};

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct irq_line irq;
	struct evloop loop;
	struct virtio_mmio t;
	struct fake dev;
	struct vdrv drv[2];
};

static struct fx *fx_new(void)
{
	struct fx *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	x->ram = aligned_alloc(4096, RAM_SIZE);
	memset(x->ram, 0, RAM_SIZE);
	ck_assert_int_eq(gmem_add(&x->mem, 0x100000, RAM_SIZE, x->ram), 0);
	ck_assert_int_eq(irq_line_init(&x->irq, 5), 0);
	ck_assert_int_eq(evloop_init(&x->loop), 0);
	ck_assert_int_eq(virtio_mmio_init(&x->t, &x->mem, &x->irq, &fake_ops, &x->dev), 0);
	ck_assert_int_eq(virtio_mmio_attach(&x->t, &x->loop), 0);
	ck_assert_ptr_eq(x->dev.host, &x->t.host);
	return x;
}

static void fx_free(struct fx *x)
{
	virtio_mmio_release(&x->t);
	ck_assert_int_eq(x->dev.detaches, 1);
	evloop_release(&x->loop);
	irq_line_release(&x->irq);
	free(x->ram);
	free(x);
}

static uint32_t rd(struct fx *x, uint64_t off)
{
	uint8_t b[4] = { 0 };
	uint32_t v;

	virtio_mmio_bus_ops.read(&x->t, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

static void wr(struct fx *x, uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(&x->t, off, (const uint8_t *)&v, 4);
}

/* Edges delivered on the interrupt line since the last call. */
static uint64_t edges(struct fx *x)
{
	uint64_t n = 0;

	if (read(x->irq.fd, &n, sizeof(n)) < 0)
		return 0;
	return n;
}

static bool notify_pending(struct fx *x, unsigned q)
{
	uint64_t n;
	int fd = virtio_mmio_notify_fd(&x->t, q);

	if (read(fd, &n, sizeof(n)) < 0)
		return false;
	/* Put it back: the transport drains it itself. */
	ck_assert_int_eq(write(fd, &n, sizeof(n)), sizeof(n));
	return true;
}

static void negotiate(struct fx *x, uint64_t features)
{
	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK);
}

static void setup_queue(struct fx *x, unsigned q, uint64_t base)
{
	struct vdrv *d = &x->drv[q];

	vdrv_init(d, &x->mem, QSZ, base);
	wr(x, VIRTIO_MMIO_QUEUE_SEL, q);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_NUM_MAX), QSZ);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)d->desc);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_HIGH, d->desc >> 32);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)d->avail);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, d->avail >> 32);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)d->used);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, d->used >> 32);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
}

#define ALL_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

/* The whole Linux probe sequence, ending live. */
static void bring_up(struct fx *x)
{
	int activations = x->dev.activations;

	negotiate(x, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTQ_F_EVENT_IDX));
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK,
			  VIRTIO_STATUS_FEATURES_OK);
	setup_queue(x, 0, 0x100000);
	setup_queue(x, 1, 0x101000);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 1);
	wr(x, VIRTIO_MMIO_STATUS, ALL_OK);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS), ALL_OK);
	ck_assert_int_eq(x->dev.activations, activations + 1);
}

START_TEST(identity_registers)
{
	struct fx *x = fx_new();

	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_DEVICE_ID), 42);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	ck_assert_uint_eq(virtio_mmio_num_queues(&x->t), 2);
	ck_assert_int_ge(virtio_mmio_notify_fd(&x->t, 1), 0);
	ck_assert_int_eq(virtio_mmio_notify_fd(&x->t, 2), -1);
	/* Registers only answer aligned 32-bit accesses. */
	uint8_t b[2] = { 0xaa, 0xaa };
	virtio_mmio_bus_ops.read(&x->t, VIRTIO_MMIO_MAGIC_VALUE, b, 2);
	ck_assert_uint_eq(b[0], 0xaa);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_MAGIC_VALUE + 2), 0);
	fx_free(x);
}
END_TEST

START_TEST(device_features_offered)
{
	struct fx *x = fx_new();

	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)DEV_FEATURES);
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_DEVICE_FEATURES), 1);   /* VERSION_1 */
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	fx_free(x);
}
END_TEST

START_TEST(features_ok_requires_version_1)
{
	struct fx *x = fx_new();

	negotiate(x, VIRTIO_BIT(3));
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
	fx_free(x);
}
END_TEST

START_TEST(features_ok_refuses_unoffered)
{
	struct fx *x = fx_new();

	negotiate(x, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(4));
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
	/* Retrying with an acceptable set works. */
	negotiate(x, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(3));
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK,
			  VIRTIO_STATUS_FEATURES_OK);
	/* Frozen afterwards. */
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	ck_assert_uint_eq(x->t.driver_features, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(3));
	fx_free(x);
}
END_TEST

START_TEST(driver_ok_activates)
{
	struct fx *x = fx_new();

	bring_up(x);
	ck_assert_uint_eq(x->dev.features,
			  VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTQ_F_EVENT_IDX));
	ck_assert_ptr_eq(x->dev.qs, x->t.vq);
	ck_assert(x->t.vq[0].ready && x->t.vq[0].event_idx);
	/* Activation kicks the ready queues onto the evloop thread. */
	ck_assert(notify_pending(x, 0));
	ck_assert(notify_pending(x, 1));
	fx_free(x);
}
END_TEST

START_TEST(driver_ok_without_features_ok)
{
	struct fx *x = fx_new();

	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_DRIVER_OK);
	ck_assert_int_eq(x->dev.activations, 0);
	uint32_t s = rd(x, VIRTIO_MMIO_STATUS);
	ck_assert_uint_eq(s & VIRTIO_STATUS_DRIVER_OK, 0);
	ck_assert_uint_eq(s & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	fx_free(x);
}
END_TEST

/* One status write with FEATURES_OK and DRIVER_OK, over features the
 * device refuses (no VERSION_1): FEATURES_OK is refused, so the device
 * must not go live either. */
START_TEST(driver_ok_with_refused_features_in_one_write)
{
	struct fx *x = fx_new();

	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)VIRTIO_BIT(3));
	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_int_eq(x->dev.activations, 0);
	uint32_t s = rd(x, VIRTIO_MMIO_STATUS);
	ck_assert_uint_eq(s & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK), 0);
	ck_assert_uint_eq(s & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	fx_free(x);
}
END_TEST

START_TEST(activate_failure_needs_reset)
{
	struct fx *x = fx_new();

	x->dev.activate_ret = -EIO;
	negotiate(x, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	setup_queue(x, 0, 0x100000);
	wr(x, VIRTIO_MMIO_STATUS, ALL_OK);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(edges(x), 1);
	/* Not active: notifications do not reach the device. */
	virtio_mmio_poll_notify(&x->t, 0);
	ck_assert_int_eq(x->dev.notifies, 0);
	fx_free(x);
}
END_TEST

START_TEST(queue_setup_checks)
{
	struct fx *x = fx_new();

	/* Before FEATURES_OK a queue cannot go live. */
	setup_queue(x, 0, 0x100000);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_NEEDS_RESET);
	wr(x, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS), 0);

	negotiate(x, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr(x, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, 6);                     /* not a power of 2 */
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x100000);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x100400);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x100800);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, 2 * QSZ);               /* above QueueNumMax */
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 1);             /* outside RAM */
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 1);
	/* A live queue's registers are frozen. */
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x200000);
	ck_assert_uint_eq(x->t.vq[0].desc_gpa, 0x100000);
	ck_assert_uint_eq(x->t.qregs[0].desc, 0x100000);
	/* Queues beyond the device's count do not exist. */
	wr(x, VIRTIO_MMIO_QUEUE_SEL, 2);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(x, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, 4);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	fx_free(x);
}
END_TEST

START_TEST(notify_and_interrupt)
{
	struct fx *x = fx_new();
	struct vdrv_buf b[] = { { 0x110000, 16, false }, { 0x110100, 64, true } };
	uint32_t id, len;

	bring_up(x);
	virtio_mmio_poll_notify(&x->t, 0);     /* consume the activation kick */
	virtio_mmio_poll_notify(&x->t, 1);
	ck_assert_uint_eq(edges(x), 0);

	uint16_t head = vdrv_add(&x->drv[0], b, 2);
	wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, 0);    /* the bus path: signal only */
	int before = x->dev.notifies;
	ck_assert(notify_pending(x, 0));
	ck_assert(!notify_pending(x, 1));
	ck_assert_int_eq(x->dev.notifies, before);
	virtio_mmio_poll_notify(&x->t, 0);     /* what the evloop would run */
	ck_assert_int_eq(x->dev.notifies, before + 1);
	ck_assert(!notify_pending(x, 0));
	ck_assert(vdrv_get_used(&x->drv[0], &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 64);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(edges(x), 1);

	/* Bit still set: another used buffer still sends an edge, in case
	 * the last one was lost to a masked pin. */
	vdrv_set_used_event(&x->drv[0], 1);
	vdrv_add(&x->drv[0], b, 2);
	virtio_mmio_poll_notify(&x->t, 0);
	ck_assert_uint_eq(edges(x), 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(x, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* EVENT_IDX: used_event far ahead suppresses the interrupt. */
	vdrv_set_used_event(&x->drv[0], 100);
	vdrv_add(&x->drv[0], b, 2);
	virtio_mmio_poll_notify(&x->t, 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(edges(x), 0);
	/* Out-of-range queue numbers are ignored. */
	wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	fx_free(x);
}
END_TEST

START_TEST(broken_queue_needs_reset)
{
	struct fx *x = fx_new();

	bring_up(x);
	virtio_mmio_poll_notify(&x->t, 0);
	vdrv_publish(&x->drv[0], QSZ);         /* head out of range */
	virtio_mmio_poll_notify(&x->t, 0);
	uint32_t s = rd(x, VIRTIO_MMIO_STATUS);
	ck_assert_uint_eq(s, ALL_OK | VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG,
			  VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_ge(edges(x), 1);
	/* The driver cannot clear it, only reset. */
	wr(x, VIRTIO_MMIO_STATUS, ALL_OK);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS), s);
	wr(x, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS), 0);
	fx_free(x);
}
END_TEST

START_TEST(reset_clears_everything)
{
	struct fx *x = fx_new();

	bring_up(x);
	virtio_mmio_config_changed(&x->t);
	ck_assert_uint_ne(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	int resets = x->dev.resets;
	wr(x, VIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(x->dev.resets, resets + 1);
	ck_assert_ptr_null(x->dev.qs);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(x->t.driver_features, 0);
	for (unsigned q = 0; q < 2; q++) {
		wr(x, VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_READY), 0);
	}
	/* A stale notification after reset does not reach the device. */
	int n = x->dev.notifies;
	virtio_mmio_poll_notify(&x->t, 0);
	ck_assert_int_eq(x->dev.notifies, n);
	/* And the device can be brought up again. */
	bring_up(x);
	ck_assert_int_eq(x->dev.activations, 2);
	fx_free(x);
}
END_TEST

START_TEST(config_space)
{
	struct fx *x = fx_new();

	memcpy(x->dev.config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG + 4), 0x08070605);
	uint8_t b = 0;
	virtio_mmio_bus_ops.read(&x->t, VIRTIO_MMIO_CONFIG + 1, &b, 1);
	ck_assert_uint_eq(b, 2);
	uint8_t v = 0x99;
	virtio_mmio_bus_ops.write(&x->t, VIRTIO_MMIO_CONFIG + 3, &v, 1);
	ck_assert_uint_eq(x->dev.config[3], 0x99);
	/* Beyond the device's config: zeroes, not a crash. */
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG + 0xfc), 0);

	uint32_t gen = rd(x, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_mmio_config_changed(&x->t);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(edges(x), 1);
	fx_free(x);
}
END_TEST

START_TEST(init_rejects_bad_ops)
{
	struct fx *x = fx_new();
	struct virtio_mmio t;
	struct virtio_dev_ops ops = fake_ops;

	ops.num_queues = 0;
	ck_assert_int_eq(virtio_mmio_init(&t, &x->mem, &x->irq, &ops, &x->dev), -EINVAL);
	virtio_mmio_release(&t);              /* harmless after a failed init */
	ops = fake_ops;
	ops.queue_max = 12;
	ck_assert_int_eq(virtio_mmio_init(&t, &x->mem, &x->irq, &ops, &x->dev), -EINVAL);
	ops = fake_ops;
	ops.num_queues = VIRTIO_MMIO_MAX_QUEUES + 1;
	ck_assert_int_eq(virtio_mmio_init(&t, &x->mem, &x->irq, &ops, &x->dev), -EINVAL);
	fx_free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_mmio");
	TCase *tc = tcase_create("virtio_mmio");

	tcase_add_test(tc, identity_registers);
	tcase_add_test(tc, device_features_offered);
	tcase_add_test(tc, features_ok_requires_version_1);
	tcase_add_test(tc, features_ok_refuses_unoffered);
	tcase_add_test(tc, driver_ok_activates);
	tcase_add_test(tc, driver_ok_without_features_ok);
	tcase_add_test(tc, driver_ok_with_refused_features_in_one_write);
	tcase_add_test(tc, activate_failure_needs_reset);
	tcase_add_test(tc, queue_setup_checks);
	tcase_add_test(tc, notify_and_interrupt);
	tcase_add_test(tc, broken_queue_needs_reset);
	tcase_add_test(tc, reset_clears_everything);
	tcase_add_test(tc, config_space);
	tcase_add_test(tc, init_rejects_bad_ops);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
