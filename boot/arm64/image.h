/*
 * The arm64 Linux "Image" header (Documentation/arch/arm64/booting.rst,
 * "Call the kernel image"): 64 little-endian bytes at the start of the
 * uncompressed kernel. Parsing is a pure function over bytes the caller
 * read; it never touches files or guest memory, so a fuzzer can drive it
 * directly.
 *
 * Where the kernel goes: text_offset bytes above a 2 MiB aligned base in
 * RAM, and the image_size bytes from there (its BSS included) must be
 * RAM. mote puts the base at the first 2 MiB boundary at or above the
 * start of RAM, as close to it as booting.rst asks for kernels without
 * the "anywhere" flag.
 */
#ifndef MOTE_BOOT_ARM64_IMAGE_H
#define MOTE_BOOT_ARM64_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HDR_SIZE   64
#define ARM64_IMAGE_MAGIC      0x644d5241u     /* "ARM\x64", at 0x38 */
#define ARM64_IMAGE_ALIGN      (2ULL << 20)    /* the base's alignment */
/* Kernels before v3.17 have image_size 0; booting.rst: then text_offset
 * can be assumed to be this. */
#define ARM64_IMAGE_LEGACY_TEXT_OFFSET 0x80000ULL

/* The guest's RAM, one region. */
struct arm64_ram {
	uint64_t base;
	uint64_t size;
};

/* What the header says, checked against the file and the RAM. */
struct arm64_image {
	uint64_t text_offset;   /* from the 2 MiB aligned base */
	/*
	 * Bytes the kernel uses from its load address, BSS included. For a
	 * legacy header (image_size 0) it is the file's size: the BSS is
	 * unknown, so the caller must leave room after it.
	 */
	uint64_t image_size;
	uint64_t load_addr;     /* guest-physical: aligned base + text_offset */
	uint64_t end;           /* load_addr + image_size, within RAM */
	unsigned page_kib;      /* 4, 16 or 64; 0 when the kernel leaves it open */
	bool phys_anywhere;     /* flags bit 3: any 2 MiB base in RAM will do */
	bool legacy;            /* image_size was 0 (a kernel before v3.17) */
	uint32_t pe_offset;     /* res5: the PE/COFF header (EFI stub), or 0 */
};

/* How much of the file's start the loader hands the parser: the header,
 * and an EFI stub's PE/COFF headers after it. */
#define ARM64_IMAGE_HEAD_READ  4096

/*
 * Parse the header in head[0..len) of a kernel file of file_size bytes
 * (len <= file_size; len >= ARM64_IMAGE_HDR_SIZE unless the file is
 * shorter) for a guest with RAM ram. When head also holds an EFI stub's
 * PE/COFF headers, a file shorter than its sections' raw data is refused
 * as truncated. Returns 0 and fills *out, or -ENOEXEC
 * (not a usable little-endian arm64 Image), -EFBIG (it does not fit in
 * RAM) or -EINVAL (arguments), with one line in err.
 */
int arm64_image_parse(const void *head, size_t len, uint64_t file_size,
		      const struct arm64_ram *ram, struct arm64_image *out,
		      char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
