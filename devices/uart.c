/*
 * 16550A register model. Behaviour follows the National Semiconductor
 * PC16550D datasheet, plus what Linux's 8250 driver checks at probe and
 * startup: IER keeps only its low nibble, loopback maps MCR onto MSR and
 * THR onto RBR, IIR reports FIFO mode in bits 6-7 and never sets bits 4-5,
 * and enabling the THR-empty interrupt while THR is empty raises it.
 */
#include "devices/uart.h"

#include <errno.h>
#include <string.h>

#include "vmm/base/bus.h"
#include "vmm/base/irq.h"

enum {
	REG_RBR_THR_DLL = 0, REG_IER_DLM, REG_IIR_FCR, REG_LCR, REG_MCR,
	REG_LSR, REG_MSR, REG_SCR,
};

#define IER_ERBFI   0x01   /* received data available */
#define IER_ETBEI   0x02   /* THR empty */
#define IER_ELSI    0x04   /* receiver line status */
#define IER_EDSSI   0x08   /* modem status */
#define IER_MASK    0x0f

#define IIR_NONE    0x01
#define IIR_MS      0x00
#define IIR_THRE    0x02
#define IIR_RDA     0x04
#define IIR_RLS     0x06
#define IIR_FIFO    0xc0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_TRIGGER  0xc0  /* stored; every byte counts as reaching it */

#define LCR_DLAB    0x80

#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define MCR_MASK    0x1f

#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_ERRORS  0x1e   /* OE, PE, FE, BI */
#define LSR_THRE    0x20
#define LSR_TEMT    0x40

#define MSR_DCTS    0x01
#define MSR_DDSR    0x02
#define MSR_TERI    0x04
#define MSR_DDCD    0x08
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80

static void reset(struct uart *u)
{
	u->ier = u->lcr = u->mcr = u->scr = u->fcr = 0;
	u->dll = 12;            /* 9600 baud, as after a PC BIOS */
	u->dlm = 0;
	u->lsr_err = u->msr_delta = 0;
	u->thre_pending = u->irq_level = u->rx_blocked = false;
	u->rx_head = u->rx_count = 0;
}

int uart_init(struct uart *u, struct irq_line *irq)
{
	memset(u, 0, sizeof(*u));
	int err = pthread_mutex_init(&u->lock, NULL);
	if (err)
		return -err;
	u->irq = irq;
	reset(u);
	return 0;
}

void uart_release(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

void uart_set_host(struct uart *u, const struct uart_host *host)
{
	pthread_mutex_lock(&u->lock);
	if (host)
		u->host = *host;
	else
		memset(&u->host, 0, sizeof(u->host));
	pthread_mutex_unlock(&u->lock);
}

static bool loopback(const struct uart *u)
{
	return u->mcr & MCR_LOOP;
}

static unsigned rx_capacity(const struct uart *u)
{
	/* With the FIFO off the receiver holds one byte, like a 16450. */
	return (u->fcr & FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

/* Modem input lines: wired to MCR in loopback, else a connected terminal
 * (CTS, DSR and carrier asserted, so no driver waits for them). */
static uint8_t modem_lines(const struct uart *u)
{
	if (!loopback(u))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	return (u->mcr & MCR_RTS ? MSR_CTS : 0) | (u->mcr & MCR_DTR ? MSR_DSR : 0) |
	       (u->mcr & MCR_OUT1 ? MSR_RI : 0) | (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
}

static uint8_t interrupt_id(const struct uart *u)
{
	if ((u->ier & IER_ELSI) && u->lsr_err)
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count)
		return IIR_RDA;
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && u->msr_delta)
		return IIR_MS;
	return IIR_NONE;
}

/* The line is edge-triggered: signal only a new interrupt condition. The
 * guest's handler reads IIR until it reports none, which drops the level,
 * so the next condition produces a fresh edge. */
static void update_irq(struct uart *u)
{
	bool level = interrupt_id(u) != IIR_NONE;

	if (level && !u->irq_level && u->irq)
		irq_line_trigger(u->irq);
	u->irq_level = level;
}

static void rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_count == rx_capacity(u)) {
		u->lsr_err |= LSR_OE;   /* the new byte is lost, as on the chip */
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = u->rx_count = 0;
}

/* True when a refused uart_receive() may now be retried. */
static bool take_rx_room(struct uart *u)
{
	if (!u->rx_blocked || u->rx_count || loopback(u))
		return false;
	u->rx_blocked = false;
	return true;
}

static uint8_t read_rbr(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return byte;
}

static uint8_t read_iir(struct uart *u)
{
	uint8_t id = interrupt_id(u);

	/* Reading IIR acknowledges a THR-empty interrupt it reports. */
	if (id == IIR_THRE)
		u->thre_pending = false;
	return id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
}

static uint8_t read_lsr(struct uart *u)
{
	uint8_t v = LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0);

	u->lsr_err = 0;
	return v;
}

