/*
 * arm64_fdt_check(): the description's rules, so that the tree the kernel
 * gets is self-consistent: counts within limits, interrupts of the right
 * kind and unshared, every region non-empty and apart from the others,
 * the initrd inside RAM.
 */
#include "boot/arm64/fdt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "boot/linux_err.h"

/* One region of the machine's address map, named for messages. */
struct named {
	char name[32];
	struct arm64_fdt_region r;
};

static void add(struct named *m, unsigned *n, const char *name,
		struct arm64_fdt_region r)
{
	snprintf(m[*n].name, sizeof(m[*n].name), "%s", name);
	m[(*n)++].r = r;
}

static unsigned address_map(const struct arm64_fdt_desc *d, struct named *m)
{
	unsigned n = 0;

	add(m, &n, "RAM", d->ram);
	add(m, &n, "GIC distributor", d->gic.dist);
	add(m, &n, d->gic.version == ARM64_GIC_V3 ? "GIC redistributors" :
		   "GIC CPU interface", d->gic.redist_or_cpu);
	add(m, &n, "UART", d->uart.reg);
	add(m, &n, "exit device", d->exit_dev);
	if (d->boot_timer.size)
		add(m, &n, "boot timer", d->boot_timer);
	for (unsigned i = 0; i < d->nvirtio; i++) {
		add(m, &n, "", d->virtio[i].reg);
		snprintf(m[n - 1].name, sizeof(m[n - 1].name), "virtio device %u", i);
	}
	return n;
}

static int bad(char *err, size_t errlen, const struct named *a,
	       const char *why, const struct named *b)
{
	return linux_errf(err, errlen, -EINVAL,
			  "device tree: %s (%#llx+%#llx) %s%s%s",
			  a->name, (unsigned long long)a->r.base,
			  (unsigned long long)a->r.size, why,
			  b ? " " : "", b ? b->name : "");
}

/* Every region non-empty, not wrapping, and apart from all the others. */
static int check_map(const struct arm64_fdt_desc *d, char *err, size_t errlen)
{
	struct named m[6 + ARM64_FDT_MAX_VIRTIO];
	unsigned n = address_map(d, m);

	for (unsigned i = 0; i < n; i++) {
		const struct arm64_fdt_region *a = &m[i].r;

		if (!a->size || a->base + a->size < a->base)
			return bad(err, errlen, &m[i], "is empty or wraps", NULL);
		for (unsigned j = 0; j < i; j++) {
			const struct arm64_fdt_region *b = &m[j].r;

			if (a->base < b->base + b->size && b->base < a->base + a->size)
				return bad(err, errlen, &m[i], "overlaps the", &m[j]);
		}
	}
	return 0;
}

static bool is_spi(uint32_t intid)
{
	return intid >= ARM64_FDT_SPI_FIRST && intid <= ARM64_FDT_SPI_LAST;
}

static bool is_ppi(uint32_t intid)
{
	return intid >= ARM64_FDT_PPI_FIRST && intid <= ARM64_FDT_PPI_LAST;
}

/* SPIs in range and unshared: mote's edge lines cannot be shared. */
static int check_spis(const struct arm64_fdt_desc *d, char *err, size_t errlen)
{
	uint32_t spi[1 + ARM64_FDT_MAX_VIRTIO];
	unsigned n = 0;

	spi[n++] = d->uart.intid;
	for (unsigned i = 0; i < d->nvirtio; i++)
		spi[n++] = d->virtio[i].intid;
	for (unsigned i = 0; i < n; i++) {
		if (!is_spi(spi[i]))
			return linux_errf(err, errlen, -EINVAL,
					  "device tree: interrupt %u is not an SPI (%d..%d)",
					  spi[i], ARM64_FDT_SPI_FIRST, ARM64_FDT_SPI_LAST);
		for (unsigned j = 0; j < i; j++)
			if (spi[i] == spi[j])
				return linux_errf(err, errlen, -EINVAL,
						  "device tree: SPI %u is given to two devices",
						  spi[i]);
	}
	return 0;
}

