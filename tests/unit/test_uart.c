/* Unit tests for devices/uart.c: the 16550A register model, driven the
 * way Linux's 8250 driver drives it. Interrupt edges are counted by
 * reading the irq_line's eventfd. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/uart.h"
#include "vmm/base/bus.h"
#include "vmm/base/irq.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3,
       MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct fixture {
	struct uart u;
	struct irq_line irq;
	uint8_t tx[512];
	size_t ntx;
	unsigned rx_room_calls;
};

static struct fixture f;

static void host_tx(void *opaque, uint8_t byte)
{
	struct fixture *fx = opaque;

	if (fx->ntx < sizeof(fx->tx))
		fx->tx[fx->ntx++] = byte;
}

static void host_rx_room(void *opaque)
{
	((struct fixture *)opaque)->rx_room_calls++;
}

static void setup(void)
{
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(irq_line_init(&f.irq, 4), 0);
	ck_assert_int_eq(uart_init(&f.u, &f.irq), 0);
	uart_set_host(&f.u, &(struct uart_host){ host_tx, host_rx_room, &f });
}

static void teardown(void)
{
	uart_release(&f.u);
	irq_line_release(&f.irq);
}

static uint8_t rd(unsigned off)
{
	uint8_t d[8];

	memset(d, 0, sizeof(d));
	uart_bus_ops.read(&f.u, off, d, 1);
	return d[0];
}

static void wr(unsigned off, uint8_t v)
{
	uart_bus_ops.write(&f.u, off, &v, 1);
}

/* Edges signalled since the last call. */
static uint64_t edges(void)
{
	uint64_t n;

	return read(f.irq.fd, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

START_TEST(reset_state)
{
	ck_assert_uint_eq(rd(IER), 0);
	ck_assert_uint_eq(rd(IIR), 0x01);
	ck_assert_uint_eq(rd(LCR), 0);
	ck_assert_uint_eq(rd(MCR), 0);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rd(MSR), 0xb0);   /* CTS, DSR, DCD: a terminal is attached */
	ck_assert_uint_eq(rd(RBR), 0);
	ck_assert_uint_eq(edges(), 0);
}
END_TEST

START_TEST(divisor_latch)
{
	wr(LCR, 0x83);
	wr(DLL, 0x01);
	wr(DLM, 0x02);
	ck_assert_uint_eq(rd(DLL), 0x01);
	ck_assert_uint_eq(rd(DLM), 0x02);
	ck_assert_uint_eq(rd(LCR), 0x83);
	wr(LCR, 0x03);
	/* With DLAB clear the same offsets are RBR/THR and IER again. */
	ck_assert_uint_eq(rd(IER), 0);
	wr(THR, 'x');
	ck_assert_uint_eq(f.ntx, 1);
	ck_assert_uint_eq(f.tx[0], 'x');
	wr(LCR, 0x80);
	ck_assert_uint_eq(rd(DLL), 0x01);   /* THR write did not touch DLL */
	ck_assert_uint_eq(rd(DLM), 0x02);
	ck_assert_uint_eq(f.ntx, 1);        /* DLL writes are not transmitted */
}
END_TEST

START_TEST(scratch_and_ier_mask)
{
	wr(SCR, 0xa5);
	ck_assert_uint_eq(rd(SCR), 0xa5);
	wr(SCR, 0x5a);
	ck_assert_uint_eq(rd(SCR), 0x5a);
	/* Only IER[3:0] exist; the Xscale UUE bit (0x40) must not stick. */
	wr(IER, 0xff);
	ck_assert_uint_eq(rd(IER), 0x0f);
	wr(IER, 0x40);
	ck_assert_uint_eq(rd(IER), 0);
}
END_TEST

START_TEST(fifo_bits_in_iir)
{
	wr(FCR, 0x01);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	wr(FCR, 0x21);                      /* 64-byte mode is a 16750 thing */
	ck_assert_uint_eq(rd(IIR) & 0x30, 0);
	wr(FCR, 0x00);
	ck_assert_uint_eq(rd(IIR), 0x01);
}
END_TEST

/* The register dance of Linux's autoconfig() and autoconfig_16550a(). */
START_TEST(linux_autoconfig_sees_16550a)
{
	uint8_t save = rd(IER);

	wr(IER, 0);
	ck_assert_uint_eq(rd(IER) & 0x0f, 0);
	wr(IER, 0x0f);
	ck_assert_uint_eq(rd(IER) & 0x0f, 0x0f);
	wr(IER, save);
	wr(MCR, 0x10 | 0x0a);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0x90);
	wr(MCR, 0);
	wr(LCR, 0xbf);
	wr(FCR, 0);                         /* the EFR write */
	wr(LCR, 0);
	wr(FCR, 0x01);
	ck_assert_uint_eq(rd(IIR) >> 6, 3);
	/* No EFR in either configuration mode. */
	wr(LCR, 0x80);
	ck_assert_uint_ne(rd(IIR), 0);
	wr(LCR, 0xbf);
	ck_assert_uint_ne(rd(IIR), 0);
	/* Not a NatSemi SuperIO: bank-2 EXCR1 does not follow MCR LOOP. */
	wr(LCR, 0xe0);
	ck_assert_uint_eq(rd(2) & 0x10, 0);
	/* Not a 16750. */
	wr(LCR, 0);
	wr(FCR, 0x21);
	ck_assert_uint_eq(rd(IIR) >> 5, 6);
	wr(LCR, 0x80);
	wr(FCR, 0x21);
	ck_assert_uint_eq(rd(IIR) >> 5, 6);
	wr(LCR, 0);
	wr(FCR, 0x01);
}
END_TEST

