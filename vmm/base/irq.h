/*
 * An interrupt line, the one way a device signals the guest. In a VM it is
 * an eventfd wired to a GSI with KVM_IRQFD by the VM core; in unit tests it
 * is an eventfd the test reads. Devices never see which.
 *
 * Lines are edge-triggered: each irq_line_trigger() delivers one edge.
 * Devices trigger when a new interrupt condition arises; the guest driver
 * then reads the device's status, as for any edge interrupt.
 */
#ifndef MOTE_IRQ_H
#define MOTE_IRQ_H

#include <stdint.h>

struct irq_line {
	int fd;        /* eventfd; -1 when unconnected */
	uint32_t gsi;  /* the guest's interrupt number, for ACPI and messages */
};

/* Create the eventfd. Returns 0 or -errno. */
int irq_line_init(struct irq_line *l, uint32_t gsi)
	__attribute__((warn_unused_result));
void irq_line_release(struct irq_line *l);

/* Signal one edge. Safe from any thread. */
void irq_line_trigger(struct irq_line *l);

#endif
