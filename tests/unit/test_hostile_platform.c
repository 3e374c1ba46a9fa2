/*
 * The guest is hostile: randomized tests of the port I/O devices (16550A
 * uart, i8042, CMOS RTC, exit port, ACPI sleep/reset registers) and of the
 * bus itself. The devices sit on one port I/O bus, as in a VM, and take
 * random accesses of every width at and around their ports, interleaved
 * with host input for the uart. Small reference models say what each
 * access must do: bytes through the uart's FIFO in order, register
 * encodings, interrupt edges, and stop-hook calls only for the documented
 * values. The bus is checked against a flat address-to-owner array.
 *
 * Deterministic: MOTE_FUZZ_SEEDS=n, MOTE_FUZZ_SEED=s and MOTE_FUZZ_OPS=n
 * choose the runs, and a failure names the seed and the step.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/x86/layout.h"
#include "devices/x86/acpi_pm.h"
#include "devices/exit_port.h"
#include "devices/x86/i8042.h"
#include "devices/x86/rtc.h"
#include "devices/uart.h"
#include "tests/unit/fuzz_env.c"
#include "vmm/base/bus.h"
#include "vmm/base/irq.h"
#include "vmm/base/stop.h"

/* ck_assert writes a checkpoint to Check's pipe on every call: too slow
 * for the hot loop, which uses this and names the seed and step. */
#define fz_check(p, cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("seed %llu step %u: %s (line %d)",        \
				     (unsigned long long)(p)->seed, (p)->op, #cond, \
				     __LINE__);                                \
	} while (0)

/* ---- A seeded generator (splitmix64) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool one_in(struct rng *r, unsigned n)
{
	return below(r, n) == 0;
}

/* ---- Models ---- */

struct stop_log {
	unsigned calls, want;
	enum stop_reason why, want_why;
	int status, want_status;
};

/* The uart as the guest should see it. */
struct uart_model {
	uint8_t lcr, mcr, fcr, ier, scr, dll, dlm;
	uint8_t fifo[UART_FIFO_SIZE];
	unsigned head, count;
	bool overrun;              /* OE owed to the next LSR read */
	bool thre;                 /* THR-empty interrupt armed */
	bool owed;                 /* a refused uart_receive awaits rx_room */
	bool expect_tx;            /* the access must transmit tx_byte */
	uint8_t tx_byte;
	unsigned depth;            /* rx_room -> uart_receive nesting */
	unsigned rooms;            /* rx_room calls */
};

struct pf {
	uint64_t seed;
	unsigned op;
	struct rng rng;
	struct bus pio;
	struct stop_log log;
	struct irq_line irq;
	struct uart uart;
	struct uart_model um, um_before;
	struct i8042 kbc;
	struct rtc rtc;
	uint8_t cmos[RTC_CMOS_SIZE];
	struct exit_port exit;
	struct acpi_pm pm;
};

static void on_stop(void *opaque, enum stop_reason why, int status, const char *msg)
{
	struct stop_log *s = opaque;

	s->calls++;
	s->why = why;
	s->status = status;
}

static void expect_stop(struct pf *p, enum stop_reason why, int status)
{
	p->log.want++;
	p->log.want_why = why;
	p->log.want_status = status;
}

static void check_stops(struct pf *p)
{
	fz_check(p, p->log.calls == p->log.want);
	if (p->log.calls)
		fz_check(p, p->log.why == p->log.want_why && p->log.status == p->log.want_status);
}

/* ---- uart ---- */

static unsigned um_capacity(const struct uart_model *m)
{
	return (m->fcr & 0x01) ? UART_FIFO_SIZE : 1;
}

static bool um_loop(const struct uart_model *m)
{
	return m->mcr & 0x10;
}

static void um_push(struct uart_model *m, uint8_t b)
{
	if (m->count == um_capacity(m)) {
		m->overrun = true;
		return;
	}
	m->fifo[(m->head + m->count++) % UART_FIFO_SIZE] = b;
}

static void uart_feed(struct pf *p);

