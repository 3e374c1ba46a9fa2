/*
 * Shared between the files that implement linux_load(): one context that
 * carries the request, what the kernel-format loader found, and the error
 * buffer. Private to boot/x86/.
 */
#ifndef MOTE_BOOT_LINUX_PRIV_H
#define MOTE_BOOT_LINUX_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "boot/linux_err.h"
#include "boot/linux_file.h"
#include "boot/x86/bootparam.h"

struct gmem;
struct linux_boot_cfg;
struct linux_entry;

struct linux_ctx {
	struct gmem *mem;
	const struct linux_boot_cfg *cfg;
	char *err;
	size_t errlen;
	uint64_t low_end;          /* end of the RAM region at 0 (below the hole) */

	/* Filled by the kernel-format loader. */
	struct setup_header hdr;   /* goes into the zero page */
	uint64_t entry;            /* 64-bit entry, guest-physical */
	uint64_t kernel_end;       /* first byte the starting kernel leaves alone */
	const uint8_t *kmap;       /* NULL, or the kernel file's bytes mapped */

	uint64_t initrd_gpa;       /* 0 when there is none */
	uint64_t initrd_size;
};

/* Write "<fmt...>" into ctx->err and return ret (a -errno); the line is
 * escaped as linux_errf's (boot/linux_err.h), which the kernel cache and
 * unpacker use. */
int linux_fail(struct linux_ctx *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));


/* The same for the kernel image: from c->kmap when the file is mapped. */
int linux_kread(const struct linux_ctx *c, int fd, void *buf, size_t len,
		off_t off)
	__attribute__((warn_unused_result));

/* Load a bzImage whose first n bytes (n >= 0x206) are in head. */
int linux_bzimage_load(struct linux_ctx *c, int fd, uint64_t fsize,
		       const uint8_t *head, size_t n)
	__attribute__((warn_unused_result));

/*
 * Load a bzImage's kernel unpacked, from the cache in
 * cfg->kernel_cache_dir (filled now on a miss), with the bzImage's setup
 * header. Writes cfg->note either way; on failure leaves c as it found it
 * for linux_bzimage_load().
 */
int linux_bzimage_unpacked(struct linux_ctx *c, int fd, uint64_t fsize,
			   const uint8_t *head, size_t n)
	__attribute__((warn_unused_result));

/* Load an ELF64 x86-64 vmlinux whose first n bytes are in head. */
int linux_elf_load(struct linux_ctx *c, int fd, uint64_t fsize,
		   const uint8_t *head, size_t n)
	__attribute__((warn_unused_result));

/*
 * The e820 map for mem: RAM from its regions, the EBDA..1 MiB area
 * reserved. Returns the entry count, or -EINVAL if the regions break the
 * layout (nothing at 0, RAM inside the MMIO hole, too many entries).
 */
int linux_e820_build(const struct gmem *mem, struct e820_entry *tab,
		     unsigned max)
	__attribute__((warn_unused_result));

/* Check the command line against the kernel's limit; write it. */
int linux_cmdline_write(struct linux_ctx *c)
	__attribute__((warn_unused_result));

/* Write the zero page: setup header, cmdline/initrd/RSDP pointers, e820. */
int linux_zeropage_write(struct linux_ctx *c)
	__attribute__((warn_unused_result));

/* Write the boot GDT and identity page tables; fill entry (all but rip). */
int linux_cpu_setup(struct gmem *mem, struct linux_entry *entry)
	__attribute__((warn_unused_result));

#endif
