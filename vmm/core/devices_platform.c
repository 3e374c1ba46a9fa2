/*
 * The platform devices every VM has, on any architecture: the console (a
 * 16550A and its host side), the exit device and the boot timer, each
 * where arch_platform_map() puts it. The console is the one among them
 * the guest finds through firmware tables. The architecture's own
 * (x86: i8042, RTC, ACPI registers) are arch_platform_devices'.
 */
#include "vmm/core/devices_priv.h"
#include "devices/console.h"
#include "devices/boot_timer.h"
#include "devices/exit_port.h"
#include "devices/uart.h"
#include "vmm/base/irq.h"
#include "vmm/config/config.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What Linux prints as it starts the init process ("Run /init as init
 * process"); its arrival on the console is mote's "boot finished" mark. */
#define INIT_MARK "as init process"
#define INIT_MARK_LEN (sizeof(INIT_MARK) - 1)
/* What Linux's panic() prints first, at KERN_EMERG, so even "quiet" shows
 * it; a VM that then reboots (panic=-1) did not simply reboot. */
#define PANIC_MARK "Kernel panic - not syncing"
#define PANIC_MARK_LEN (sizeof(PANIC_MARK) - 1)
#define TAIL_LEN (INIT_MARK_LEN > PANIC_MARK_LEN ? INIT_MARK_LEN : PANIC_MARK_LEN)

struct platform {
	struct vm *vm;
	uint8_t tail[TAIL_LEN];   /* the last console bytes, for the marks */
	struct irq_line com1_irq;
	struct uart uart;
	struct console console;
	struct exit_port exitp;
	struct boot_timer timer;
	bool console_seen;             /* under the uart's lock */
	bool uart_ok, console_ok;
};

static bool tail_is(const struct platform *p, const char *mark, size_t len)
{
	return memcmp(p->tail + TAIL_LEN - len, mark, len) == 0;
}

/* Sits between the uart and the console to time the first byte and
 * INIT_MARK and to notice PANIC_MARK. Runs with the uart's lock held, so
 * bytes come one at a time and in order. */
static void serial_tx(void *opaque, uint8_t byte)
{
	struct platform *p = opaque;
	struct vm *vm = p->vm;

	if (!p->console_seen) {
		p->console_seen = true;
		vm_mark(vm, VM_MARK_FIRST_CONSOLE);
	}
	if (!__atomic_load_n(&vm->panicked, __ATOMIC_RELAXED)) {
		memmove(p->tail, p->tail + 1, TAIL_LEN - 1);
		p->tail[TAIL_LEN - 1] = byte;
		if (tail_is(p, INIT_MARK, INIT_MARK_LEN))
			vm_mark(vm, VM_MARK_KERNEL_INIT);
		if (tail_is(p, PANIC_MARK, PANIC_MARK_LEN))
			__atomic_store_n(&vm->panicked, true, __ATOMIC_RELAXED);
	}
	console_tx(&p->console, byte);
}

static void boot_timer_mark(void *opaque, enum boot_timer_code code)
{
	vm_mark(opaque, code == BOOT_TIMER_READY ? VM_MARK_GUEST_READY : VM_MARK_JOB_START);
}

static void serial_rx_room(void *opaque)
{
	struct platform *p = opaque;

	console_rx_room(&p->console);
}

static void release_serial(struct dev_slot *s)
{
	struct platform *p = s->priv;

	if (p->console_ok)
		console_release(&p->console);
	if (p->uart_ok)
		uart_release(&p->uart);
	irq_line_release(&p->com1_irq);
	p->console_ok = p->uart_ok = false;
}

static int create_serial(struct vm *vm, struct platform *p, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	const struct arch_place *at = &arch_platform_map()->console;
	struct dev_slot *s = devices_new_slot(vm->devs, "com1");

	if (!s)
		return -ENOSPC;
	s->priv = p;
	s->release = release_serial;
	s->described = true;
	s->desc = (struct arch_dev){ ARCH_DEV_UART, at->base, UART_NR_REGS, at->irq };
	int r = irq_line_init(&p->com1_irq, at->irq);
	if (!r)
		r = devices_wire_irq(vm, &p->com1_irq);
	if (!r)
		r = uart_init(&p->uart, &p->com1_irq);
	if (r) {
		snprintf(err, errlen, "serial port: %s", strerror(-r));
		return r;
	}
	p->uart_ok = true;
	r = console_init(&p->console, &vm->loop, &p->uart, vm->io.in_fd, vm->io.out_fd,
			 cfg->console_log, cfg->console_log_max, err, errlen);
	if (r)
		return r;
	p->console_ok = true;
	if (vm->io.sink)
		console_set_sink(&p->console, vm->io.sink, vm->io.sink_opaque);
	uart_set_host(&p->uart, &(struct uart_host){ serial_tx, serial_rx_room, p });
	return devices_register(vm, at, UART_NR_REGS, &uart_bus_ops, &p->uart, "com1", err,
				errlen);
}

static void release_legacy(struct dev_slot *s)
{
	struct platform *p = s->priv;

	p->vm->devs->platform = NULL;
	free(p);
}

/* The devices the guest finds at fixed places, with no table entry. */
static int create_legacy(struct vm *vm, struct platform *p, char *err, size_t errlen)
{
	const struct arch_platform_map *map = arch_platform_map();

	exit_port_init(&p->exitp, &vm->stop);
	boot_timer_init(&p->timer, &(struct boot_timer_host){ boot_timer_mark, vm });
	int r = devices_register(vm, &map->exit, 1, &exit_port_bus_ops, &p->exitp, "exit", err,
				 errlen);
	if (!r)
		r = devices_register(vm, &map->boot_timer, 1, &boot_timer_bus_ops, &p->timer,
				     "boot-timer", err, errlen);
	return r;
}

int devices_create_platform(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
{
	struct platform *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->vm = vm;
	p->com1_irq.fd = -1;
	d->platform = p;
	/* Released last, since slots go in reverse: it frees p. */
	struct dev_slot *s = devices_new_slot(d, "legacy");
	if (!s) {
		free(p);
		return -ENOSPC;
	}
	s->priv = p;
	s->release = release_legacy;
	int r = create_legacy(vm, p, err, errlen);
	return r ? r : create_serial(vm, p, err, errlen);
}

void devices_platform_stopping(struct vm_devices *d)
{
	if (d->platform && d->platform->console_ok)
		console_stopping(&d->platform->console);
}

void devices_platform_restore_tty(struct vm_devices *d)
{
	if (d->platform && d->platform->console_ok)
		console_restore_tty(&d->platform->console);
}