static void host_tx(void *opaque, uint8_t byte)
{
	struct pf *p = opaque;

	fz_check(p, p->um.expect_tx && byte == p->um.tx_byte);
	p->um.expect_tx = false;
}

/* Only after refused input, once the FIFO is empty; and the host may
 * answer at once with more input (we are outside the uart's lock). */
static void host_rx_room(void *opaque)
{
	struct pf *p = opaque;
	struct uart_model *m = &p->um;

	fz_check(p, m->owed && m->count == 0 && !um_loop(m));
	m->owed = false;
	m->rooms++;
	if (m->depth < 2 && one_in(&p->rng, 2)) {
		m->depth++;
		uart_feed(p);
		m->depth--;
	}
}

/* Host input: takes what fits, nothing in loopback. */
static void uart_feed(struct pf *p)
{
	struct uart_model *m = &p->um;
	uint8_t buf[24];
	size_t len = below(&p->rng, sizeof(buf) + 1);

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rnd(&p->rng);
	size_t room = um_loop(m) ? 0 : um_capacity(m) - m->count;
	size_t want = len < room ? len : room;
	for (size_t i = 0; i < want; i++)
		um_push(m, buf[i]);
	if (want < len)
		m->owed = true;
	fz_check(p, uart_receive(&p->uart, buf, len) == want);
}

static void um_write_fcr(struct uart_model *m, uint8_t v)
{
	if ((v ^ m->fcr) & 0x01)
		m->count = 0;
	if (!(v & 0x01)) {
		m->fcr = 0;
		return;
	}
	if (v & 0x02)
		m->count = 0;
	m->fcr = v & 0xc1;
}

static void um_write_thr(struct uart_model *m, uint8_t v)
{
	if (um_loop(m)) {
		um_push(m, v);
	} else {
		m->expect_tx = true;
		m->tx_byte = v;
	}
	m->thre = m->ier & 0x02;   /* sent at once: THR is empty again */
}

static void um_write_ier(struct uart_model *m, uint8_t v)
{
	/* Enabling ETBEI while THR is empty raises THRE at once. */
	m->thre = (v & 0x02) && (m->thre || !(m->ier & 0x02));
	m->ier = v & 0x0f;
}

/* Before a write reaches the uart: what it must do. */
static void um_write(struct uart_model *m, unsigned off, uint8_t v)
{
	bool dlab = m->lcr & 0x80;

	switch (off) {
	case 0:
		if (dlab)
			m->dll = v;
		else
			um_write_thr(m, v);
		break;
	case 1:
		if (dlab)
			m->dlm = v;
		else
			um_write_ier(m, v);
		break;
	case 2:
		um_write_fcr(m, v);
		break;
	case 3:
		m->lcr = v;
		break;
	case 4:
		m->mcr = v & 0x1f;
		break;
	case 7:
		m->scr = v;
		break;
	}
}

/* What IIR must say, by priority; -1 where the model cannot tell (modem
 * status changes are not modelled: "none" or "modem status"). */
static int um_iir_id(const struct uart_model *m)
{
	if ((m->ier & 0x04) && m->overrun)
		return 0x06;
	if ((m->ier & 0x01) && m->count)
		return 0x04;
	if ((m->ier & 0x02) && m->thre)
		return 0x02;
	return -1;
}

static void um_check_iir(struct pf *p, uint8_t v)
{
	const struct uart_model *m = &p->um_before;
	int want = um_iir_id(m);
	uint8_t id = v & 0x0f;

	fz_check(p, (v & 0x30) == 0);
	fz_check(p, (v & 0xc0) == ((m->fcr & 0x01) ? 0xc0 : 0));
	if (want >= 0)
		fz_check(p, id == want);
	else
		fz_check(p, id == 0x01 || (id == 0x00 && (m->ier & 0x08)));
}

