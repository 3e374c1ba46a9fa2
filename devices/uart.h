/*
 * A 16550A UART register model: the guest's ttyS0. A pure state machine
 * behind a mutex (vCPU threads and the event-loop thread both call it): no
 * fds, no threads, no timing. Transmission is instantaneous, so THR and
 * the transmitter are always empty. The host side (the console) receives
 * transmitted bytes through uart_host.tx and feeds input with
 * uart_receive(), which takes only what fits in the receive FIFO.
 *
 * The interrupt output is computed after every access; each 0->1
 * transition triggers one edge on the irq_line.
 *
 * Register the device on the port I/O bus as
 *   bus_register(&pio, PORT_COM1, UART_NR_REGS, &uart_bus_ops, &uart, "com1")
 */
#ifndef MOTE_DEVICES_UART_H
#define MOTE_DEVICES_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_ops;
struct irq_line;

#define UART_NR_REGS   8
#define UART_FIFO_SIZE 16      /* a 16550A's; Linux measures it at probe */

/* The uart's host side. Both callbacks may run on any thread. */
struct uart_host {
	/* A byte the guest transmitted. Called with the uart's lock held,
	 * so bytes arrive in order; must not call back into the uart. */
	void (*tx)(void *opaque, uint8_t byte);
	/* uart_receive() refused input and the guest has since emptied the
	 * receive FIFO: try again. Called without the lock. May be NULL. */
	void (*rx_room)(void *opaque);
	void *opaque;
};

/* Callers allocate it; fields are private to uart.c. */
struct uart {
	pthread_mutex_t lock;
	struct irq_line *irq;
	struct uart_host host;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t lsr_err;        /* OE/PE/FE/BI, cleared by reading LSR */
	uint8_t msr_delta;      /* MSR bits 0-3, cleared by reading MSR */
	bool thre_pending;      /* the THR-empty interrupt is armed */
	bool irq_level;         /* the interrupt output, for edge detection */
	bool rx_blocked;        /* uart_receive() refused bytes: owe rx_room */
	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
};

/* Reset state, no host attached (transmitted bytes are dropped).
 * irq may be NULL (no interrupts). Returns 0 or -errno. */
int uart_init(struct uart *u, struct irq_line *irq) __attribute__((warn_unused_result));
void uart_release(struct uart *u);

/* Attach the host side (copied), or detach it with NULL. */
void uart_set_host(struct uart *u, const struct uart_host *host);

/* Put received bytes into the FIFO. Returns how many fit (possibly 0,
 * e.g. when full or in loopback mode); if fewer than len, host.rx_room
 * is called once the guest has drained the FIFO. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

/* Bus handlers; opaque is the struct uart. Offsets 0..7, byte accesses
 * (wider accesses use their first byte). */
extern const struct bus_ops uart_bus_ops;

#endif
