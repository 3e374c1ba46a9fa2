/*
 * The x86 Linux boot ABI as mote uses it: the real-mode setup header that
 * starts at offset 0x1f1 of a bzImage, and struct boot_params (the "zero
 * page") that carries it plus the e820 map to the kernel. Layout from
 * Documentation/arch/x86/boot.rst and zero-page.rst; the static asserts
 * pin every offset mote reads or writes. Private to boot/.
 */
#ifndef MOTE_BOOT_BOOTPARAM_H
#define MOTE_BOOT_BOOTPARAM_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define BP_SETUP_HDR_OFF      0x1f1     /* setup header, in image and zero page */
#define BP_BOOT_FLAG          0xaa55
#define BP_HDRS_MAGIC         0x53726448  /* "HdrS" */
#define BP_SECTOR             512
#define BP_DEFAULT_SETUP_SECTS 4        /* setup_sects 0 means 4 */
#define BP_ENTRY64_OFF        0x200     /* 64-bit entry: load address + 0x200 */

/* loadflags */
#define BP_LOADED_HIGH        0x01
#define BP_CAN_USE_HEAP       0x80

/* xloadflags */
#define BP_XLF_KERNEL_64      0x01

#define BP_LOADER_UNDEFINED   0xff      /* type_of_loader: not a registered id */
#define BP_E820_MAX           128

/* e820 entry types */
#define E820_RAM              1
#define E820_RESERVED         2

struct setup_header {
	uint8_t  setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t  type_of_loader;
	uint8_t  loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t  ext_loader_ver;
	uint8_t  ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t  relocatable_kernel;
	uint8_t  min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_params {
	uint8_t  screen_info[0x40];
	uint8_t  apm_bios_info[0x14];
	uint8_t  pad2[4];
	uint64_t tboot_addr;
	uint8_t  ist_info[0x10];
	uint64_t acpi_rsdp_addr;
	uint8_t  pad3[8];
	uint8_t  hd0_info[16];
	uint8_t  hd1_info[16];
	uint8_t  sys_desc_table[0x10];
	uint8_t  olpc_ofw_header[0x10];
	uint32_t ext_ramdisk_image;
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t  pad4[112];
	uint32_t cc_blob_address;
	uint8_t  edid_info[0x80];
	uint8_t  efi_info[0x20];
	uint32_t alt_mem_k;
	uint32_t scratch;
	uint8_t  e820_entries;
	uint8_t  eddbuf_entries;
	uint8_t  edd_mbr_sig_buf_entries;
	uint8_t  kbd_status;
	uint8_t  secure_boot;
	uint8_t  pad5[2];
	uint8_t  sentinel;
	uint8_t  pad6[1];
	struct setup_header hdr;
	uint8_t  pad7[0x290 - 0x1f1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[16];
	struct e820_entry e820_table[BP_E820_MAX];
	uint8_t  pad8[48];
	uint8_t  eddbuf[6 * 82];
	uint8_t  pad9[276];
} __attribute__((packed));

static_assert(sizeof(struct e820_entry) == 20, "e820 entry");
static_assert(offsetof(struct setup_header, header) == 0x202 - 0x1f1, "HdrS");
static_assert(offsetof(struct setup_header, version) == 0x206 - 0x1f1, "version");
static_assert(offsetof(struct setup_header, type_of_loader) == 0x210 - 0x1f1, "loader");
static_assert(offsetof(struct setup_header, ramdisk_image) == 0x218 - 0x1f1, "ramdisk");
static_assert(offsetof(struct setup_header, heap_end_ptr) == 0x224 - 0x1f1, "heap");
static_assert(offsetof(struct setup_header, cmd_line_ptr) == 0x228 - 0x1f1, "cmdline");
static_assert(offsetof(struct setup_header, xloadflags) == 0x236 - 0x1f1, "xlf");
static_assert(offsetof(struct setup_header, cmdline_size) == 0x238 - 0x1f1, "cmdsz");
static_assert(offsetof(struct setup_header, pref_address) == 0x258 - 0x1f1, "pref");
static_assert(offsetof(struct setup_header, init_size) == 0x260 - 0x1f1, "init");
static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup header");
static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "rsdp");
static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "ext rd");
static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0x0c8, "ext cmd");
static_assert(offsetof(struct boot_params, cc_blob_address) == 0x13c, "cc blob");
static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820 n");
static_assert(offsetof(struct boot_params, sentinel) == 0x1ef, "sentinel");
static_assert(offsetof(struct boot_params, hdr) == BP_SETUP_HDR_OFF, "hdr");
static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820");
static_assert(offsetof(struct boot_params, eddbuf) == 0xd00, "edd");
static_assert(sizeof(struct boot_params) == 4096, "zero page");

#endif