static uint8_t um_modem_lines(const struct uart_model *m)
{
	if (!um_loop(m))
		return 0xb0;            /* CTS, DSR, DCD */
	return (m->mcr & 0x02 ? 0x10 : 0) | (m->mcr & 0x01 ? 0x20 : 0) |
	       (m->mcr & 0x04 ? 0x40 : 0) | (m->mcr & 0x08 ? 0x80 : 0);
}

/* Before a read reaches the uart: keep the state it reads from, and
 * apply what reading does (the uart may call rx_room before returning). */
static void um_pre_read(struct pf *p, unsigned off)
{
	struct uart_model *m = &p->um;

	p->um_before = *m;
	if (off == 0 && !(m->lcr & 0x80) && m->count) {
		m->head = (m->head + 1) % UART_FIFO_SIZE;
		m->count--;
	} else if (off == 5) {
		m->overrun = false;
	} else if (off == 2 && um_iir_id(m) == 0x02) {
		m->thre = false;           /* reading IIR acknowledges THRE */
	}
}

/* A read came back as v: is that what the model said? */
static void um_read(struct pf *p, unsigned off, uint8_t v)
{
	const struct uart_model *m = &p->um_before;
	bool dlab = m->lcr & 0x80;

	switch (off) {
	case 0:
		if (dlab)
			fz_check(p, v == m->dll);
		else
			fz_check(p, v == (m->count ? m->fifo[m->head] : 0));
		break;
	case 1:
		fz_check(p, v == (dlab ? m->dlm : m->ier));
		break;
	case 2:
		um_check_iir(p, v);
		break;
	case 3:
		fz_check(p, v == m->lcr);
		break;
	case 4:
		fz_check(p, v == m->mcr);
		break;
	case 5:
		fz_check(p, v == (0x60 | (m->overrun ? 0x02 : 0) | (m->count ? 0x01 : 0)));
		break;
	case 6:
		fz_check(p, (v & 0xf0) == um_modem_lines(m));
		break;
	default:
		fz_check(p, v == m->scr);
		break;
	}
}

/* What the interrupt output was before an operation. */
struct uart_snap {
	bool level;
	unsigned rooms;
};

static struct uart_snap uart_snap(const struct pf *p)
{
	return (struct uart_snap){ p->uart.irq_level, p->um.rooms };
}

/* Edges since the snapshot: one per rise of the output, none while it
 * stays up. rx_room may feed input, a second update in the same step. */
static void uart_check_edges(struct pf *p, struct uart_snap before)
{
	bool rise = !before.level && p->uart.irq_level;
	uint64_t edges = 0;

	if (read(p->irq.fd, &edges, sizeof(edges)) < 0)
		edges = 0;
	if (p->um.rooms == before.rooms)
		fz_check(p, edges == rise);
	else
		fz_check(p, edges >= rise && edges <= 2 && (!edges || p->uart.irq_level));
}

/* The uart's own state agrees with the model, and the interrupt output
 * is exactly "some enabled condition holds". */
static void uart_invariants(struct pf *p, struct uart_snap before)
{
	const struct uart *u = &p->uart;

	fz_check(p, u->rx_count == p->um.count && u->rx_count <= um_capacity(&p->um));
	fz_check(p, u->rx_head < UART_FIFO_SIZE);
	fz_check(p, u->ier <= 0x0f && u->mcr <= 0x1f && !(u->fcr & ~0xc1));
	fz_check(p, !p->um.expect_tx);
	fz_check(p, u->thre_pending == p->um.thre);
	bool cond = ((u->ier & 0x04) && u->lsr_err) || ((u->ier & 0x01) && u->rx_count) ||
		    ((u->ier & 0x02) && u->thre_pending) || ((u->ier & 0x08) && u->msr_delta);
	fz_check(p, u->irq_level == cond);
	uart_check_edges(p, before);
	/* Refused input must not be forgotten, or the console stalls. */
	fz_check(p, !(p->um.owed && p->um.count == 0 && !um_loop(&p->um)));
}

/* ---- i8042, RTC, ACPI PM, exit port: what a write must do ---- */

