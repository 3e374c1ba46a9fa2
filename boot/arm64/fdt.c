/*
 * arm64_fdt_build(): check the description (fdt_check.c), then write the
 * tree with libfdt's sequential-write API (fdt_create .. fdt_finish)
 * straight into the caller's buffer. The writer keeps the first failing libfdt call's
 * return and the name it was writing; later calls are skipped, so each
 * return is checked once, in one place, and the error names the culprit.
 */
#include "boot/arm64/fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "boot/linux_err.h"

/* Interrupt cells (Documentation/devicetree/bindings/interrupt-controller/
 * arm,gic*.yaml): type, number within the type, flags. */
#define GIC_SPI              0
#define GIC_PPI              1
#define IRQ_EDGE_RISING      1
#define IRQ_LEVEL_HIGH       4
#define GICV2_PPI_CPU_SHIFT  8     /* v2 PPI flags carry a CPU mask */

#define NAME_MAX_LEN         40    /* "virtio@" + 16 hex digits, and more */

/* arm64_fdt_size_bound(): generous per-part sizes, each worked out from
 * the nodes and properties written below (a node: 8 bytes of tags plus
 * its padded name; a property: 12 bytes plus its padded value). */
#define BOUND_FIXED          2304  /* header, strings, the fixed nodes */
#define BOUND_PER_CPU        128
#define BOUND_PER_VIRTIO     192
#define BOUND_BOOTARGS_EXTRA 16

struct writer {
	void *fdt;
	int ret;               /* first libfdt error, 0 while none */
	char what[NAME_MAX_LEN]; /* the node or property it came from */
};

static void chk(struct writer *w, int ret, const char *what)
{
	if (ret < 0 && !w->ret) {
		w->ret = ret;
		snprintf(w->what, sizeof(w->what), "%s", what);
	}
}

static void begin(struct writer *w, const char *name)
{
	if (!w->ret)
		chk(w, fdt_begin_node(w->fdt, name), name);
}

static void end(struct writer *w)
{
	if (!w->ret)
		chk(w, fdt_end_node(w->fdt), "end of node");
}

static void prop(struct writer *w, const char *name, const void *v, int len)
{
	if (!w->ret)
		chk(w, fdt_property(w->fdt, name, v, len), name);
}

static void prop_str(struct writer *w, const char *name, const char *s)
{
	prop(w, name, s, (int)strlen(s) + 1);
}

static void prop_u32(struct writer *w, const char *name, uint32_t v)
{
	fdt32_t c = cpu_to_fdt32(v);

	prop(w, name, &c, sizeof(c));
}

static void prop_u64(struct writer *w, const char *name, uint64_t v)
{
	fdt64_t c = cpu_to_fdt64(v);

	prop(w, name, &c, sizeof(c));
}

/* reg with the root's two address and two size cells. */
static void prop_reg(struct writer *w, const struct arm64_fdt_region *r,
		     unsigned n)
{
	fdt64_t cells[4];

	for (unsigned i = 0; i < n && i < 2; i++) {
		cells[2 * i] = cpu_to_fdt64(r[i].base);
		cells[2 * i + 1] = cpu_to_fdt64(r[i].size);
	}
	prop(w, "reg", cells, (int)(n * 2 * sizeof(fdt64_t)));
}

static void prop_spi(struct writer *w, uint32_t intid)
{
	fdt32_t cells[3] = {
		cpu_to_fdt32(GIC_SPI), cpu_to_fdt32(intid - ARM64_FDT_SPI_FIRST),
		cpu_to_fdt32(IRQ_EDGE_RISING),
	};

	prop(w, "interrupts", cells, sizeof(cells));
}

/* "name@base", the unit address being the first reg's address. */
static void begin_at(struct writer *w, char *buf, const char *name,
		     uint64_t base)
{
	snprintf(buf, NAME_MAX_LEN, "%s@%llx", name, (unsigned long long)base);
	begin(w, buf);
}

/* vCPU i's MPIDR affinity (Aff2..Aff0), the cpu node's reg: the one the
 * caller read from KVM, else the one KVM gives by default
 * (reset_mpidr(): Aff0 = i % 16, Aff1 and Aff2 the rest). */
