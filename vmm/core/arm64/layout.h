/*
 * arm64's fixed guest-physical map, modelled on QEMU's virt machine (so
 * the addresses are familiar from its device trees), and the interrupt
 * numbers. The guest learns all of it from the device tree
 * (boot/arm64/fdt.c); nothing is probed.
 *
 *   0x08000000  GIC distributor                       64 KiB
 *   0x08010000  GICv2 CPU interface (v2 only)          8 KiB
 *   0x080A0000  GICv3 redistributors, 128 KiB per vCPU, up to the UART:
 *               room for 123 vCPUs (a GICv2 serves at most 8)
 *   0x09000000  UART, a 16550A (devices/uart.c)        4 KiB window
 *   0x09010000  exit device, "mote,exit"               4 KiB window
 *   0x09020000  boot timer, "mote,boot-timer"          4 KiB window
 *   0x0a000000  virtio-mmio, one 4 KiB window each     up to 32
 *   0x40000000  RAM, one region, up to the IPA limit
 *
 * The exit device and the boot timer decode one byte at offset 0 (the bus
 * ignores every other access in their windows, and reads return 0).
 *
 * Interrupts: SPIs, INTIDs 32 onwards. mote's interrupt lines (irqfd) use
 * KVM's default GSI routing on arm64, where GSI n is SPI n, INTID n + 32:
 * struct arch_place and struct arch_dev carry the GSI, the device tree
 * the INTID.
 */
#ifndef MOTE_CORE_ARM64_LAYOUT_H
#define MOTE_CORE_ARM64_LAYOUT_H

#define A64_GIC_DIST          0x08000000ULL
#define A64_GIC_DIST_SIZE     0x10000ULL
#define A64_GICV2_CPU         0x08010000ULL
#define A64_GICV2_CPU_SIZE    0x2000ULL
#define A64_GICV3_REDIST      0x080A0000ULL
#define A64_GICV3_REDIST_STRIDE 0x20000ULL
#define A64_UART              0x09000000ULL
#define A64_EXIT              0x09010000ULL
#define A64_BOOT_TIMER        0x09020000ULL
#define A64_DEV_WINDOW        0x1000ULL       /* each of the three above */
#define A64_VIRTIO_MMIO       0x0a000000ULL
#define A64_VIRTIO_STRIDE     0x1000ULL
#define A64_VIRTIO_MAX        32
#define A64_RAM               0x40000000ULL

/* The redistributors end at the UART. */
#define A64_GICV3_MAX_CPUS    ((unsigned)((A64_UART - A64_GICV3_REDIST) / A64_GICV3_REDIST_STRIDE))
#define A64_GICV2_MAX_CPUS    8

/* GSIs (irqfd); the INTID is the GSI + A64_SPI_BASE. */
#define A64_SPI_BASE          32
#define A64_GSI_UART          1
#define A64_GSI_VIRTIO_FIRST  16
/* KVM_DEV_ARM_VGIC_GRP_NR_IRQS: the 32 private interrupts and the SPIs,
 * a multiple of 32; covers every GSI above. */
#define A64_NR_IRQS           128

/* The KVM_CREATE_VM type when the host gives no KVM_CAP_ARM_VM_IPA_SIZE,
 * and the IPA size mote asks for at most: 40 bits, 1 TiB. */
#define A64_IPA_BITS_DEFAULT  40

/* The 16550's input clock named in the device tree (the usual 1.8432 MHz;
 * devices/uart.c has no real baud rate). */
#define A64_UART_CLOCK_HZ     1843200u

#endif