static void kbc_write(struct pf *p, unsigned off, uint8_t v)
{
	/* Documented: command 0xfe (any pulse with bit 0 low), or bit 0 of
	 * the output port cleared through command 0xd1. */
	if ((off == 4 && v >= 0xf0 && !(v & 1)) ||
	    (off == 0 && p->kbc.pending == 0xd1 && !(v & 1)))
		expect_stop(p, STOP_REBOOT, 0);
}

static void kbc_read(struct pf *p, unsigned off, uint8_t v)
{
	fz_check(p, p->kbc.out_count <= I8042_OUT_MAX && p->kbc.out_head < I8042_OUT_MAX);
	if (off == 4)
		fz_check(p, !(v & 0x02) && (v & 0x01) == (p->kbc.out_count > 0));
	else if (off == 2 || off == 3)
		fz_check(p, v == 0);
}

static void pm_write(struct pf *p, unsigned off, uint8_t v)
{
	if (off == 0 && (v & 0x20) && ((v >> 2) & 7) == ACPI_S5_SLP_TYP)
		expect_stop(p, STOP_POWEROFF, 0);
	else if (off == 2 && v == ACPI_RESET_VALUE)
		expect_stop(p, STOP_REBOOT, 0);
}

static void pm_read(struct pf *p, unsigned off, uint8_t v)
{
	fz_check(p, off == 1 ? !(v & 0x7f) : v == 0);
}

/* The clocks the RTC may be asked about: the epoch, Y2K, the last second
 * of 2099, and a leap day. (Its clock has no opaque, hence functions.) */
static time_t clock_epoch(time_t *t)
{
	return 0;
}

static time_t clock_y2k(time_t *t)
{
	return 946684799;
}

static time_t clock_2099(time_t *t)
{
	return 4102444799;
}

static time_t clock_leap(time_t *t)
{
	return 1709164800;
}

static time_t (*const clocks[])(time_t *) = { clock_epoch, clock_y2k, clock_2099, clock_leap };

