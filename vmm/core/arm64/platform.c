/*
 * arm64's device placement (layout.h): the console, the exit device and
 * the boot timer on the MMIO bus, virtio-mmio windows from 0x0a000000
 * with one SPI each, RAM in one region at 1 GiB, and the same machine as
 * the device tree describes it. arm64 needs no platform devices of its
 * own: the architected timer and PSCI are KVM's.
 */
#include "boot/arm64/fdt.h"
#include "vmm/core/arch.h"
#include "vmm/core/arm64/arm64.h"
#include "vmm/core/arm64/layout.h"

#include <errno.h>

static const struct arch_platform_map arm64_map = {
	.console = { ARCH_BUS_MMIO, A64_UART, A64_GSI_UART },
	.exit = { ARCH_BUS_MMIO, A64_EXIT, 0 },
	.boot_timer = { ARCH_BUS_MMIO, A64_BOOT_TIMER, 0 },
};

const struct arch_platform_map *arch_platform_map(void)
{
	return &arm64_map;
}

int arch_virtio_place(unsigned n, uint64_t *base, uint32_t *irq)
{
	if (n >= A64_VIRTIO_MAX)
		return -ENOSPC;
	*base = A64_VIRTIO_MMIO + n * A64_VIRTIO_STRIDE;
	*irq = A64_GSI_VIRTIO_FIRST + n;
	return 0;
}

unsigned arch_ram_layout(uint64_t size, struct arch_ram_region out[ARCH_RAM_REGIONS_MAX])
{
	out[0] = (struct arch_ram_region){ A64_RAM, size };
	return 1;
}

int arch_platform_devices(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
{
	return 0;
}

static struct arm64_fdt_gic fdt_gic(unsigned ncpus, int version)
{
	if (version == 3)
		return (struct arm64_fdt_gic){
			ARM64_GIC_V3, { A64_GIC_DIST, A64_GIC_DIST_SIZE },
			{ A64_GICV3_REDIST, ncpus * A64_GICV3_REDIST_STRIDE },
		};
	return (struct arm64_fdt_gic){
		ARM64_GIC_V2, { A64_GIC_DIST, A64_GIC_DIST_SIZE },
		{ A64_GICV2_CPU, A64_GICV2_CPU_SIZE },
	};
}

void arm64_machine_desc(const struct arch_dev *devs, size_t n, unsigned ncpus,
			int gic_version, struct arm64_fdt_desc *d,
			struct arm64_fdt_mmio *virtio)
{
	*d = (struct arm64_fdt_desc){
		.ncpus = ncpus,
		.gic = fdt_gic(ncpus, gic_version),
		.timer = { ARM64_FDT_TIMER_SEC_PHYS, ARM64_FDT_TIMER_PHYS, ARM64_FDT_TIMER_VIRT,
			   ARM64_FDT_TIMER_HYP },
		.uart_clock_hz = A64_UART_CLOCK_HZ,
		.exit_dev = { A64_EXIT, A64_DEV_WINDOW },
		.boot_timer = { A64_BOOT_TIMER, A64_DEV_WINDOW },
		.virtio = virtio,
	};
	for (size_t i = 0; i < n; i++) {
		struct arm64_fdt_mmio m = { { devs[i].base, devs[i].len },
					    devs[i].irq + A64_SPI_BASE };
		if (devs[i].kind == ARCH_DEV_UART)
			d->uart = m;
		else
			virtio[d->nvirtio++] = m;
	}
}