/* size_fifo(): loopback, 256 bytes in, count what comes out. */
START_TEST(loopback_fifo_size_and_overrun)
{
	wr(FCR, 0x07);
	wr(MCR, 0x10);
	for (unsigned i = 0; i < 256; i++)
		wr(THR, (uint8_t)i);
	ck_assert_uint_eq(f.ntx, 0);        /* loopback never reaches the host */
	uint8_t lsr = rd(LSR);
	ck_assert_uint_eq(lsr & 0x01, 0x01);
	ck_assert_uint_eq(lsr & 0x02, 0x02); /* overrun */
	ck_assert_uint_eq(rd(LSR) & 0x02, 0); /* cleared by reading LSR */
	unsigned count = 0;
	while ((rd(LSR) & 0x01) && count < 256)
		ck_assert_uint_eq(rd(RBR), count++);
	ck_assert_uint_eq(count, UART_FIFO_SIZE);
	wr(MCR, 0);
}
END_TEST

START_TEST(no_fifo_holds_one_byte)
{
	const uint8_t in[] = "ab";

	ck_assert_uint_eq(uart_receive(&f.u, in, 2), 1);
	ck_assert_uint_eq(rd(RBR), 'a');
	ck_assert_uint_eq(f.rx_room_calls, 1);
	ck_assert_uint_eq(uart_receive(&f.u, in + 1, 1), 1);
	ck_assert_uint_eq(rd(RBR), 'b');
	ck_assert_uint_eq(f.rx_room_calls, 1);  /* that receive was not refused */
}
END_TEST

START_TEST(modem_status_in_loopback)
{
	wr(MCR, 0x10);                      /* all lines drop: deltas for CTS, DSR, DCD */
	ck_assert_uint_eq(rd(MSR), 0x0b);
	ck_assert_uint_eq(rd(MSR), 0x00);
	wr(MCR, 0x10 | 0x0f);
	ck_assert_uint_eq(rd(MSR), 0xf0 | 0x0b);
	wr(MCR, 0x10 | 0x0b);               /* RI falls: trailing-edge RI */
	ck_assert_uint_eq(rd(MSR), 0xb0 | 0x04);
	wr(MCR, 0);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0xb0);
}
END_TEST