static uint8_t rtc_encode(const struct pf *p, int v)
{
	return (p->rtc.reg_b & 0x04) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_clock_value(const struct tm *tm, uint8_t reg)
{
	switch (reg) {
	case 0x00: return tm->tm_sec;
	case 0x02: return tm->tm_min;
	case 0x04: return tm->tm_hour;
	case 0x06: return tm->tm_wday + 1;
	case 0x07: return tm->tm_mday;
	case 0x08: return tm->tm_mon + 1;
	case 0x09: return tm->tm_year % 100;
	case 0x32: return 19 + tm->tm_year / 100;
	default:   return -1;
	}
}

static void rtc_write(struct pf *p, unsigned off, uint8_t v)
{
	uint8_t idx = p->rtc.index;

	/* CMOS RAM keeps what is written; clock and status registers do not. */
	if (off == 1 && idx > 0x0d && idx != 0x32)
		p->cmos[idx] = v;
}

static void rtc_read(struct pf *p, unsigned off, uint8_t v)
{
	uint8_t idx = p->rtc.index;
	time_t now = p->rtc.now(NULL);
	struct tm tm;

	fz_check(p, idx < RTC_CMOS_SIZE);
	fz_check(p, (p->rtc.reg_b & ~0x04) == 0x02);
	if (off == 0) {
		fz_check(p, v == idx);
		return;
	}
	fz_check(p, gmtime_r(&now, &tm) != NULL);
	int clock = rtc_clock_value(&tm, idx);
	if (clock >= 0)
		fz_check(p, v == rtc_encode(p, clock));
	else if (idx == 0x0a || idx == 0x0c || idx == 0x0d)
		fz_check(p, v == (idx == 0x0a ? 0x26 : idx == 0x0d ? 0x80 : 0));
	else if (idx == 0x0b)
		fz_check(p, v == p->rtc.reg_b);
	else
		fz_check(p, v == p->cmos[idx]);
}

static void exit_write(struct pf *p, unsigned off, uint8_t v)
{
	expect_stop(p, STOP_GUEST_EXIT, v);
}

static void exit_read(struct pf *p, unsigned off, uint8_t v)
{
	fz_check(p, v == 0);
}

/* ---- The platform on one bus ---- */

struct dev {
	const char *name;
	uint16_t base, len;
	const struct bus_ops *ops;
	size_t field;             /* offsetof the device in struct pf */
	void (*write)(struct pf *p, unsigned off, uint8_t v);
	void (*pre_read)(struct pf *p, unsigned off);   /* optional */
	void (*read)(struct pf *p, unsigned off, uint8_t v);
};

static void uart_write_model(struct pf *p, unsigned off, uint8_t v)
{
	um_write(&p->um, off, v);
}

static const struct dev devs[] = {
	{ "com1", PORT_COM1, UART_NR_REGS, &uart_bus_ops, offsetof(struct pf, uart),
	  uart_write_model, um_pre_read, um_read },
	{ "i8042", PORT_I8042, I8042_NR_PORTS, &i8042_bus_ops, offsetof(struct pf, kbc),
	  kbc_write, NULL, kbc_read },
	{ "rtc", PORT_RTC, RTC_NR_PORTS, &rtc_bus_ops, offsetof(struct pf, rtc),
	  rtc_write, NULL, rtc_read },
	{ "exit", PORT_EXIT, 1, &exit_port_bus_ops, offsetof(struct pf, exit),
	  exit_write, NULL, exit_read },
	{ "acpi-pm", PORT_ACPI_SLEEP_CTL, ACPI_PM_NR_PORTS, &acpi_pm_bus_ops,
	  offsetof(struct pf, pm), pm_write, NULL, pm_read },
};

#define NDEVS (sizeof(devs) / sizeof(devs[0]))

static struct pf *pf_new(uint64_t seed)
{
	struct pf *p = calloc(1, sizeof(*p));
	struct stop_hook hook = { on_stop, &p->log };

	ck_assert_ptr_nonnull(p);
	p->seed = seed;
	p->rng.s = seed * 0x2545f4914f6cdd1dull;
	bus_init(&p->pio, "pio", 0xff);
	ck_assert_int_eq(irq_line_init(&p->irq, 4), 0);
	ck_assert_int_eq(uart_init(&p->uart, &p->irq), 0);
	uart_set_host(&p->uart, &(struct uart_host){ host_tx, host_rx_room, p });
	p->um.dll = 12;
	ck_assert_int_eq(i8042_init(&p->kbc, &hook), 0);
	ck_assert_int_eq(rtc_init(&p->rtc), 0);
	p->rtc.now = clocks[0];
	exit_port_init(&p->exit, &hook);
	acpi_pm_init(&p->pm, &hook);
	for (unsigned i = 0; i < NDEVS; i++)
		ck_assert_int_eq(bus_register(&p->pio, devs[i].base, devs[i].len, devs[i].ops,
					      (char *)p + devs[i].field, devs[i].name), 0);
	return p;
}

static void pf_free(struct pf *p)
{
	bus_release(&p->pio);
	uart_release(&p->uart);
	i8042_release(&p->kbc);
	rtc_release(&p->rtc);
	irq_line_release(&p->irq);
	free(p);
}

/* A value worth writing to a device register. */
static uint8_t pick_byte(struct pf *p, const struct dev *d, unsigned off)
{
	static const uint8_t v[] = {
		0x00, 0x01, 0x02, 0x03, 0x0f, 0x10, 0x1f, 0x20, 0x34, 0x5a, 0x60, 0x7f, 0x80,
		0x83, 0xaa, 0xc7, 0xd1, 0xd2, 0xd3, 0xf0, 0xfe, 0xff,
	};
	struct rng *r = &p->rng;

	static const uint8_t kbc_cmds[] = {
		0x20, 0x60, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xad, 0xae, 0xd0, 0xd1, 0xd2, 0xd3,
		0xd4, 0xf0, 0xfe, 0xff,
	};

	/* LCR: DLAB off and on often, so both register banks get used. */
	if (d == &devs[0] && off == 3 && one_in(r, 2))
		return one_in(r, 2) ? 0x03 : 0x83;   /* DLAB off, on */
	/* i8042 commands, enough of them to fill its output buffer. */
	if (d == &devs[1] && off == 4 && one_in(r, 2))
		return kbc_cmds[below(r, sizeof(kbc_cmds))];
	return one_in(r, 2) ? (uint8_t)rnd(r) : v[below(r, sizeof(v))];
}

/* A device to aim at. The exit port and the ACPI registers are picked
 * less often: most of what reaches them is a stop request. */
static const struct dev *pick_dev(struct rng *r)
{
	unsigned k = (unsigned)below(r, 32);

	return k < 30 ? &devs[k % 3] : &devs[3 + k % 2];
}

/* The device that must take [port, port+len), if any. */
static const struct dev *owner_of(uint16_t port, unsigned len)
{
	for (unsigned i = 0; i < NDEVS; i++)
		if (port >= devs[i].base && port + len <= (unsigned)devs[i].base + devs[i].len)
			return &devs[i];
	return NULL;
}

/* One access; the models say what must happen. */
static void pf_io(struct pf *p, uint16_t port, unsigned len, bool write, uint8_t *data)
{
	const struct dev *d = owner_of(port, len);
	unsigned off = d ? port - d->base : 0;
	struct uart_snap before = uart_snap(p);

	if (write) {
		if (d)
			d->write(p, off, data[0]);
		fz_check(p, bus_write(&p->pio, port, data, len) == (d != NULL));
	} else {
		if (d && d->pre_read)
			d->pre_read(p, off);
		fz_check(p, bus_read(&p->pio, port, data, len) == (d != NULL));
		if (d)
			d->read(p, off, data[0]);
		/* Devices answer with one byte; the bus fills the rest. */
		for (unsigned i = d ? 1 : 0; i < len; i++)
			fz_check(p, data[i] == (d ? 0 : 0xff));
	}
	check_stops(p);
	fz_check(p, p->kbc.out_count <= I8042_OUT_MAX && p->kbc.out_head < I8042_OUT_MAX);
	uart_invariants(p, before);
}

/* An access at or around a device, or anywhere, of any width. */
static void pf_access(struct pf *p)
{
	struct rng *r = &p->rng;
	const struct dev *d = pick_dev(r);
	uint16_t port = (uint16_t)(d->base + below(r, d->len + 2u) - 1);
	unsigned len = one_in(r, 4) ? 1u << below(r, 4) : 1;
	uint64_t v = rnd(r);
	uint8_t data[8];

	if (one_in(r, 16))
		port = (uint16_t)rnd(r);
	memcpy(data, &v, sizeof(data));
	d = owner_of(port, len);
	bool write = one_in(r, 2);
	if (write && d)
		data[0] = pick_byte(p, d, port - d->base);
	pf_io(p, port, len, write, data);
}

/* i8042 commands that answer, with nobody reading: the output buffer
 * fills up. */
static void pf_kbc_burst(struct pf *p)
{
	static const uint8_t answering[] = { 0x20, 0xa9, 0xaa, 0xab, 0xd0 };

	for (unsigned i = 0; i < 12; i++) {
		uint8_t data[8] = { answering[below(&p->rng, sizeof(answering))] };
		pf_io(p, PORT_I8042 + 4, 1, true, data);
	}
}

static void pf_step(struct pf *p)
{
	struct rng *r = &p->rng;

	if (one_in(r, 8)) {
		struct uart_snap before = uart_snap(p);
		uart_feed(p);
		uart_invariants(p, before);
	} else if (one_in(r, 64)) {
		p->rtc.now = clocks[below(r, 4)];
	} else if (one_in(r, 500)) {
		pf_kbc_burst(p);
	} else {
		pf_access(p);
	}
}

START_TEST(platform_random_io)
{
	struct pf *p = pf_new(first_seed + (unsigned)_i);

	for (p->op = 0; p->op < nr_ops; p->op++)
		pf_step(p);
	pf_free(p);
}
END_TEST

/* ---- The bus against a flat array ---- */

/*
 * Two windows of the 64-bit space are modelled byte by byte: the bottom
 * and the top, where "base + len" wraps. Registrations land in either,
 * sometimes spanning the gap between them; overlap is decided on the
 * registered intervals, lookups on the arrays.
 */
#define WIN 512

struct breg {
	uint64_t base, len;
};

struct bfx;

struct bdev {
	struct bfx *b;
	int id;
};

struct bfx {
	uint64_t seed;
	unsigned op;
	struct rng rng;
	struct bus bus;
	struct breg regs[64];
	const struct bus_ops *ops[64];
	struct bdev dev[64];
	unsigned nregs;
	int16_t owner[2][WIN];     /* registration index, or -1 */
	/* What the devices saw. */
	int hit;
	uint64_t hit_off;
	unsigned hit_len;
};

static void bdev_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct bdev *d = opaque;

	for (unsigned i = 0; i < len; i++)
		fz_check(d->b, data[i] == 0);     /* zeroed by the bus */
	d->b->hit = d->id;
	d->b->hit_off = off;
	d->b->hit_len = len;
	for (unsigned i = 0; i < len; i++)
		data[i] = (uint8_t)(d->id * 16 + off + i);
}