static int check_gic(const struct arm64_fdt_desc *d, char *err, size_t errlen)
{
	const struct arm64_fdt_timer *t = &d->timer;

	if (d->gic.version != ARM64_GIC_V2 && d->gic.version != ARM64_GIC_V3)
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: GIC version %d (2 or 3)", d->gic.version);
	if (d->gic.version == ARM64_GIC_V2 && d->ncpus > ARM64_FDT_GICV2_MAX_CPUS)
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: a GICv2 serves %d CPUs, not %u",
				  ARM64_FDT_GICV2_MAX_CPUS, d->ncpus);
	if (d->gic.version == ARM64_GIC_V3 &&
	    d->gic.redist_or_cpu.size / ARM64_FDT_GICR_STRIDE < d->ncpus)
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: the redistributor region (%#llx bytes) is too small for %u vCPUs",
				  (unsigned long long)d->gic.redist_or_cpu.size, d->ncpus);
	if (!is_ppi(t->sec_phys) || !is_ppi(t->phys) || !is_ppi(t->virt) ||
	    !is_ppi(t->hyp))
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: a timer interrupt is not a PPI (%d..%d)",
				  ARM64_FDT_PPI_FIRST, ARM64_FDT_PPI_LAST);
	return 0;
}

/* The cpu nodes' reg is one cell: Aff2..Aff0, each vCPU its own. */
static int check_mpidrs(const struct arm64_fdt_desc *d, char *err, size_t errlen)
{
	for (unsigned i = 0; d->mpidr && i < d->ncpus; i++) {
		if (d->mpidr[i] & ~(ARM64_FDT_MPIDR_AFF_MASK | ARM64_FDT_MPIDR_RES1))
			return linux_errf(err, errlen, -EINVAL,
					  "device tree: vCPU %u's MPIDR %#llx has affinity beyond Aff2",
					  i, (unsigned long long)d->mpidr[i]);
		for (unsigned j = 0; j < i; j++)
			if (!((d->mpidr[i] ^ d->mpidr[j]) & ARM64_FDT_MPIDR_AFF_MASK))
				return linux_errf(err, errlen, -EINVAL,
						  "device tree: vCPUs %u and %u share MPIDR %#llx",
						  j, i, (unsigned long long)d->mpidr[i]);
	}
	return 0;
}

static int check_chosen(const struct arm64_fdt_desc *d, char *err,
			size_t errlen)
{
	if (d->bootargs &&
	    strnlen(d->bootargs, ARM64_FDT_BOOTARGS_MAX) >= ARM64_FDT_BOOTARGS_MAX)
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: the command line is longer than %d bytes",
				  ARM64_FDT_BOOTARGS_MAX - 1);
	if (d->initrd_end < d->initrd_start ||
	    (d->initrd_end > d->initrd_start &&
	     (d->initrd_start < d->ram.base ||
	      d->initrd_end - d->ram.base > d->ram.size)))
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: initrd %#llx..%#llx is not inside RAM",
				  (unsigned long long)d->initrd_start,
				  (unsigned long long)d->initrd_end);
	return 0;
}

int arm64_fdt_check(const struct arm64_fdt_desc *d, char *err, size_t errlen)
{
	int ret;

	if (!d || d->ncpus < 1 || d->ncpus > ARM64_FDT_MAX_CPUS)
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: vCPU count %u (1..%d)",
				  d ? d->ncpus : 0, ARM64_FDT_MAX_CPUS);
	if (d->nvirtio > ARM64_FDT_MAX_VIRTIO || (d->nvirtio && !d->virtio))
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: %u virtio devices (at most %d)",
				  d->nvirtio, ARM64_FDT_MAX_VIRTIO);
	if (!d->uart_clock_hz)
		return linux_errf(err, errlen, -EINVAL,
				  "device tree: the UART's clock-frequency is 0");
	ret = check_gic(d, err, errlen);
	if (!ret)
		ret = check_spis(d, err, errlen);
	if (!ret)
		ret = check_map(d, err, errlen);
	if (!ret)
		ret = check_mpidrs(d, err, errlen);
	if (!ret)
		ret = check_chosen(d, err, errlen);
	return ret;
}
