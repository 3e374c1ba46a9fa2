/*
 * Loading Linux on x86 (Documentation/arch/x86/boot.rst): a bzImage or an
 * ELF vmlinux, its initrd and command line, the zero page with an e820 map,
 * a GDT and identity page tables, and the register state for entering the
 * kernel directly in 64-bit mode. Knows nothing of KVM: it writes guest
 * memory through struct gmem and returns the entry state as plain values.
 */
#ifndef MOTE_BOOT_LINUX_H
#define MOTE_BOOT_LINUX_H

#include <stddef.h>
#include <stdint.h>

struct gmem;

struct linux_boot_cfg {
	const char *kernel_path;
	const char *initrd_path;   /* NULL: none */
	const char *cmdline;       /* complete, as the guest will see it */
	uint64_t rsdp_gpa;         /* ACPI RSDP, put in boot_params.acpi_rsdp_addr */
	/*
	 * Where unpacked bzImages are cached (boot/kernel_unpack.h); NULL:
	 * a bzImage always boots through its own decompressor. Any failure
	 * of the cached path falls back to that, never fails the load.
	 */
	const char *kernel_cache_dir;
	char *note;                /* NULL, or gets one line on how the kernel */
	size_t notelen;            /*   was loaded (cache hit, miss, fallback) */
};

/* The BSP's state at kernel entry: long mode, paging on, flat segments. */
struct linux_entry {
	uint64_t rip;          /* 64-bit entry point */
	uint64_t rsi;          /* boot_params */
	uint64_t rsp;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t code_sel;     /* 64-bit code segment selector */
	uint16_t data_sel;     /* flat data segment selector */
	uint64_t code_desc;    /* the raw GDT descriptors, so the vCPU code can */
	uint64_t data_desc;    /*   fill the hidden segment state to match */
};

/*
 * Load everything into guest memory. On failure returns -errno and writes
 * one human-readable reason naming the file into err (e.g. "kernel
 * vmlinuz: not a bzImage or ELF: bad setup header magic").
 */
int linux_load(struct gmem *mem, const struct linux_boot_cfg *cfg,
	       struct linux_entry *entry, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
