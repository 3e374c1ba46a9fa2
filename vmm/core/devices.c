/*
 * The device manager: builds the platform devices (COM1 with its console,
 * i8042, exit port, ACPI PM registers) and the virtio devices, puts them on
 * the buses and connects their interrupt lines and queue notifications to
 * KVM. Devices themselves never see KVM.
 */
#include "vmm/core/devices.h"
#include "boot/acpi.h"
#include "boot/layout.h"
#include "devices/acpi_pm.h"
#include "devices/console.h"
#include "devices/exit_port.h"
#include "devices/i8042.h"
#include "devices/rtc.h"
#include "devices/uart.h"
#include "vmm/config/config.h"
#include "vmm/base/log.h"
#include "vmm/base/irq.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vm.h"
#include "vmm/core/vm_virtio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What Linux prints as it starts the init process ("Run /init as init
 * process"); its arrival on the console is mote's "boot finished" mark. */
#define INIT_MARK "as init process"
#define INIT_MARK_LEN (sizeof(INIT_MARK) - 1)

struct vm_devices {
	struct vm *vm;
	uint8_t tail[INIT_MARK_LEN];   /* the last console bytes, for INIT_MARK */
	struct irq_line com1_irq;
	struct uart uart;
	struct console console;
	struct i8042 kbd;
	struct exit_port exitp;
	struct acpi_pm pm;
	struct rtc rtc;
	bool uart_ok, console_ok, kbd_ok, rtc_ok;
	struct vm_virtio virtio;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sits between the uart and the console to timestamp INIT_MARK. Runs with
 * the uart's lock held, so bytes come one at a time and in order. */
static void serial_tx(void *opaque, uint8_t byte)
{
	struct vm_devices *d = opaque;
	struct vm *vm = d->vm;

	if (!__atomic_load_n(&vm->init_ns, __ATOMIC_RELAXED)) {
		memmove(d->tail, d->tail + 1, INIT_MARK_LEN - 1);
		d->tail[INIT_MARK_LEN - 1] = byte;
		if (memcmp(d->tail, INIT_MARK, INIT_MARK_LEN) == 0)
			__atomic_store_n(&vm->init_ns, now_ns(), __ATOMIC_RELAXED);
	}
	console_tx(&d->console, byte);
}

static void serial_rx_room(void *opaque)
{
	struct vm_devices *d = opaque;

	console_rx_room(&d->console);
}

int devices_wire_irq(struct vm *vm, struct irq_line *l)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)l->fd, .gsi = l->gsi };
	int r = KVM_IOCTL(vm->vm_fd, KVM_IRQFD, &irqfd);

	return r < 0 ? r : 0;
}

static int reg_pio(struct vm *vm, uint64_t port, uint64_t len, const struct bus_ops *ops,
		   void *dev, const char *name, char *err, size_t errlen)
{
	int r = bus_register(&vm->pio, port, len, ops, dev, name);

	if (r)
		snprintf(err, errlen, "%s at port 0x%llx: %s", name,
			 (unsigned long long)port, strerror(-r));
	return r;
}

static int create_serial(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	int r = irq_line_init(&d->com1_irq, IRQ_COM1);

	if (!r)
		r = devices_wire_irq(vm, &d->com1_irq);
	if (!r)
		r = uart_init(&d->uart, &d->com1_irq);
	if (r) {
		snprintf(err, errlen, "serial port: %s", strerror(-r));
		return r;
	}
	d->uart_ok = true;
	r = console_init(&d->console, &vm->loop, &d->uart, vm->io.in_fd, vm->io.out_fd,
			 cfg->console_log, cfg->console_log_max, err, errlen);
	if (r)
		return r;
	d->console_ok = true;
	if (vm->io.sink)
		console_set_sink(&d->console, vm->io.sink, vm->io.sink_opaque);
	uart_set_host(&d->uart, &(struct uart_host){ serial_tx, serial_rx_room, d });
	return reg_pio(vm, PORT_COM1, UART_NR_REGS, &uart_bus_ops, &d->uart, "com1", err,
		       errlen);
}

static int create_platform(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
{
	int r = i8042_init(&d->kbd, &vm->stop);

	if (r) {
		snprintf(err, errlen, "i8042: %s", strerror(-r));
		return r;
	}
	d->kbd_ok = true;
	r = rtc_init(&d->rtc);
	if (r) {
		snprintf(err, errlen, "rtc: %s", strerror(-r));
		return r;
	}
	d->rtc_ok = true;
	exit_port_init(&d->exitp, &vm->stop);
	acpi_pm_init(&d->pm, &vm->stop);
	r = reg_pio(vm, PORT_I8042, I8042_NR_PORTS, &i8042_bus_ops, &d->kbd, "i8042", err,
		    errlen);
	if (!r)
		r = reg_pio(vm, PORT_RTC, RTC_NR_PORTS, &rtc_bus_ops, &d->rtc, "rtc", err, errlen);
	if (!r)
		r = reg_pio(vm, PORT_EXIT, 1, &exit_port_bus_ops, &d->exitp, "exit", err,
			    errlen);
	if (!r)
		r = reg_pio(vm, PORT_ACPI_SLEEP_CTL, ACPI_PM_NR_PORTS, &acpi_pm_bus_ops, &d->pm,
			    "acpi-pm", err, errlen);
	return r;
}

int devices_create(struct vm *vm, char *err, size_t errlen)
{
	struct vm_devices *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->com1_irq.fd = -1;
	d->vm = vm;
	vm->devs = d;
	int r = create_serial(vm, d, err, errlen);
	if (!r)
		r = create_platform(vm, d, err, errlen);
	if (!r)
		r = vm_virtio_create(&d->virtio, vm, err, errlen);
	/* Accepted so that Firecracker configs run unchanged, but not silently. */
	for (size_t i = 0; !r && i < vm->cfg->nnets; i++)
		log_err("warning: network interface %s (tap %s) is not attached: "
			"mote has no network device yet", vm->cfg->nets[i].id,
			vm->cfg->nets[i].tap);
	return r;
}

size_t devices_acpi(const struct vm *vm, struct acpi_dev *out, size_t max)
{
	size_t n = 0;

	if (max == 0)
		return 0;
	out[n++] = (struct acpi_dev){ ACPI_DEV_UART, PORT_COM1, UART_NR_REGS, IRQ_COM1 };
	return n + vm_virtio_acpi(&vm->devs->virtio, out + n, max - n);
}

char *devices_cmdline(const struct vm *vm)
{
	return vm_virtio_cmdline(&vm->devs->virtio);
}

int devices_start(struct vm *vm)
{
	return vm_virtio_start(&vm->devs->virtio, vm);
}

void devices_restore_tty(struct vm *vm)
{
	if (vm->devs && vm->devs->console_ok)
		console_restore_tty(&vm->devs->console);
}

void devices_release(struct vm *vm)
{
	struct vm_devices *d = vm->devs;

	if (!d)
		return;
	vm_virtio_release(&d->virtio);
	if (d->console_ok)
		console_release(&d->console);
	if (d->uart_ok)
		uart_release(&d->uart);
	if (d->kbd_ok)
		i8042_release(&d->kbd);
	if (d->rtc_ok)
		rtc_release(&d->rtc);
	irq_line_release(&d->com1_irq);
	free(d);
	vm->devs = NULL;
}
