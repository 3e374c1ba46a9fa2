/* The DSDT's AML body, built from the VM's device list. Private to boot/. */
#ifndef MOTE_BOOT_ACPI_DSDT_H
#define MOTE_BOOT_ACPI_DSDT_H

#include <stddef.h>

struct acpi_dev;

/*
 * Emit the AML (everything after the table header) into buf. Returns its
 * length, or -EINVAL (a device the descriptors cannot express), -ENOSPC
 * (no room, or too many devices of one kind to name).
 */
long acpi_dsdt_body(void *buf, size_t cap, const struct acpi_dev *devs, size_t n)
	__attribute__((warn_unused_result));

#endif
