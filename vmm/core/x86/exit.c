/*
 * The exits only x86 has: port I/O to the PIO bus, the triple fault, and
 * HLT (which an in-kernel LAPIC never lets out).
 */
#include "vmm/base/bus.h"
#include "vmm/core/arch.h"
#include "vmm/core/vcpu.h"

#include <linux/kvm.h>
#include <stdio.h>

/* String I/O (rep ins/outs) arrives as count consecutive items. */
static void handle_io(struct vcpu *c)
{
	struct kvm_run *r = c->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	unsigned size = r->io.size;

	/* data_offset and count come from KVM, but check they stay in the page. */
	if (r->io.data_offset >= c->run_size ||
	    (uint64_t)size * r->io.count > c->run_size - r->io.data_offset)
		return;
	for (uint32_t i = 0; i < r->io.count; i++, data += size) {
		if (r->io.direction == KVM_EXIT_IO_OUT)
			bus_write(c->env->pio, r->io.port, data, size);
		else
			bus_read(c->env->pio, r->io.port, data, size);
	}
}

enum arch_exit arch_vcpu_exit(struct vcpu *c)
{
	char msg[96];

	switch (c->run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(c);
		return ARCH_EXIT_CONTINUE;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: what a PC does on reset, and Linux's reboot=t, but
		 * also how a kernel that crashed early ends; the message tells. */
		c->env->stop(c->env->opaque, STOP_REBOOT, 0,
			     "guest reset by a triple fault (reboot=t, or a crash)");
		return ARCH_EXIT_STOPPED;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; mote always has one. */
		snprintf(msg, sizeof(msg), "vCPU %u: halted with interrupts off (exit reason %u)",
			 c->id, c->run->exit_reason);
		c->env->stop(c->env->opaque, STOP_ERROR, 1, msg);
		return ARCH_EXIT_STOPPED;
	default:
		return ARCH_EXIT_UNKNOWN;
	}
}
