/*
 * The zero page (struct boot_params at LAYOUT_ZERO_PAGE), the command line
 * it points to, and the e820 memory map it carries.
 */
#include <errno.h>
#include <string.h>

#include "boot/x86/layout.h"
#include "boot/x86/linux.h"
#include "boot/x86/linux_priv.h"
#include "vmm/base/gmem.h"

#define OLD_CMDLINE_SIZE  255     /* before boot protocol 2.06 */
#define HEAP_END_PTR      0xde00  /* boot.rst: heap end 0xe000, less 0x200 */

/* Append [addr, addr+size); extend the last entry when it continues it. */
static int e820_add(struct e820_entry *tab, unsigned max, unsigned *n,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	struct e820_entry *last = *n ? &tab[*n - 1] : NULL;

	if (size == 0)
		return 0;
	if (last && last->type == type && last->addr + last->size == addr) {
		last->size += size;
		return 0;
	}
	if (*n >= max)
		return -EINVAL;
	tab[(*n)++] = (struct e820_entry){ addr, size, type };
	return 0;
}

/* Region indices by guest-physical address (there are at most a few). */
static void sort_regions(const struct gmem *mem, unsigned *idx)
{
	for (unsigned i = 0; i < mem->nr; i++) {
		unsigned j = i;
		while (j && mem->r[idx[j - 1]].gpa > mem->r[i].gpa) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
}

static int e820_region(const struct gmem_region *r, struct e820_entry *tab,
		       unsigned max, unsigned *n)
{
	uint64_t end = r->gpa + r->size;
	int ret;

	if (r->gpa < LAYOUT_4G && end > LAYOUT_MMIO_HOLE)
		return -EINVAL;  /* RAM in the MMIO hole */
	if (r->gpa != 0)
		return e820_add(tab, max, n, r->gpa, r->size, E820_RAM);
	if (end <= LAYOUT_HIMEM)
		return -EINVAL;
	/* The EBDA..1 MiB area holds the ACPI tables: keep the kernel off it. */
	ret = e820_add(tab, max, n, 0, LAYOUT_EBDA, E820_RAM);
	if (!ret)
		ret = e820_add(tab, max, n, LAYOUT_EBDA,
			       LAYOUT_HIMEM - LAYOUT_EBDA, E820_RESERVED);
	if (!ret)
		ret = e820_add(tab, max, n, LAYOUT_HIMEM, end - LAYOUT_HIMEM,
			       E820_RAM);
	return ret;
}

int linux_e820_build(const struct gmem *mem, struct e820_entry *tab,
		     unsigned max)
{
	unsigned idx[GMEM_MAX_REGIONS], n = 0;
	int ret;

	if (mem->nr == 0 || mem->nr > GMEM_MAX_REGIONS)
		return -EINVAL;
	sort_regions(mem, idx);
	if (mem->r[idx[0]].gpa != 0)
		return -EINVAL;
	for (unsigned i = 0; i < mem->nr; i++) {
		ret = e820_region(&mem->r[idx[i]], tab, max, &n);
		if (ret)
			return ret;
	}
	return n;
}

int linux_cmdline_write(struct linux_ctx *c)
{
	const char *cmdline = c->cfg->cmdline ? c->cfg->cmdline : "";
	size_t len = strlen(cmdline);
	uint64_t max = c->hdr.version >= 0x0206 ? c->hdr.cmdline_size
						: OLD_CMDLINE_SIZE;

	if (max > LAYOUT_CMDLINE_MAX - 1)
		max = LAYOUT_CMDLINE_MAX - 1;
	if (len > max)
		return linux_fail(c, -E2BIG, "command line is %zu bytes, the "
				  "kernel accepts at most %llu", len,
				  (unsigned long long)max);
	if (gmem_write(c->mem, LAYOUT_CMDLINE, cmdline, len + 1))
		return linux_fail(c, -EFAULT, "cannot write the command line");
	return 0;
}

static void fill_loader_fields(const struct linux_ctx *c, struct boot_params *bp)
{
	struct setup_header *h = &bp->hdr;

	h->type_of_loader = BP_LOADER_UNDEFINED;
	h->loadflags |= BP_CAN_USE_HEAP;
	h->heap_end_ptr = HEAP_END_PTR;
	h->cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp->ext_cmd_line_ptr = (uint32_t)(LAYOUT_CMDLINE >> 32);
	/* place_initrd keeps it below 4 GiB, so the ext_ fields stay 0. */
	h->ramdisk_image = (uint32_t)c->initrd_gpa;
	h->ramdisk_size = (uint32_t)c->initrd_size;
	bp->acpi_rsdp_addr = c->cfg->rsdp_gpa;
}

int linux_zeropage_write(struct linux_ctx *c)
{
	struct boot_params bp;
	int n;

	memset(&bp, 0, sizeof(bp));
	bp.hdr = c->hdr;
	fill_loader_fields(c, &bp);
	n = linux_e820_build(c->mem, bp.e820_table, BP_E820_MAX);
	if (n < 0)
		return linux_fail(c, n, "guest RAM layout does not fit the x86 "
				  "memory map (RAM in the MMIO hole?)");
	bp.e820_entries = n;
	if (gmem_write(c->mem, LAYOUT_ZERO_PAGE, &bp, sizeof(bp)))
		return linux_fail(c, -EFAULT, "cannot write the zero page");
	return 0;
}
