/*
 * ACPI tables for a hardware-reduced platform, built in a host-side copy
 * of [LAYOUT_ACPI, LAYOUT_ACPI_END) and written to the guest in one go.
 * The RSDP comes first so a legacy scan of 0xE0000.. finds it; the other
 * tables follow, each 16-byte aligned, built in dependency order (the DSDT
 * before the FADT that points to it, the XSDT last).
 */
#include "boot/x86/acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/x86/acpi_dsdt.h"
#include "boot/x86/acpi_tables.h"
#include "boot/x86/layout.h"
#include "vmm/base/gmem.h"

#define ACPI_ALIGN           16
#define ACPI_MAX_CPUS        254   /* 8-bit APIC IDs; 0xff is broadcast */
#define ACPI_OEM_ID          "MOTE  "
#define ACPI_OEM_TABLE_ID    "MOTEVM  "
#define ACPI_CREATOR_ID      "MOTE"

#define FADT_REVISION        6
#define FADT_HW_REDUCED      (1U << 20)
#define FADT_RESET_REG_SUP   (1U << 10)
#define FADT_PWR_BUTTON      (1U << 4)    /* no fixed-hardware power button */
#define FADT_SLP_BUTTON      (1U << 5)    /* no fixed-hardware sleep button */
#define BOOT_ARCH_NO_VGA     (1U << 2)
#define GAS_SYSTEM_IO        1
#define GAS_ACCESS_BYTE      1

#define MADT_REVISION        5
#define MADT_PCAT_COMPAT     1
#define MADT_LAPIC           0
#define MADT_IOAPIC          1
#define MADT_ISO             2
#define MADT_LAPIC_NMI       4
#define MADT_ENABLED         1
#define MADT_ALL_CPUS        0xff
#define PIT_ISA_IRQ          0
#define PIT_GSI              2            /* where KVM's IOAPIC routes the PIT */

struct area {
	uint8_t *base;                    /* host copy of the ACPI area */
	size_t len, cap;
};

/* Room for n bytes at the next aligned offset, or NULL if it is full. */
static void *area_alloc(struct area *a, size_t n, uint64_t *gpa)
{
	size_t off = (a->len + ACPI_ALIGN - 1) & ~(size_t)(ACPI_ALIGN - 1);

	if (off > a->cap || n > a->cap - off)
		return NULL;
	a->len = off + n;
	*gpa = LAYOUT_ACPI + off;
	return a->base + off;
}

/* The byte that makes p[0..n) sum to zero. */
static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void header_init(struct acpi_header *h, const char *sig, uint32_t len,
			uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Call last: the checksum covers the whole table. */
static void header_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, h->length);
}

static int build_dsdt(struct area *a, const struct acpi_dev *devs, size_t n,
		      uint64_t *gpa)
{
	size_t off = (a->len + ACPI_ALIGN - 1) & ~(size_t)(ACPI_ALIGN - 1);
	size_t hlen = sizeof(struct acpi_header);
	struct acpi_header *h;
	long body;

	if (off > a->cap || hlen > a->cap - off)
		return -ENOSPC;
	body = acpi_dsdt_body(a->base + off + hlen, a->cap - off - hlen, devs, n);
	if (body < 0)
		return (int)body;
	h = area_alloc(a, hlen + body, gpa);
	header_init(h, "DSDT", hlen + body, 2);  /* rev 2: 64-bit integers */
	header_seal(h);
	return 0;
}

static struct acpi_gas io_byte_reg(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = GAS_SYSTEM_IO, .bit_width = 8,
		.access_size = GAS_ACCESS_BYTE, .address = port,
	};
}

static int build_fadt(struct area *a, uint64_t dsdt, uint64_t *gpa)
{
	struct acpi_fadt *f = area_alloc(a, sizeof(*f), gpa);

	if (!f)
		return -ENOSPC;
	header_init(&f->h, "FACP", sizeof(*f), FADT_REVISION);
	f->flags = FADT_HW_REDUCED | FADT_RESET_REG_SUP | FADT_PWR_BUTTON |
		   FADT_SLP_BUTTON;
	/* No 8042 flag: Linux then skips probing for a PS/2 controller. */
	f->iapc_boot_arch = BOOT_ARCH_NO_VGA;
	f->p_lvl2_lat = 101;    /* > 100: no C2 */
	f->p_lvl3_lat = 1001;   /* > 1000: no C3 */
	f->reset_reg = io_byte_reg(PORT_ACPI_RESET);
	f->reset_value = ACPI_RESET_VALUE;
	f->x_dsdt = dsdt;
	f->sleep_control_reg = io_byte_reg(PORT_ACPI_SLEEP_CTL);
	f->sleep_status_reg = io_byte_reg(PORT_ACPI_SLEEP_STS);
	memcpy(f->hypervisor_vendor, "MOTE", 4);
	header_seal(&f->h);
	return 0;
}

