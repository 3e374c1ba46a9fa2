/*
 * The port-I/O devices a guest reaches: the 16550A UART, the i8042, the
 * CMOS RTC, the ACPI sleep and reset registers, the exit port and the
 * boot timer, all on
 * one port bus at their real addresses. The input is the RTC's clock
 * (u32 seconds since 1970), then operations of 4 bytes each:
 *
 *   u8 code (see enum op), u8 port pick (bits 0-2: the device, mod 6;
 *   bits 3-7: the offset), u8 width pick, u8 value
 *
 * A port pick names a device and an offset up to one past its range, so
 * accesses next to a device are tried too.
 *
 * What must hold: no sanitizer report; the UART's receive FIFO never
 * holds more than its size and uart_receive takes no more than offered;
 * the RTC's clock registers are valid BCD unless binary mode is on; a
 * device asks the VM to stop only for its own reasons (the exit port with
 * the byte written, the i8042 and the ACPI reset register with a reboot,
 * ACPI sleep with a poweroff); the boot timer times each of its two
 * codes at most once and nothing else.
 */
#include "tests/fuzz/fuzz.h"
#include "boot/x86/layout.h"
#include "devices/x86/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/exit_port.h"
#include "devices/x86/i8042.h"
#include "devices/x86/rtc.h"
#include "devices/uart.h"
#include "vmm/base/bus.h"
#include "vmm/base/irq.h"

enum op { OP_READ, OP_WRITE, OP_RECEIVE, OP_HOST, OP_COUNT };

/* Who asked to stop, and why; one hook per device. */
struct stop_rec {
	unsigned n;
	enum stop_reason why;
	int status;
};

struct fx {
	struct bus pio;
	struct irq_line irq;
	struct uart uart;
	struct i8042 kbc;
	struct rtc rtc;
	struct acpi_pm pm;
	struct exit_port ep;
	struct boot_timer bt;
	unsigned marks[BOOT_TIMER_NCODES];
	struct stop_rec stop_kbc, stop_pm, stop_ep;
	uint8_t last_exit_write;
	uint64_t txed, rx_room_calls;
};

static const struct {
	uint16_t base, len;
} dev_ports[] = {
	{ PORT_COM1, UART_NR_REGS },
	{ PORT_I8042, I8042_NR_PORTS },
	{ PORT_RTC, RTC_NR_PORTS },
	{ PORT_ACPI_SLEEP_CTL, ACPI_PM_NR_PORTS },
	{ PORT_EXIT, 1 },
	{ PORT_BOOT_TIMER, 1 },
};
#define NDEVS (sizeof(dev_ports) / sizeof(dev_ports[0]))

/* The RTC's clock: this input's (time(2) has no opaque argument). */
static time_t fake_now;

static time_t now(time_t *t)
{
	if (t)
		*t = fake_now;
	return fake_now;
}

static void on_mark(void *opaque, enum boot_timer_code code)
{
	unsigned *marks = opaque;

	FZ_CHECK(code == BOOT_TIMER_READY || code == BOOT_TIMER_JOB_START);
	FZ_CHECK(++marks[code] == 1);
}

static void on_stop(void *opaque, enum stop_reason why, int status, const char *msg)
{
	struct stop_rec *s = opaque;

	s->n++;
	s->why = why;
	s->status = status;
}

static void tx(void *opaque, uint8_t byte)
{
	((struct fx *)opaque)->txed++;
}

static void rx_room(void *opaque)
{
	((struct fx *)opaque)->rx_room_calls++;
}

static bool bcd(uint8_t v)
{
	return (v & 0xf) <= 9 && (v >> 4) <= 9;
}

static void check_read(struct fx *x, uint16_t port, const uint8_t *d)
{
	/* A clock register through the data port: index 0-9 or the century. */
	if (port == PORT_RTC + 1 && !(x->rtc.reg_b & 4)) {
		uint8_t i = x->rtc.index;
		if (i == 0 || i == 2 || i == 4 || (i >= 6 && i <= 9) || i == 0x32)
			FZ_CHECK(bcd(d[0]));
	}
}

