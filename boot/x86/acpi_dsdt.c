/*
 * The DSDT's AML: one device per struct acpi_dev under \_SB, and the \_S5
 * package that makes Linux power off by writing SLP_TYP|SLP_EN to the
 * FADT's sleep control register.
 *
 *   Scope (\_SB) {
 *     Device (COM1) { _HID EisaId("PNP0501"), _UID 1,
 *                     _CRS { IO (Decode16, base, base, 1, len), IRQNoFlags {irq} } }
 *     Device (VR00) { _HID "LNRO0005", _UID 0,
 *                     _CRS { Memory32Fixed (ReadWrite, base, len),
 *                            Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {irq} } }
 *   }
 *   Name (_S5, Package () { S5, S5, 0, 0 })
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "boot/x86/acpi.h"
#include "boot/x86/acpi_dsdt.h"
#include "boot/x86/aml.h"
#include "boot/x86/layout.h"

#define MAX_UARTS      9      /* COM1..COM9 */
#define MAX_VIRTIO     256    /* VR00..VRFF */
#define CRS_MAX        32

/* Resource descriptors (ACPI spec, "Resource Data Types for ACPI"). */
#define RES_IO         0x47   /* small, 7 bytes of data */
#define RES_IRQ_NOFLAGS 0x22  /* small, 2 bytes: IRQ mask */
#define RES_END        0x79   /* small, 1 byte: checksum (0 = none) */
#define RES_MEM32_FIXED 0x86  /* large, 9 bytes of data */
#define RES_EXT_IRQ    0x89   /* large, 6 bytes with one interrupt */
#define IO_DECODE16    0x01
#define MEM_READWRITE  0x01
#define IRQ_CONSUMER   0x01
#define IRQ_EDGE       0x02   /* active high, exclusive: bits left zero */

struct crs {
	uint8_t b[CRS_MAX];
	size_t n;
};

static void put(struct crs *c, uint64_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		c->b[c->n++] = (uint8_t)(v >> (8 * i));
}

/*
 * The short IRQNoFlags descriptor suits ISA devices (IRQ < 16); Interrupt()
 * takes any GSI and is what virtio-mmio devices use.
 */
static void crs_irq(struct crs *c, uint32_t irq, bool isa)
{
	if (isa && irq < 16) {
		put(c, RES_IRQ_NOFLAGS, 1);
		put(c, 1U << irq, 2);
		return;
	}
	put(c, RES_EXT_IRQ, 1);
	put(c, 6, 2);
	put(c, IRQ_CONSUMER | IRQ_EDGE, 1);
	put(c, 1, 1);           /* one interrupt number follows */
	put(c, irq, 4);
}

static void crs_end(struct crs *c)
{
	put(c, RES_END, 1);
	put(c, 0, 1);
}

static void uart_device(struct aml *a, const struct acpi_dev *d, unsigned idx)
{
	struct crs crs = { .n = 0 };
	char name[5];

	put(&crs, RES_IO, 1);
	put(&crs, IO_DECODE16, 1);
	put(&crs, d->base, 2);  /* minimum */
	put(&crs, d->base, 2);  /* maximum */
	put(&crs, 1, 1);        /* alignment */
	put(&crs, d->len, 1);
	crs_irq(&crs, d->irq, true);
	crs_end(&crs);

	snprintf(name, sizeof(name), "COM%u", idx + 1);
	aml_device(a, name);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, idx + 1);
	aml_name_buffer(a, "_CRS", crs.b, crs.n);
	aml_close(a);
}

static void virtio_device(struct aml *a, const struct acpi_dev *d, unsigned idx)
{
	struct crs crs = { .n = 0 };
	char name[5];

	put(&crs, RES_MEM32_FIXED, 1);
	put(&crs, 9, 2);
	put(&crs, MEM_READWRITE, 1);
	put(&crs, d->base, 4);
	put(&crs, d->len, 4);
	crs_irq(&crs, d->irq, false);
	crs_end(&crs);

	snprintf(name, sizeof(name), "VR%02X", idx);
	aml_device(a, name);
	aml_name(a, "_HID");
	aml_string(a, "LNRO0005");
	aml_name(a, "_UID");
	aml_integer(a, idx);
	aml_name_buffer(a, "_CRS", crs.b, crs.n);
	aml_close(a);
}

/* Ranges the descriptors can express, and GSIs the IOAPIC has. */
static int check_dev(const struct acpi_dev *d)
{
	if (d->irq > IRQ_MAX || d->len == 0)
		return -EINVAL;
	switch (d->kind) {
	case ACPI_DEV_UART:
		return d->len <= 0xff && d->base <= 0x10000 - d->len ? 0 : -EINVAL;
	case ACPI_DEV_VIRTIO_MMIO:
		return d->base <= 0x100000000ULL - d->len ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int check_devs(const struct acpi_dev *devs, size_t n)
{
	size_t uarts = 0, virtio = 0;

	for (size_t i = 0; i < n; i++) {
		int ret = check_dev(&devs[i]);
		if (ret)
			return ret;
		if (devs[i].kind == ACPI_DEV_UART)
			uarts++;
		else
			virtio++;
	}
	return uarts > MAX_UARTS || virtio > MAX_VIRTIO ? -ENOSPC : 0;
}

long acpi_dsdt_body(void *buf, size_t cap, const struct acpi_dev *devs, size_t n)
{
	unsigned uarts = 0, virtio = 0;
	struct aml a;
	int ret = check_devs(devs, n);

	if (ret)
		return ret;
	aml_init(&a, buf, cap);
	aml_scope(&a, "\\_SB_");
	for (size_t i = 0; i < n; i++) {
		if (devs[i].kind == ACPI_DEV_UART)
			uart_device(&a, &devs[i], uarts++);
		else
			virtio_device(&a, &devs[i], virtio++);
	}
	aml_close(&a);
	aml_name(&a, "_S5_");
	aml_package(&a, 4);
	aml_integer(&a, ACPI_S5_SLP_TYP);  /* SLP_TYPa */
	aml_integer(&a, ACPI_S5_SLP_TYP);  /* SLP_TYPb */
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);
	return aml_finish(&a);
}