static void bdev_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct bdev *d = opaque;

	d->b->hit = d->id;
	d->b->hit_off = off;
	d->b->hit_len = len;
}

static const struct bus_ops bdev_ops = { bdev_read, bdev_write };
static const struct bus_ops bdev_ops_no_read = { NULL, bdev_write };

static uint64_t win_addr(unsigned w, unsigned i)
{
	return w ? UINT64_MAX - (WIN - 1) + i : i;
}

static int owner_at(const struct bfx *b, uint64_t a)
{
	if (a < WIN)
		return b->owner[0][a];
	if (a >= UINT64_MAX - (WIN - 1))
		return b->owner[1][a - (UINT64_MAX - (WIN - 1))];
	return -2;               /* outside the windows: never asked */
}

/* bus_register's contract, in arithmetic that cannot wrap. */
static int ref_register(const struct bfx *b, uint64_t base, uint64_t len)
{
	unsigned __int128 end = (unsigned __int128)base + len;

	if (len == 0 || end > UINT64_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < b->nregs; i++)
		if (base < (unsigned __int128)b->regs[i].base + b->regs[i].len &&
		    b->regs[i].base < end)
			return -EEXIST;
	return 0;
}

static uint64_t pick_bus_addr(struct bfx *b)
{
	struct rng *r = &b->rng;

	return win_addr(one_in(r, 3), (unsigned)below(r, WIN));
}

