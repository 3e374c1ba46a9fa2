/*
 * The arm64 guest's device tree, built with libfdt from plain data: the
 * caller (the arm64 VM core) describes the machine in struct arm64_fdt_desc
 * and gets a flattened blob to copy into guest RAM. Nothing here knows of
 * KVM or guest memory.
 *
 * The tree (root #address-cells and #size-cells 2; every device directly
 * under the root, its interrupt-parent the GIC):
 *   /                   compatible "mote,virt", interrupt-parent <&gic>
 *   /chosen             bootargs, linux,initrd-start/-end, stdout-path
 *   /memory@BASE        device_type "memory"
 *   /cpus/cpu@N         reg = the vCPU's MPIDR (Aff2..Aff0), enable-method "psci"
 *   /psci               "arm,psci-0.2", method "hvc"
 *   /intc@DIST          "arm,gic-v3" (dist + redistributors) or
 *                       "arm,cortex-a15-gic" (dist + CPU interface)
 *   /timer              "arm,armv8-timer", four PPIs
 *   /uart@BASE          "ns16550a", clock-frequency
 *   /exit@BASE          "mote,exit" (below)
 *   /boot-timer@BASE    "mote,boot-timer" (below), when there is one
 *   /virtio@BASE        "virtio,mmio", one per device, dma-coherent
 *
 * Interrupts are given here as GIC INTIDs (PPIs 16..31, SPIs 32..1019), the
 * numbering of the GIC and of KVM_IRQ_LINE; the tree uses the binding's
 * <type number flags> cells (SPI: <0 intid-32 ...>, PPI: <1 intid-16 ...>).
 * SPIs are described edge-rising: mote's interrupt lines (vmm/base/irq.h)
 * deliver edges.
 *
 * "mote,exit": one MMIO register; a byte N written at offset 0 ends the VM
 * with status N (devices/exit_port.c on x86, where it is a port). Reads
 * return 0. Linux has no driver for it: guest jobs write it from user space
 * (/dev/mem), and the node documents its address.
 *
 * "mote,boot-timer": one MMIO register; a byte written at offset 0 marks a
 * step of the guest's boot (devices/boot_timer.h's codes: 1 the guest is
 * ready, 2 its job starts). Reads return 0. Written from user space too.
 */
#ifndef MOTE_BOOT_ARM64_FDT_H
#define MOTE_BOOT_ARM64_FDT_H

#include <stddef.h>
#include <stdint.h>

#define ARM64_FDT_MAX_CPUS      512     /* KVM's arm64 vCPU limit */
#define ARM64_FDT_MAX_VIRTIO    64
#define ARM64_FDT_BOOTARGS_MAX  2048    /* arm64 COMMAND_LINE_SIZE, NUL included */
#define ARM64_FDT_GIC_PHANDLE   1
#define ARM64_FDT_GICV2_MAX_CPUS 8
/* GIC INTID ranges. */
#define ARM64_FDT_PPI_FIRST     16
#define ARM64_FDT_PPI_LAST      31
#define ARM64_FDT_SPI_FIRST     32
#define ARM64_FDT_SPI_LAST      1019
/* MPIDR_EL1: Aff2..Aff0, and bit 31, which reads as one (RES1); the U
 * and MT bits and Aff3 are refused. */
#define ARM64_FDT_MPIDR_AFF_MASK 0xffffffULL
#define ARM64_FDT_MPIDR_RES1     0x80000000ULL
/* A GICv3 redistributor frame pair per vCPU (RD_base + SGI_base). */
#define ARM64_FDT_GICR_STRIDE   0x20000ULL

/* The architected timer's PPIs as INTIDs (SBSA / QEMU / kvmtool's choice). */
#define ARM64_FDT_TIMER_SEC_PHYS  29
#define ARM64_FDT_TIMER_PHYS      30
#define ARM64_FDT_TIMER_VIRT      27
#define ARM64_FDT_TIMER_HYP       26

struct arm64_fdt_region {
	uint64_t base;
	uint64_t size;
};

/* An MMIO device with one interrupt. */
struct arm64_fdt_mmio {
	struct arm64_fdt_region reg;
	uint32_t intid;             /* an SPI: 32..1019 */
};

enum arm64_gic_version {
	ARM64_GIC_V2 = 2,
	ARM64_GIC_V3 = 3,
};

struct arm64_fdt_gic {
	enum arm64_gic_version version;
	struct arm64_fdt_region dist;
	/* v3: the redistributors, at least ncpus * ARM64_FDT_GICR_STRIDE;
	 * v2: the CPU interface. */
	struct arm64_fdt_region redist_or_cpu;
};

/* The timer's PPIs as INTIDs, 16..31; ARM64_FDT_TIMER_* are the usual. */
struct arm64_fdt_timer {
	uint32_t sec_phys, phys, virt, hyp;
};

struct arm64_fdt_desc {
	struct arm64_fdt_region ram;
	unsigned ncpus;                 /* 1..ARM64_FDT_MAX_CPUS */
	struct arm64_fdt_gic gic;
	struct arm64_fdt_timer timer;
	struct arm64_fdt_mmio uart;     /* a 16550, byte registers */
	uint32_t uart_clock_hz;
	struct arm64_fdt_region exit_dev;
	struct arm64_fdt_region boot_timer;   /* size 0: no node */
	/* ncpus MPIDR_EL1 values as KVM reports them (KVM_GET_ONE_REG), Aff3
	 * 0; NULL: the ones KVM assigns by default (vCPU i: Aff0 i % 16, Aff1
	 * and Aff2 the rest). */
	const uint64_t *mpidr;
	const struct arm64_fdt_mmio *virtio;  /* nvirtio entries; NULL if 0 */
	unsigned nvirtio;               /* 0..ARM64_FDT_MAX_VIRTIO */
	const char *bootargs;           /* NULL: none */
	uint64_t initrd_start;          /* initrd_end == initrd_start: none; */
	uint64_t initrd_end;            /*   else both inside RAM */
};

/*
 * Check desc against the rules above and the limits: vCPUs (a GICv2 serves
 * at most 8; GICv3 redistributors must cover them all), virtio count,
 * SPIs and PPIs in range, SPIs unshared, RAM and every MMIO region
 * non-empty (the boot timer's may be absent) and disjoint, MPIDRs with
 * no Aff3 and no other bits beyond Aff2, and distinct, bootargs shorter than ARM64_FDT_BOOTARGS_MAX,
 * the initrd inside RAM, a UART clock. Returns 0, or -EINVAL with one line
 * in err. arm64_fdt_build() calls it.
 */
int arm64_fdt_check(const struct arm64_fdt_desc *d, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * An upper bound on the blob's size for desc (which need not be valid):
 * a buffer this big never makes arm64_fdt_build() fail with -ENOSPC.
 */
size_t arm64_fdt_size_bound(const struct arm64_fdt_desc *d);

/*
 * Check desc, then build the tree into buf[0..buflen). Returns the blob's
 * size (its totalsize, <= arm64_fdt_size_bound(d)), or -EINVAL (a bad
 * description), -ENOSPC (buflen too small) or -EIO (libfdt failed
 * otherwise), with one line in err.
 */
int arm64_fdt_build(const struct arm64_fdt_desc *d, void *buf, size_t buflen,
		    char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
