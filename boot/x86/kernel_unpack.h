/*
 * Unpacking a bzImage on the host: the compressed vmlinux it carries
 * (setup_header payload_offset/payload_length, boot protocol 2.08 on) is
 * decompressed here once instead of by the guest's decompressor on every
 * boot, and a cache of the results keyed by the image's hash. Formats: the
 * ones Debian's kernels use, gzip, xz, zstd and LZ4 (legacy frames). The
 * kernel's build appends the uncompressed size (32-bit little-endian) to
 * every payload; the output must be exactly that long and an ELF64 x86-64.
 * Pure host code: no guest memory, no KVM, no printing.
 */
#ifndef MOTE_BOOT_KERNEL_UNPACK_H
#define MOTE_BOOT_KERNEL_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KUNPACK_MAX_OUT   (512u << 20)  /* bound on an unpacked kernel */

enum kunpack_format { KUNPACK_GZIP, KUNPACK_XZ, KUNPACK_ZSTD, KUNPACK_LZ4 };

/* "gzip", "xz", "zstd" or "lz4". */
const char *kunpack_format_name(enum kunpack_format f);

/*
 * Decompress the payload of the bzImage img[0, len). On success *out is a
 * malloc'd ELF64 x86-64 image of *outlen bytes and *fmt its format.
 * Returns -ENOEXEC (no payload or an unknown format), -EINVAL (corrupt or
 * truncated payload, or not an ELF once unpacked), -EFBIG (over
 * KUNPACK_MAX_OUT) or -ENOMEM, with one line in err.
 */
int kunpack_bzimage(const uint8_t *img, size_t len, uint8_t **out,
		    size_t *outlen, enum kunpack_format *fmt,
		    char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The cached unpacked kernel for the bzImage img[0, len), under dir
 * (created if missing): a file named by the XXH3-128 of the image, holding
 * the ELF and a trailer with the ELF's length and XXH3-128, checked on
 * every use. A missing, corrupt or truncated file is (re)built: unpacked,
 * written to a temporary file in dir and renamed into place, so
 * concurrent runs and crashes never leave a partial file under the final
 * name. Returns 0 with the ELF mapped read-only at *elf (*elf_len bytes;
 * the caller munmaps it) and *hit set (false: it was unpacked now), or
 * -errno with one line in err.
 */
int kcache_open(const char *dir, const uint8_t *img, size_t len,
		const uint8_t **elf, uint64_t *elf_len, bool *hit,
		char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