static void madt_entries(uint8_t *p, unsigned ncpus)
{
	struct acpi_madt_ioapic io = {
		MADT_IOAPIC, sizeof(io), (uint8_t)ncpus, 0, LAYOUT_IOAPIC, 0,
	};
	struct acpi_madt_iso iso = {
		MADT_ISO, sizeof(iso), 0, PIT_ISA_IRQ, PIT_GSI, 0,
	};
	struct acpi_madt_lapic_nmi nmi = {
		MADT_LAPIC_NMI, sizeof(nmi), MADT_ALL_CPUS, 0, 1,  /* LINT1 */
	};

	for (unsigned i = 0; i < ncpus; i++) {
		struct acpi_madt_lapic l = {
			MADT_LAPIC, sizeof(l), (uint8_t)i, (uint8_t)i, MADT_ENABLED,
		};
		memcpy(p, &l, sizeof(l));
		p += sizeof(l);
	}
	memcpy(p, &io, sizeof(io));  /* IOAPIC ID: the first one no CPU uses */
	p += sizeof(io);
	memcpy(p, &iso, sizeof(iso));
	p += sizeof(iso);
	memcpy(p, &nmi, sizeof(nmi));
}

static int build_madt(struct area *a, unsigned ncpus, uint64_t *gpa)
{
	size_t len = sizeof(struct acpi_madt) +
		     ncpus * sizeof(struct acpi_madt_lapic) +
		     sizeof(struct acpi_madt_ioapic) + sizeof(struct acpi_madt_iso) +
		     sizeof(struct acpi_madt_lapic_nmi);
	struct acpi_madt *m = area_alloc(a, len, gpa);

	if (!m)
		return -ENOSPC;
	header_init(&m->h, "APIC", len, MADT_REVISION);
	m->lapic_address = LAYOUT_LAPIC;
	m->flags = MADT_PCAT_COMPAT;
	madt_entries((uint8_t *)(m + 1), ncpus);
	header_seal(&m->h);
	return 0;
}

static int build_xsdt(struct area *a, const uint64_t *tables, unsigned n,
		      uint64_t *gpa)
{
	size_t len = sizeof(struct acpi_header) + n * sizeof(uint64_t);
	struct acpi_header *h = area_alloc(a, len, gpa);

	if (!h)
		return -ENOSPC;
	header_init(h, "XSDT", len, 1);
	memcpy(h + 1, tables, n * sizeof(uint64_t));  /* entries may be unaligned */
	header_seal(h);
	return 0;
}

static void fill_rsdp(struct acpi_rsdp *r, uint64_t xsdt)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = checksum(r, 20);  /* the ACPI 1.0 part */
	r->ext_checksum = checksum(r, sizeof(*r));
}

static int build_all(struct area *a, unsigned ncpus, const struct acpi_dev *devs,
		     size_t ndevs, uint64_t *rsdp_gpa)
{
	uint64_t dsdt, tables[2], xsdt;
	struct acpi_rsdp *rsdp = area_alloc(a, sizeof(*rsdp), rsdp_gpa);
	int ret;

	if (!rsdp)
		return -ENOSPC;
	ret = build_dsdt(a, devs, ndevs, &dsdt);
	if (!ret)
		ret = build_fadt(a, dsdt, &tables[0]);
	if (!ret)
		ret = build_madt(a, ncpus, &tables[1]);
	if (!ret)
		ret = build_xsdt(a, tables, 2, &xsdt);
	if (!ret)
		fill_rsdp(rsdp, xsdt);
	return ret;
}

int acpi_build(struct gmem *mem, unsigned ncpus, const struct acpi_dev *devs,
	       size_t ndevs, uint64_t *rsdp_gpa)
{
	struct area a = { .cap = LAYOUT_ACPI_END - LAYOUT_ACPI };
	int ret;

	if (ncpus == 0 || (ndevs && !devs))
		return -EINVAL;
	if (ncpus > ACPI_MAX_CPUS)
		return -ENOSPC;
	a.base = calloc(1, a.cap);
	if (!a.base)
		return -ENOMEM;
	ret = build_all(&a, ncpus, devs, ndevs, rsdp_gpa);
	if (!ret)
		ret = gmem_write(mem, LAYOUT_ACPI, a.base, a.len);
	free(a.base);
	return ret;
}