START_TEST(thre_interrupt)
{
	wr(FCR, 0x01);
	wr(IER, 0x02);
	ck_assert_uint_eq(edges(), 1);
	ck_assert_uint_eq(rd(IIR), 0xc2);
	ck_assert_uint_eq(rd(IIR), 0xc1);   /* reading IIR acknowledged it */
	/* Writing THR re-arms it (the byte leaves at once). */
	wr(THR, 'a');
	ck_assert_uint_eq(edges(), 1);
	wr(THR, 'b');
	ck_assert_uint_eq(edges(), 0);      /* still pending: no new edge */
	ck_assert_uint_eq(rd(IIR), 0xc2);
	ck_assert_uint_eq(edges(), 0);
	/* Masking clears it; unmasking with THR empty raises it again. */
	wr(IER, 0x00);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	wr(IER, 0x02);
	ck_assert_uint_eq(edges(), 1);
	ck_assert_uint_eq(rd(IIR), 0xc2);
	/* Rewriting IER with ETBEI already set is not a new event. */
	wr(IER, 0x02);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	ck_assert_uint_eq(f.ntx, 2);
}
END_TEST

/* serial8250_do_startup(): the TXEN and THRE re-assert tests. */
START_TEST(linux_startup_thre_tests)
{
	wr(IER, 0x02);
	uint8_t lsr = rd(LSR);
	uint8_t iir = rd(IIR);
	wr(IER, 0);
	ck_assert(lsr & 0x40);
	ck_assert_uint_eq(iir & 0x01, 0);   /* else UART_BUG_TXEN */
	wr(IER, 0x02);
	uint8_t iir1 = rd(IIR);
	wr(IER, 0);
	wr(IER, 0x02);
	iir = rd(IIR);
	wr(IER, 0);
	ck_assert_uint_eq(iir1 & 0x01, 0);
	ck_assert_uint_eq(iir & 0x01, 0);   /* else UART_BUG_THRE */
}
END_TEST

START_TEST(rx_interrupt_and_edges)
{
	const uint8_t in[] = "hello";

	wr(FCR, 0x01);
	wr(IER, 0x01);
	ck_assert_uint_eq(edges(), 0);
	ck_assert_uint_eq(uart_receive(&f.u, in, 2), 2);
	ck_assert_uint_eq(edges(), 1);
	ck_assert_uint_eq(uart_receive(&f.u, in + 2, 3), 3);
	ck_assert_uint_eq(edges(), 0);      /* level already high */
	ck_assert_uint_eq(rd(IIR), 0xc4);
	ck_assert_uint_eq(rd(IIR), 0xc4);   /* RDA is not cleared by IIR */
	for (int i = 0; i < 5; i++) {
		ck_assert(rd(LSR) & 0x01);
		ck_assert_uint_eq(rd(RBR), in[i]);
	}
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	ck_assert_uint_eq(uart_receive(&f.u, in, 1), 1);
	ck_assert_uint_eq(edges(), 1);      /* level fell, so a fresh edge */
	ck_assert_uint_eq(f.rx_room_calls, 0);
}
END_TEST

START_TEST(rx_full_then_room)
{
	uint8_t in[40];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	wr(FCR, 0x01);
	ck_assert_uint_eq(uart_receive(&f.u, in, sizeof(in)), UART_FIFO_SIZE);
	ck_assert_uint_eq(uart_receive(&f.u, in, 1), 0);
	ck_assert_uint_eq(rd(LSR) & 0x02, 0);   /* refused, not overrun */
	for (unsigned i = 0; i < UART_FIFO_SIZE - 1; i++)
		ck_assert_uint_eq(rd(RBR), i);
	ck_assert_uint_eq(f.rx_room_calls, 0);  /* only once drained */
	ck_assert_uint_eq(rd(RBR), UART_FIFO_SIZE - 1);
	ck_assert_uint_eq(f.rx_room_calls, 1);
	rd(RBR);
	ck_assert_uint_eq(f.rx_room_calls, 1);  /* once per refusal */
}
END_TEST