static uint64_t pick_bus_len(struct rng *r)
{
	switch (below(r, 8)) {
	case 0:
		return rnd(r) >> below(r, 64);    /* anything, often huge */
	case 1:
		return 0;
	default:
		return 1 + below(r, 24);
	}
}

static void bfx_reset(struct bfx *b)
{
	bus_release(&b->bus);
	bus_init(&b->bus, "bus", one_in(&b->rng, 2) ? 0xff : 0);
	b->nregs = 0;
	memset(b->owner, 0xff, sizeof(b->owner));
}

static void bfx_register(struct bfx *b)
{
	struct rng *r = &b->rng;
	uint64_t base = pick_bus_addr(b), len = pick_bus_len(r);
	const struct bus_ops *ops = one_in(r, 4) ? &bdev_ops_no_read : &bdev_ops;

	if (one_in(r, 50))
		fz_check(b, bus_register(&b->bus, base, len, NULL, NULL, "none") == -EINVAL);
	if (b->nregs == 64)
		return;
	int want = ref_register(b, base, len);
	b->dev[b->nregs] = (struct bdev){ b, (int)b->nregs };
	fz_check(b, bus_register(&b->bus, base, len, ops, &b->dev[b->nregs], "dev") == want);
	if (want)
		return;
	b->regs[b->nregs] = (struct breg){ base, len };
	b->ops[b->nregs] = ops;
	for (unsigned w = 0; w < 2; w++)
		for (unsigned i = 0; i < WIN; i++) {
			uint64_t a = win_addr(w, i);
			if (a >= base && a - base < len)
				b->owner[w][i] = (int16_t)b->nregs;
		}
	b->nregs++;
	for (size_t i = 1; i < b->bus.nr; i++)  /* sorted, disjoint */
		fz_check(b, b->bus.ranges[i - 1].base + b->bus.ranges[i - 1].len <=
			    b->bus.ranges[i].base);
}

