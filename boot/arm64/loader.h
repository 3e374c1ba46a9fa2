/*
 * Booting arm64 Linux (Documentation/arch/arm64/booting.rst): the Image
 * at its 2 MiB aligned base plus text_offset near the start of RAM, the
 * initrd high in RAM, the device tree at the top of RAM, and the entry
 * state vCPU 0 needs (the caller sets the registers: PC = entry, X0 =
 * the tree's address, X1..X3 = 0, EL1h with DAIF masked).
 *
 * arm64_boot_place() is the placement alone, pure, for the unit tests;
 * arm64_linux_load() reads the files into guest memory and builds the
 * tree there. Both check every size and fail with one line in err.
 */
#ifndef MOTE_BOOT_ARM64_LOADER_H
#define MOTE_BOOT_ARM64_LOADER_H

#include <stdint.h>

#include "boot/arm64/fdt.h"
#include "boot/arm64/image.h"

struct gmem;

#define ARM64_DTB_MAX          (2ULL << 20)   /* booting.rst's limit */
#define ARM64_DTB_ALIGN        8ULL
#define ARM64_INITRD_ALIGN     (2ULL << 20)

/* Where everything goes; initrd_end == initrd when there is none. */
struct arm64_boot_layout {
	uint64_t kernel, kernel_end;   /* the Image and its BSS */
	uint64_t initrd, initrd_end;
	uint64_t dtb, dtb_size;        /* the room reserved for the tree */
};

/*
 * Place, for a parsed Image img in RAM ram, an initrd of initrd_size
 * bytes (0: none) and a tree of at most dtb_size bytes: the tree at the
 * top of RAM (ARM64_DTB_ALIGN), the initrd right below it
 * (ARM64_INITRD_ALIGN), both above the kernel's end. -EFBIG (does not fit)
 * or -EINVAL with one line in err.
 */
int arm64_boot_place(const struct arm64_ram *ram, const struct arm64_image *img,
		     uint64_t initrd_size, uint64_t dtb_size, struct arm64_boot_layout *out,
		     char *err, size_t errlen)
	__attribute__((warn_unused_result));

struct arm64_boot_cfg {
	const char *kernel_path;       /* an uncompressed arm64 Image */
	const char *initrd_path;       /* NULL: none */
	/* The machine for the device tree; its ram, initrd_start and
	 * initrd_end are filled in here. */
	struct arm64_fdt_desc *fdt;
};

/* Where vCPU 0 starts. */
struct arm64_boot_entry {
	uint64_t pc;                   /* the Image's first byte */
	uint64_t dtb;                  /* X0 */
};

/*
 * Load cfg's kernel and initrd into mem (whose RAM is ram, one region)
 * and build the device tree there. Returns 0 with *entry filled, or
 * -errno (-ENOEXEC: not an Image, e.g. still compressed; -EFBIG: does not
 * fit) with one line in err.
 */
int arm64_linux_load(struct gmem *mem, const struct arm64_ram *ram,
		     const struct arm64_boot_cfg *cfg, struct arm64_boot_entry *entry,
		     char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
