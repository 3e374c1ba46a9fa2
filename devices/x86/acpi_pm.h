/*
 * Hardware-reduced ACPI power management: the FADT's sleep control,
 * sleep status and reset registers, one byte each at PORT_ACPI_SLEEP_CTL
 * (offset 0), PORT_ACPI_SLEEP_STS (1) and PORT_ACPI_RESET (2):
 *   bus_register(&pio, PORT_ACPI_SLEEP_CTL, ACPI_PM_NR_PORTS, &acpi_pm_bus_ops, &pm, "acpi-pm")
 *
 * Entering S5 (SLP_EN with SLP_TYP == ACPI_S5_SLP_TYP) stops the VM with
 * STOP_POWEROFF; writing ACPI_RESET_VALUE to the reset register stops it
 * with STOP_REBOOT. Other sleep states are not modelled: the request is
 * counted and the guest "wakes" at once (WAK_STS set), so its wait for
 * the wake status ends.
 */
#ifndef MOTE_DEVICES_ACPI_PM_H
#define MOTE_DEVICES_ACPI_PM_H

#include <stdint.h>

#include "vmm/base/stop.h"

struct bus_ops;

#define ACPI_PM_NR_PORTS 3

/* Callers allocate it; holds no resources, so there is no release. */
struct acpi_pm {
	struct stop_hook stop;
	uint8_t sleep_status;      /* WAK_STS (bit 7); atomic */
	uint64_t ignored_sleeps;   /* requests for other sleep states; atomic */
};

/* stop is copied. */
void acpi_pm_init(struct acpi_pm *pm, const struct stop_hook *stop);

/* Bus handlers; opaque is the struct acpi_pm. */
extern const struct bus_ops acpi_pm_bus_ops;

#endif