static void run_op(struct fx *x, uint8_t code, uint8_t p, uint8_t w, uint8_t v)
{
	static const unsigned widths[] = { 1, 1, 2, 4 };
	unsigned dev = (p & 7) % NDEVS, len = widths[w & 3];
	uint16_t port = (uint16_t)(dev_ports[dev].base + (p >> 3) % (dev_ports[dev].len + 1));
	uint8_t d[4] = { v, (uint8_t)(v ^ w), w, p };

	switch (code % OP_COUNT) {
	case OP_READ:
		memset(d, 0, sizeof(d));
		if (bus_read(&x->pio, port, d, len))
			check_read(x, port, d);
		break;
	case OP_WRITE:
		if (port == PORT_EXIT)
			x->last_exit_write = v;
		bus_write(&x->pio, port, d, len);
		break;
	case OP_RECEIVE: {
		uint8_t buf[32];
		size_t n = v % sizeof(buf);
		memset(buf, w, n);
		FZ_CHECK(uart_receive(&x->uart, buf, n) <= n);
		break;
	}
	case OP_HOST:
		if (v & 1) {
			struct uart_host h = { tx, rx_room, x };
			uart_set_host(&x->uart, &h);
		} else {
			uart_set_host(&x->uart, NULL);
		}
		break;
	}
	FZ_CHECK(x->uart.rx_count <= UART_FIFO_SIZE && x->uart.rx_head < UART_FIFO_SIZE);
	FZ_CHECK(x->kbc.out_count <= I8042_OUT_MAX);
	if (x->stop_ep.n)
		FZ_CHECK(x->stop_ep.why == STOP_GUEST_EXIT);
	if (x->stop_kbc.n)
		FZ_CHECK(x->stop_kbc.why == STOP_REBOOT);
	if (x->stop_pm.n)
		FZ_CHECK(x->stop_pm.why == STOP_POWEROFF || x->stop_pm.why == STOP_REBOOT);
	/* A wider access would straddle the one-port range: unclaimed. */
	if (code % OP_COUNT == OP_WRITE && port == PORT_EXIT && len == 1)
		FZ_CHECK(x->stop_ep.n && x->stop_ep.status == x->last_exit_write);
}

static void attach(struct fx *x)
{
	struct stop_hook kbc = { on_stop, &x->stop_kbc }, pm = { on_stop, &x->stop_pm },
			 ep = { on_stop, &x->stop_ep };

	bus_init(&x->pio, "pio", 0xff);
	FZ_CHECK(irq_line_init(&x->irq, 4) == 0);
	FZ_CHECK(uart_init(&x->uart, &x->irq) == 0);
	FZ_CHECK(i8042_init(&x->kbc, &kbc) == 0);
	FZ_CHECK(rtc_init(&x->rtc) == 0);
	x->rtc.now = now;
	acpi_pm_init(&x->pm, &pm);
	exit_port_init(&x->ep, &ep);
	boot_timer_init(&x->bt, &(struct boot_timer_host){ on_mark, x->marks });
	FZ_CHECK(bus_register(&x->pio, PORT_COM1, UART_NR_REGS, &uart_bus_ops, &x->uart,
			      "com1") == 0);
	FZ_CHECK(bus_register(&x->pio, PORT_I8042, I8042_NR_PORTS, &i8042_bus_ops, &x->kbc,
			      "i8042") == 0);
	FZ_CHECK(bus_register(&x->pio, PORT_RTC, RTC_NR_PORTS, &rtc_bus_ops, &x->rtc,
			      "rtc") == 0);
	FZ_CHECK(bus_register(&x->pio, PORT_ACPI_SLEEP_CTL, ACPI_PM_NR_PORTS, &acpi_pm_bus_ops,
			      &x->pm, "acpi-pm") == 0);
	FZ_CHECK(bus_register(&x->pio, PORT_EXIT, 1, &exit_port_bus_ops, &x->ep, "exit") == 0);
	FZ_CHECK(bus_register(&x->pio, PORT_BOOT_TIMER, 1, &boot_timer_bus_ops, &x->bt,
			      "boot-timer") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct fx *x = calloc(1, sizeof(*x));

	fake_now = fin_u32(&in);
	attach(x);
	while (in.n) {
		uint8_t code = fin_u8(&in), p = fin_u8(&in), w = fin_u8(&in);
		run_op(x, code, p, w, fin_u8(&in));
	}
	bus_release(&x->pio);
	uart_release(&x->uart);
	i8042_release(&x->kbc);
	rtc_release(&x->rtc);
	irq_line_release(&x->irq);
	free(x);
	return 0;
}