/* Who should take [addr, addr+len): the one owner of every byte, or -1. */
static int ref_lookup(const struct bfx *b, uint64_t addr, unsigned len)
{
	int o = owner_at(b, addr);

	for (unsigned i = 1; i < len; i++)
		if (addr + i < addr || owner_at(b, addr + i) != o)
			return -1;
	return o;
}

/* The device's answer, or nothing, as the model says. */
static void bfx_check(struct bfx *b, int want, bool write, uint64_t addr, unsigned len,
		      const uint8_t *data)
{
	if (want < 0) {
		fz_check(b, b->hit == -1);
		for (unsigned i = 0; !write && i < len; i++)
			fz_check(b, data[i] == b->bus.fill);
		return;
	}
	uint64_t off = addr - b->regs[want].base;
	bool silent = !write && b->ops[want] == &bdev_ops_no_read;
	fz_check(b, b->hit == (silent ? -1 : want));
	if (!silent)
		fz_check(b, b->hit_off == off && b->hit_len == len);
	for (unsigned i = 0; !write && i < len; i++)
		fz_check(b, data[i] == (silent ? 0 : (uint8_t)(want * 16 + off + i)));
}

static void bfx_access(struct bfx *b)
{
	struct rng *r = &b->rng;
	uint64_t addr = pick_bus_addr(b);
	unsigned len = 1u << below(r, 4);
	uint8_t data[8];
	bool write = one_in(r, 2);
	uint64_t *unhandled = write ? &b->bus.unhandled_writes : &b->bus.unhandled_reads;
	uint64_t before = *unhandled;

	if (addr < WIN && addr + len > WIN)
		addr = WIN - len;         /* stay where the model knows */
	int want = ref_lookup(b, addr, len);
	b->hit = -1;
	memset(data, 0xcc, sizeof(data));
	bool got = write ? bus_write(&b->bus, addr, data, len) : bus_read(&b->bus, addr, data, len);
	fz_check(b, got == (want >= 0));
	fz_check(b, *unhandled == before + (want < 0));
	if (want < 0)
		fz_check(b, b->bus.last_unhandled_addr == addr);
	bfx_check(b, want, write, addr, len, data);
}

START_TEST(bus_reference)
{
	struct bfx *b = calloc(1, sizeof(*b));

	ck_assert_ptr_nonnull(b);
	b->seed = first_seed + (unsigned)_i;
	b->rng.s = b->seed * 0x2545f4914f6cdd1dull;
	for (b->op = 0; b->op < nr_ops; b->op++) {
		/* A fresh bus now and then, with a new set of devices. */
		if (b->op % 2000 == 0)
			bfx_reset(b);
		if (one_in(&b->rng, 20))
			bfx_register(b);
		else
			bfx_access(b);
	}
	bus_release(&b->bus);
	free(b);
}
END_TEST

int main(void)
{
	fuzz_env_load();

	Suite *s = suite_create("hostile-platform");
	TCase *dev = tcase_create("devices");
	TCase *bus = tcase_create("bus");

	tcase_add_loop_test(dev, platform_random_io, 0, (int)nr_seeds);
	tcase_add_loop_test(bus, bus_reference, 0, (int)nr_seeds);
	tcase_set_timeout(dev, 120);
	tcase_set_timeout(bus, 120);
	suite_add_tcase(s, fuzz_env_tcase());
	suite_add_tcase(s, dev);
	suite_add_tcase(s, bus);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
