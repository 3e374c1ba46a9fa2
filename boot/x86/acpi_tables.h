/*
 * ACPI table layouts mote writes (ACPI 6.x, chapter 5): the RSDP, the
 * common table header, generic address structures, the FADT and the MADT
 * and its entries. Static asserts pin the offsets to the spec. Private to
 * boot/.
 */
#ifndef MOTE_BOOT_ACPI_TABLES_H
#define MOTE_BOOT_ACPI_TABLES_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

struct acpi_rsdp {
	char     signature[8];       /* "RSD PTR " */
	uint8_t  checksum;           /* first 20 bytes */
	char     oem_id[6];
	uint8_t  revision;           /* 2: ACPI 2.0+ with XSDT */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t  ext_checksum;       /* whole structure */
	uint8_t  reserved[3];
} __attribute__((packed));

struct acpi_header {
	char     signature[4];
	uint32_t length;
	uint8_t  revision;
	uint8_t  checksum;
	char     oem_id[6];
	char     oem_table_id[8];
	uint32_t oem_revision;
	char     creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t  space_id;           /* 1: system I/O */
	uint8_t  bit_width;
	uint8_t  bit_offset;
	uint8_t  access_size;        /* 1: byte */
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t  reserved0;
	uint8_t  preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t  acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t  pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t  gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t  duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t  reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t  reset_value;
	uint16_t arm_boot_arch;
	uint8_t  minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk, x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char     hypervisor_vendor[8];
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_lapic {            /* type 0 */
	uint8_t  type, length;
	uint8_t  processor_uid;
	uint8_t  apic_id;
	uint32_t flags;
} __attribute__((packed));

struct acpi_madt_ioapic {           /* type 1 */
	uint8_t  type, length;
	uint8_t  ioapic_id;
	uint8_t  reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_iso {              /* type 2: interrupt source override */
	uint8_t  type, length;
	uint8_t  bus;
	uint8_t  source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct acpi_madt_lapic_nmi {        /* type 4 */
	uint8_t  type, length;
	uint8_t  processor_uid;
	uint16_t flags;
	uint8_t  lint;
} __attribute__((packed));

static_assert(sizeof(struct acpi_rsdp) == 36, "rsdp");
static_assert(sizeof(struct acpi_header) == 36, "header");
static_assert(sizeof(struct acpi_gas) == 12, "gas");
static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "sci");
static_assert(offsetof(struct acpi_fadt, pm1_evt_len) == 88, "pm1 len");
static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "boot arch");
static_assert(offsetof(struct acpi_fadt, flags) == 112, "flags");
static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "reset reg");
static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "reset value");
static_assert(offsetof(struct acpi_fadt, minor_version) == 131, "minor");
static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "x_dsdt");
static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "sleep ctl");
static_assert(offsetof(struct acpi_fadt, sleep_status_reg) == 256, "sleep sts");
static_assert(sizeof(struct acpi_fadt) == 276, "fadt");
static_assert(sizeof(struct acpi_madt) == 44, "madt");
static_assert(sizeof(struct acpi_madt_lapic) == 8, "lapic");
static_assert(sizeof(struct acpi_madt_ioapic) == 12, "ioapic");
static_assert(sizeof(struct acpi_madt_iso) == 10, "iso");
static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "nmi");

#endif