static uint32_t mpidr(const struct arm64_fdt_desc *d, unsigned i)
{
	if (d->mpidr)
		return (uint32_t)(d->mpidr[i] & ARM64_FDT_MPIDR_AFF_MASK);
	return (i & 0xf) | ((i >> 4) & 0xff) << 8 | ((i >> 12) & 0xff) << 16;
}

static void node_cpus(struct writer *w, const struct arm64_fdt_desc *d)
{
	char name[NAME_MAX_LEN];

	begin(w, "cpus");
	prop_u32(w, "#address-cells", 1);   /* MPIDRs below 2^24 */
	prop_u32(w, "#size-cells", 0);
	for (unsigned i = 0; i < d->ncpus; i++) {
		snprintf(name, sizeof(name), "cpu@%x", mpidr(d, i));
		begin(w, name);
		prop_str(w, "device_type", "cpu");
		prop_str(w, "compatible", "arm,arm-v8");
		prop_u32(w, "reg", mpidr(d, i));
		prop_str(w, "enable-method", "psci");
		end(w);
	}
	end(w);
}

static void node_memory(struct writer *w, const struct arm64_fdt_desc *d)
{
	char name[NAME_MAX_LEN];

	begin_at(w, name, "memory", d->ram.base);
	prop_str(w, "device_type", "memory");
	prop_reg(w, &d->ram, 1);
	end(w);
}

/* PSCI 0.2 has fixed function IDs: no cpu_on etc. properties. */
static void node_psci(struct writer *w)
{
	begin(w, "psci");
	prop_str(w, "compatible", "arm,psci-0.2");
	prop_str(w, "method", "hvc");
	end(w);
}

static void node_gic(struct writer *w, const struct arm64_fdt_desc *d)
{
	struct arm64_fdt_region regs[2] = { d->gic.dist, d->gic.redist_or_cpu };
	char name[NAME_MAX_LEN];

	begin_at(w, name, "intc", d->gic.dist.base);
	prop_str(w, "compatible", d->gic.version == ARM64_GIC_V3 ?
		 "arm,gic-v3" : "arm,cortex-a15-gic");
	prop_u32(w, "#interrupt-cells", 3);
	/* No children (no ITS); dtc wants an interrupt provider to say so. */
	prop_u32(w, "#address-cells", 0);
	prop(w, "interrupt-controller", NULL, 0);
	prop_reg(w, regs, 2);
	prop_u32(w, "phandle", ARM64_FDT_GIC_PHANDLE);
	end(w);
}

/* The timer's PPIs are level-triggered; on a GICv2 their flags also name
 * the CPUs they are wired to (all of them). */
static void node_timer(struct writer *w, const struct arm64_fdt_desc *d)
{
	const uint32_t ppi[4] = { d->timer.sec_phys, d->timer.phys,
				  d->timer.virt, d->timer.hyp };
	uint32_t flags = IRQ_LEVEL_HIGH;
	fdt32_t cells[12];

	if (d->gic.version == ARM64_GIC_V2)
		flags |= ((1u << d->ncpus) - 1) << GICV2_PPI_CPU_SHIFT;
	for (unsigned i = 0; i < 4; i++) {
		cells[3 * i] = cpu_to_fdt32(GIC_PPI);
		cells[3 * i + 1] = cpu_to_fdt32(ppi[i] - ARM64_FDT_PPI_FIRST);
		cells[3 * i + 2] = cpu_to_fdt32(flags);
	}
	begin(w, "timer");
	prop_str(w, "compatible", "arm,armv8-timer");
	prop(w, "interrupts", cells, sizeof(cells));
	prop(w, "always-on", NULL, 0);
	end(w);
}

static void node_uart(struct writer *w, const struct arm64_fdt_desc *d)
{
	char name[NAME_MAX_LEN];

	begin_at(w, name, "uart", d->uart.reg.base);
	prop_str(w, "compatible", "ns16550a");
	prop_reg(w, &d->uart.reg, 1);
	prop_spi(w, d->uart.intid);
	prop_u32(w, "clock-frequency", d->uart_clock_hz);
	end(w);
}

static void node_exit(struct writer *w, const struct arm64_fdt_desc *d)
{
	char name[NAME_MAX_LEN];

	begin_at(w, name, "exit", d->exit_dev.base);
	prop_str(w, "compatible", "mote,exit");
	prop_reg(w, &d->exit_dev, 1);
	end(w);
}

