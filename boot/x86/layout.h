/*
 * mote's x86 guest-physical memory map and fixed I/O ports: the one place
 * that says where things are. Boot code, ACPI tables and the device wiring
 * all take their addresses from here.
 *
 *   0x0000_0000  real-mode IVT and BDA (left zero)
 *   0x0000_0500  GDT
 *   0x0000_7000  boot_params (the "zero page")
 *   0x0000_9000  identity page tables: PML4, PDPT, 4 PDs (2 MiB pages, 4 GiB)
 *   0x0002_0000  kernel command line (up to 64 KiB)
 *   0x0008_0000  boot stack top (grows down)
 *   0x0009_fc00  end of low RAM (EBDA area reserved)
 *   0x000e_0000  ACPI tables (RSDP first, so legacy scans find it)
 *   0x0010_0000  kernel (bzImage protected-mode part, or ELF segments)
 *   ...          initrd, placed as high as allowed below 4 GiB
 *   0xc000_0000  32-bit MMIO hole start (RAM above this moves to 4 GiB)
 *   0xd000_0000  virtio-mmio devices, 4 KiB apart
 *   0xfec0_0000  IOAPIC (in-kernel)
 *   0xfee0_0000  LAPIC (in-kernel)
 *   0x1_0000_0000 RAM beyond the hole
 */
#ifndef MOTE_BOOT_LAYOUT_H
#define MOTE_BOOT_LAYOUT_H

#define LAYOUT_GDT            0x500ULL
#define LAYOUT_ZERO_PAGE      0x7000ULL
#define LAYOUT_PML4           0x9000ULL   /* PDPT at +0x1000, PDs after */
#define LAYOUT_CMDLINE        0x20000ULL
#define LAYOUT_CMDLINE_MAX    0x10000ULL
#define LAYOUT_BOOT_STACK     0x80000ULL
#define LAYOUT_EBDA           0x9fc00ULL
#define LAYOUT_ACPI           0xe0000ULL
#define LAYOUT_ACPI_END       0x100000ULL
#define LAYOUT_HIMEM          0x100000ULL
#define LAYOUT_MMIO_HOLE      0xc0000000ULL
#define LAYOUT_4G             0x100000000ULL
#define LAYOUT_VIRTIO_MMIO    0xd0000000ULL
#define LAYOUT_VIRTIO_STRIDE  0x1000ULL
#define LAYOUT_IOAPIC         0xfec00000ULL
#define LAYOUT_LAPIC          0xfee00000ULL
/* KVM needs three pages for the TSS and one for the identity map; they
 * sit just below the IOAPIC, inside the hole, away from RAM. */
#define LAYOUT_KVM_TSS        0xfeffc000ULL
#define LAYOUT_KVM_IDENTITY   0xfeffb000ULL

/* Fixed I/O ports. */
#define PORT_COM1             0x3f8
#define IRQ_COM1              4
#define PORT_I8042            0x60       /* data; command/status at 0x64 */
#define PORT_RTC              0x70       /* CMOS index; data at 0x71 */
#define PORT_EXIT             0x501      /* one byte: the guest job's status */
#define PORT_BOOT_TIMER       0x502      /* one byte: a boot step's code */
#define PORT_ACPI_SLEEP_CTL   0x600      /* FADT SLEEP_CONTROL_REG (1 byte) */
#define PORT_ACPI_SLEEP_STS   0x601      /* FADT SLEEP_STATUS_REG (1 byte) */
#define PORT_ACPI_RESET       0x602      /* FADT RESET_REG (1 byte) */
#define ACPI_RESET_VALUE      0x1
#define ACPI_S5_SLP_TYP       5          /* _S5 package value in the DSDT */

/* GSIs for virtio-mmio devices: 5, 6, 7, then 9.. (8 is the RTC's). */
#define IRQ_VIRTIO_FIRST      5
#define IRQ_MAX               23         /* IOAPIC has 24 pins */

#endif
