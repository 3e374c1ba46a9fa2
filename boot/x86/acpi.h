/*
 * ACPI tables for a hardware-reduced x86 platform: RSDP, XSDT, FADT, MADT
 * and a DSDT describing mote's devices. Stock distribution kernels discover
 * the vCPUs (MADT) and the virtio-mmio devices (DSDT, _HID "LNRO0005")
 * only this way. Knows nothing of KVM.
 */
#ifndef MOTE_BOOT_ACPI_H
#define MOTE_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct gmem;

enum acpi_dev_kind {
	ACPI_DEV_UART,         /* 16550, PNP0501: I/O ports + ISA IRQ */
	ACPI_DEV_VIRTIO_MMIO,  /* LNRO0005: 32-bit memory range + GSI */
};

/* What a device contributes to the DSDT; the VM walks its devices and
 * hands this list to acpi_build(). */
struct acpi_dev {
	enum acpi_dev_kind kind;
	uint64_t base;         /* port or guest-physical address */
	uint32_t len;
	uint32_t irq;          /* GSI */
};

/*
 * Build all tables at boot/x86/layout.h's LAYOUT_ACPI (must fit below
 * LAYOUT_ACPI_END). ncpus: one LAPIC entry each, APIC IDs 0..ncpus-1.
 * Returns 0 and the RSDP's address, or -errno (-ENOSPC if they do not fit).
 */
int acpi_build(struct gmem *mem, unsigned ncpus, const struct acpi_dev *devs,
	       size_t ndevs, uint64_t *rsdp_gpa)
	__attribute__((warn_unused_result));

#endif
