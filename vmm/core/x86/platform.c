/*
 * x86's device placement and its own platform devices: COM1, the exit
 * port and the boot timer at fixed I/O ports, virtio-mmio windows in the
 * 32-bit hole, and the PC pieces a Linux guest expects (the i8042, whose
 * reset line is reboot=k's, the CMOS RTC, and the ACPI sleep and reset
 * registers the FADT names).
 */
#include "boot/x86/layout.h"
#include "devices/x86/acpi_pm.h"
#include "devices/x86/i8042.h"
#include "devices/x86/rtc.h"
#include "vmm/core/arch.h"
#include "vmm/core/devices_priv.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct arch_platform_map x86_map = {
	.console = { ARCH_BUS_PIO, PORT_COM1, IRQ_COM1 },
	.exit = { ARCH_BUS_PIO, PORT_EXIT, 0 },
	.boot_timer = { ARCH_BUS_PIO, PORT_BOOT_TIMER, 0 },
};

const struct arch_platform_map *arch_platform_map(void)
{
	return &x86_map;
}

/* GSIs 5..23 less COM1's and the RTC's: room for 18; two stay spare. */
#define X86_MAX_VIRTIO 16

/* GSIs 5, 6, 7, then 9 onwards: 4 is COM1's and 8 stays the RTC's. */
int arch_virtio_place(unsigned n, uint64_t *base, uint32_t *irq)
{
	if (n >= X86_MAX_VIRTIO)
		return -ENOSPC;
	uint32_t gsi = IRQ_VIRTIO_FIRST + n;
	*base = LAYOUT_VIRTIO_MMIO + n * LAYOUT_VIRTIO_STRIDE;
	*irq = gsi >= 8 ? gsi + 1 : gsi;
	return 0;
}

struct x86_legacy {
	struct i8042 kbd;
	struct rtc rtc;
	struct acpi_pm pm;
	bool kbd_ok, rtc_ok;
};

static void release_legacy(struct dev_slot *s)
{
	struct x86_legacy *l = s->priv;

	if (l->kbd_ok)
		i8042_release(&l->kbd);
	if (l->rtc_ok)
		rtc_release(&l->rtc);
	free(l);
}

static int reg_pio(struct vm *vm, uint16_t port, uint64_t len, const struct bus_ops *ops,
		   void *dev, const char *name, char *err, size_t errlen)
{
	const struct arch_place at = { ARCH_BUS_PIO, port, 0 };

	return devices_register(vm, &at, len, ops, dev, name, err, errlen);
}

static int create_legacy(struct vm *vm, struct x86_legacy *l, char *err, size_t errlen)
{
	int r = i8042_init(&l->kbd, &vm->stop);

	if (r) {
		snprintf(err, errlen, "i8042: %s", strerror(-r));
		return r;
	}
	l->kbd_ok = true;
	r = rtc_init(&l->rtc);
	if (r) {
		snprintf(err, errlen, "rtc: %s", strerror(-r));
		return r;
	}
	l->rtc_ok = true;
	acpi_pm_init(&l->pm, &vm->stop);
	r = reg_pio(vm, PORT_I8042, I8042_NR_PORTS, &i8042_bus_ops, &l->kbd, "i8042", err,
		    errlen);
	if (!r)
		r = reg_pio(vm, PORT_RTC, RTC_NR_PORTS, &rtc_bus_ops, &l->rtc, "rtc", err, errlen);
	if (!r)
		r = reg_pio(vm, PORT_ACPI_SLEEP_CTL, ACPI_PM_NR_PORTS, &acpi_pm_bus_ops, &l->pm,
			    "acpi-pm", err, errlen);
	return r;
}

/* The devices the guest finds at fixed ports, with no table entry. */
int arch_platform_devices(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
{
	struct x86_legacy *l = calloc(1, sizeof(*l));
	struct dev_slot *s = l ? devices_new_slot(d, "pc-legacy") : NULL;

	if (!s) {
		free(l);
		return l ? -ENOSPC : -ENOMEM;
	}
	s->priv = l;
	s->release = release_legacy;
	return create_legacy(vm, l, err, errlen);
}
