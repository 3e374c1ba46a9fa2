/*
 * What the 64-bit boot protocol asks of the CPU at entry: long mode with
 * paging, an identity map covering the kernel, zero page and command line,
 * and a GDT whose __BOOT_CS (0x10) and __BOOT_DS (0x18) are flat 4 GiB
 * segments. We map all of the low 4 GiB with 2 MiB pages.
 */
#include <stdint.h>
#include <string.h>

#include "boot/x86/layout.h"
#include "boot/x86/linux.h"
#include "boot/x86/linux_priv.h"
#include "vmm/base/gmem.h"

#define PT_ENTRIES     512
#define PT_PRESENT     0x1ULL
#define PT_RW          0x2ULL
#define PT_PS          0x80ULL         /* 2 MiB page in a PD entry */
#define PD_COUNT       4               /* 4 PDs x 512 x 2 MiB = 4 GiB */
#define PAGE_2M        0x200000ULL

#define GDT_CODE64     0x00af9b000000ffffULL  /* L, P, DPL0, exec/read, accessed */
#define GDT_DATA       0x00cf93000000ffffULL  /* G, D/B, P, DPL0, read/write, accessed */
#define GDT_ENTRIES    4
#define BOOT_CS        0x10
#define BOOT_DS        0x18

/* Linux's CR0_STATE: PE MP ET NE WP AM PG. */
#define CR0_BOOT       0x80050033ULL
#define CR4_PAE        0x20ULL
#define EFER_LME       0x100ULL
#define EFER_LMA       0x400ULL

static int write_gdt(struct gmem *mem)
{
	uint64_t gdt[GDT_ENTRIES] = { 0 };

	gdt[BOOT_CS / 8] = GDT_CODE64;
	gdt[BOOT_DS / 8] = GDT_DATA;
	return gmem_write(mem, LAYOUT_GDT, gdt, sizeof(gdt));
}

/* PML4 -> one PDPT -> PD_COUNT PDs, each table one page after the other. */
static int write_page_tables(struct gmem *mem)
{
	uint64_t t[PT_ENTRIES];
	uint64_t pdpt = LAYOUT_PML4 + 0x1000, pd = pdpt + 0x1000;
	int ret;

	memset(t, 0, sizeof(t));
	t[0] = pdpt | PT_PRESENT | PT_RW;
	ret = gmem_write(mem, LAYOUT_PML4, t, sizeof(t));
	for (unsigned i = 0; i < PD_COUNT; i++)
		t[i] = (pd + i * 0x1000ULL) | PT_PRESENT | PT_RW;
	if (!ret)
		ret = gmem_write(mem, pdpt, t, sizeof(t));
	for (unsigned i = 0; i < PD_COUNT && !ret; i++) {
		for (unsigned j = 0; j < PT_ENTRIES; j++)
			t[j] = ((uint64_t)i * PT_ENTRIES + j) * PAGE_2M |
			       PT_PRESENT | PT_RW | PT_PS;
		ret = gmem_write(mem, pd + i * 0x1000ULL, t, sizeof(t));
	}
	return ret;
}

int linux_cpu_setup(struct gmem *mem, struct linux_entry *e)
{
	int ret = write_gdt(mem);

	if (!ret)
		ret = write_page_tables(mem);
	if (ret)
		return ret;
	*e = (struct linux_entry){
		.rsi = LAYOUT_ZERO_PAGE,
		.rsp = LAYOUT_BOOT_STACK,
		.cr0 = CR0_BOOT,
		.cr3 = LAYOUT_PML4,
		.cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA,
		.gdt_base = LAYOUT_GDT,
		.gdt_limit = GDT_ENTRIES * 8 - 1,
		.code_sel = BOOT_CS,
		.data_sel = BOOT_DS,
		.code_desc = GDT_CODE64,
		.data_desc = GDT_DATA,
	};
	return 0;
}