static void node_boot_timer(struct writer *w, const struct arm64_fdt_desc *d)
{
	char name[NAME_MAX_LEN];

	if (!d->boot_timer.size)
		return;
	begin_at(w, name, "boot-timer", d->boot_timer.base);
	prop_str(w, "compatible", "mote,boot-timer");
	prop_reg(w, &d->boot_timer, 1);
	end(w);
}

/* dma-coherent: guest RAM is ordinary cacheable host memory, so the
 * guest's virtio drivers need no cache maintenance. */
static void node_virtio(struct writer *w, const struct arm64_fdt_mmio *v)
{
	char name[NAME_MAX_LEN];

	begin_at(w, name, "virtio", v->reg.base);
	prop_str(w, "compatible", "virtio,mmio");
	prop_reg(w, &v->reg, 1);
	prop_spi(w, v->intid);
	prop(w, "dma-coherent", NULL, 0);
	end(w);
}

static void node_chosen(struct writer *w, const struct arm64_fdt_desc *d)
{
	char path[NAME_MAX_LEN + 1];

	snprintf(path, sizeof(path), "/uart@%llx",
		 (unsigned long long)d->uart.reg.base);
	begin(w, "chosen");
	if (d->bootargs)
		prop_str(w, "bootargs", d->bootargs);
	if (d->initrd_end > d->initrd_start) {
		prop_u64(w, "linux,initrd-start", d->initrd_start);
		prop_u64(w, "linux,initrd-end", d->initrd_end);
	}
	prop_str(w, "stdout-path", path);
	end(w);
}

static void tree(struct writer *w, const struct arm64_fdt_desc *d)
{
	if (!w->ret)
		chk(w, fdt_finish_reservemap(w->fdt), "reserve map");
	begin(w, "");
	prop_u32(w, "#address-cells", 2);
	prop_u32(w, "#size-cells", 2);
	prop_str(w, "compatible", "mote,virt");
	prop_str(w, "model", "mote");
	prop_u32(w, "interrupt-parent", ARM64_FDT_GIC_PHANDLE);
	node_chosen(w, d);
	node_memory(w, d);
	node_cpus(w, d);
	node_psci(w);
	node_gic(w, d);
	node_timer(w, d);
	node_uart(w, d);
	node_exit(w, d);
	node_boot_timer(w, d);
	for (unsigned i = 0; i < d->nvirtio; i++)
		node_virtio(w, &d->virtio[i]);
	end(w);
	if (!w->ret)
		chk(w, fdt_finish(w->fdt), "finish");
}

size_t arm64_fdt_size_bound(const struct arm64_fdt_desc *d)
{
	unsigned ncpus = d->ncpus < ARM64_FDT_MAX_CPUS ? d->ncpus : ARM64_FDT_MAX_CPUS;
	unsigned nvirtio = d->nvirtio < ARM64_FDT_MAX_VIRTIO ? d->nvirtio :
			   ARM64_FDT_MAX_VIRTIO;
	size_t args = d->bootargs ? strnlen(d->bootargs, ARM64_FDT_BOOTARGS_MAX) : 0;

	return BOUND_FIXED + (size_t)ncpus * BOUND_PER_CPU +
	       (size_t)nvirtio * BOUND_PER_VIRTIO + args + BOUND_BOOTARGS_EXTRA;
}

int arm64_fdt_build(const struct arm64_fdt_desc *d, void *buf, size_t buflen,
		    char *err, size_t errlen)
{
	struct writer w = { .fdt = buf };
	int ret = arm64_fdt_check(d, err, errlen);

	if (ret < 0)
		return ret;
	if (!buf)
		return linux_errf(err, errlen, -EINVAL, "device tree: no buffer");
	chk(&w, fdt_create(buf, buflen > INT_MAX ? INT_MAX : (int)buflen),
	    "header");
	tree(&w, d);
	if (w.ret == -FDT_ERR_NOSPACE)
		return linux_errf(err, errlen, -ENOSPC,
				  "device tree does not fit in %zu bytes (at %s)",
				  buflen, w.what);
	if (w.ret)
		return linux_errf(err, errlen, -EIO, "device tree: libfdt: %s (at %s)",
				  fdt_strerror(w.ret), w.what);
	return (int)fdt_totalsize(buf);
}
