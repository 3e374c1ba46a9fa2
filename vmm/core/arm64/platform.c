/*
 * arm64's device placement (layout.h): the console, the exit device and
 * the boot timer on the MMIO bus, virtio-mmio windows from 0x0a000000
 * with one SPI each, RAM in one region at 1 GiB. arm64 needs no platform
 * devices of its own: the architected timer and PSCI are KVM's.
 */
#include "vmm/core/arch.h"
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