static uint8_t read_msr(struct uart *u)
{
	uint8_t v = modem_lines(u) | u->msr_delta;

	u->msr_delta = 0;
	return v;
}

static uint8_t reg_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR_DLL:
		return dlab ? u->dll : read_rbr(u);
	case REG_IER_DLM:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return read_lsr(u);
	case REG_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

static void write_thr(struct uart *u, uint8_t byte)
{
	if (loopback(u))
		rx_push(u, byte);
	else if (u->host.tx)
		u->host.tx(u->host.opaque, byte);
	/* Sent at once: THR is empty again, which is a new THRE event. */
	u->thre_pending = u->ier & IER_ETBEI;
}

static void write_ier(struct uart *u, uint8_t val)
{
	bool was_on = u->ier & IER_ETBEI;

	u->ier = val & IER_MASK;
	/* Enabling ETBEI with THR empty raises THRE at once; Linux's
	 * startup test toggles IER to check a UART re-asserts it. */
	if (!(u->ier & IER_ETBEI))
		u->thre_pending = false;
	else if (!was_on)
		u->thre_pending = true;
}

static void write_fcr(struct uart *u, uint8_t val)
{
	/* Switching FIFO mode on or off resets the FIFOs. */
	if ((val ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	if (!(val & FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (val & FCR_CLEAR_RX)
		rx_clear(u);
	u->fcr = val & (FCR_ENABLE | FCR_TRIGGER);
}

static void write_mcr(struct uart *u, uint8_t val)
{
	uint8_t before = modem_lines(u), after, changed;

	u->mcr = val & MCR_MASK;
	after = modem_lines(u);
	changed = before ^ after;
	if (changed & MSR_CTS)
		u->msr_delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->msr_delta |= MSR_DDSR;
	if (changed & MSR_DCD)
		u->msr_delta |= MSR_DDCD;
	if ((before & MSR_RI) && !(after & MSR_RI))
		u->msr_delta |= MSR_TERI;
}

static void reg_write(struct uart *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR_DLL:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val);
		break;
	case REG_IER_DLM:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case REG_IIR_FCR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		write_mcr(u, val);
		break;
	case REG_LSR:
	case REG_MSR:
		break;          /* factory test writes: ignored */
	default:
		u->scr = val;
		break;
	}
}

/* Finish an access: recompute the interrupt, drop the lock, then tell the
 * host (outside the lock, so it may call uart_receive) about room. */
static void end_access(struct uart *u)
{
	bool room = take_rx_room(u);
	struct uart_host host = u->host;

	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	if (room && host.rx_room)
		host.rx_room(host.opaque);
}

static void bus_read_reg(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct uart *u = opaque;

	pthread_mutex_lock(&u->lock);
	data[0] = reg_read(u, off % UART_NR_REGS);
	end_access(u);
}

static void bus_write_reg(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct uart *u = opaque;

	pthread_mutex_lock(&u->lock);
	reg_write(u, off % UART_NR_REGS, data[0]);
	end_access(u);
}

const struct bus_ops uart_bus_ops = {
	.read = bus_read_reg,
	.write = bus_write_reg,
};

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	/* In loopback the serial input is disconnected from the line. */
	while (!loopback(u) && n < len && u->rx_count < rx_capacity(u))
		rx_push(u, buf[n++]);
	if (n < len)
		u->rx_blocked = true;
	end_access(u);
	return n;
}