START_TEST(fcr_clears_rx)
{
	const uint8_t in[] = "xyz";

	wr(FCR, 0x01);
	uart_receive(&f.u, in, 3);
	wr(FCR, 0x03);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	uart_receive(&f.u, in, 3);
	wr(FCR, 0x00);                      /* leaving FIFO mode resets it too */
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
}
END_TEST

START_TEST(loopback_disconnects_input)
{
	const uint8_t in[] = "q";

	wr(MCR, 0x10);
	ck_assert_uint_eq(uart_receive(&f.u, in, 1), 0);
	ck_assert_uint_eq(f.rx_room_calls, 0);
	wr(MCR, 0x00);
	ck_assert_uint_eq(f.rx_room_calls, 1);
	ck_assert_uint_eq(uart_receive(&f.u, in, 1), 1);
}
END_TEST

START_TEST(interrupt_priorities)
{
	wr(FCR, 0x01);
	wr(MCR, 0x10);                      /* loopback; modem deltas now pending */
	for (unsigned i = 0; i <= UART_FIFO_SIZE; i++)
		wr(THR, 'a');               /* fills the FIFO and overruns */
	wr(IER, 0x0f);
	ck_assert_uint_eq(edges(), 1);
	ck_assert_uint_eq(rd(IIR), 0xc6);   /* line status first */
	ck_assert_uint_eq(rd(LSR) & 0x03, 0x03);
	ck_assert_uint_eq(rd(IIR), 0xc4);   /* then received data */
	while (rd(LSR) & 0x01)
		rd(RBR);
	ck_assert_uint_eq(rd(IIR), 0xc2);   /* then THR empty, acknowledged */
	ck_assert_uint_eq(rd(IIR), 0xc0);   /* then modem status */
	rd(MSR);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	ck_assert_uint_eq(edges(), 0);      /* the level never fell */
}
END_TEST

START_TEST(no_host_and_wide_accesses)
{
	uint8_t d[8] = { 'z', 1, 2, 3, 4, 5, 6, 7 };

	uart_set_host(&f.u, NULL);
	wr(THR, 'a');                       /* dropped, no crash */
	uart_bus_ops.write(&f.u, 7, d, 8);
	ck_assert_uint_eq(rd(SCR), 'z');
	memset(d, 0xee, sizeof(d));
	uart_bus_ops.read(&f.u, 15, d, 8);  /* out of range offsets wrap */
	ck_assert_uint_eq(d[0], 'z');
	ck_assert_uint_eq(f.ntx, 0);
}
END_TEST

static Suite *uart_suite(void)
{
	Suite *s = suite_create("uart");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reset_state);
	tcase_add_test(tc, divisor_latch);
	tcase_add_test(tc, scratch_and_ier_mask);
	tcase_add_test(tc, fifo_bits_in_iir);
	tcase_add_test(tc, linux_autoconfig_sees_16550a);
	tcase_add_test(tc, loopback_fifo_size_and_overrun);
	tcase_add_test(tc, no_fifo_holds_one_byte);
	tcase_add_test(tc, modem_status_in_loopback);
	tcase_add_test(tc, thre_interrupt);
	tcase_add_test(tc, linux_startup_thre_tests);
	tcase_add_test(tc, rx_interrupt_and_edges);
	tcase_add_test(tc, rx_full_then_room);
	tcase_add_test(tc, fcr_clears_rx);
	tcase_add_test(tc, loopback_disconnects_input);
	tcase_add_test(tc, interrupt_priorities);
	tcase_add_test(tc, no_host_and_wide_accesses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(uart_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
