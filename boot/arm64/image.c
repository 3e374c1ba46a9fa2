/*
 * arm64_image_parse(): the Image header's fields, each checked before it
 * is used; every size sum is done so that it cannot wrap.
 */
#include "boot/arm64/image.h"

#include <errno.h>
#include <string.h>

#include "boot/linux_err.h"

/* Byte offsets in the header (booting.rst). */
#define OFF_TEXT_OFFSET  0x08
#define OFF_IMAGE_SIZE   0x10
#define OFF_FLAGS        0x18
#define OFF_MAGIC        0x38
#define OFF_RES5         0x3c

#define FLAG_BE          (1ULL << 0)
#define FLAG_PAGE_SHIFT  1
#define FLAG_PAGE_MASK   3ULL
#define FLAG_ANYWHERE    (1ULL << 3)

/* The header is little-endian whatever the host is. */
static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int check_header(const uint8_t *h, size_t len, char *err, size_t errlen)
{
	uint32_t magic;

	if (len < ARM64_IMAGE_HDR_SIZE)
		return linux_errf(err, errlen, -ENOEXEC,
				  "arm64 Image truncated: %zu bytes, the header needs %d",
				  len, ARM64_IMAGE_HDR_SIZE);
	magic = le32(h + OFF_MAGIC);
	if (magic != ARM64_IMAGE_MAGIC)
		return linux_errf(err, errlen, -ENOEXEC,
				  "not an arm64 Image: magic 0x%08x at 0x38, want 0x%08x (\"ARM\\x64\")",
				  magic, ARM64_IMAGE_MAGIC);
	return 0;
}

/* Flags exist since v3.17; in older headers the field is zero. */
static int read_flags(uint64_t flags, struct arm64_image *out, char *err,
		      size_t errlen)
{
	static const unsigned page_kib[] = { 0, 4, 16, 64 };

	if (flags & FLAG_BE)
		return linux_errf(err, errlen, -ENOEXEC,
				  "arm64 Image is big-endian; mote boots little-endian kernels only");
	out->page_kib = page_kib[(flags >> FLAG_PAGE_SHIFT) & FLAG_PAGE_MASK];
	out->phys_anywhere = (flags & FLAG_ANYWHERE) != 0;
	return 0;
}

/*
 * A kernel with an EFI stub (Debian's) is also a PE/COFF file whose section
 * table says where its raw data ends: a file shorter than that was cut
 * short, though the Image header alone cannot tell (image_size counts the
 * BSS too). Checked only when the PE headers lie in the bytes given and
 * carry the signature; other Images go by the header alone.
 */
#define PE_SIG           0x00004550u   /* "PE\0\0" */
#define PE_COFF_SIZE     24            /* the signature and the COFF header */
#define PE_SECTION_SIZE  40

static int check_pe_sections(const uint8_t *h, size_t len, uint32_t pe,
			     uint64_t file_size, char *err, size_t errlen)
{
	uint64_t end = 0, table;
	unsigned nsec;

	if (pe < ARM64_IMAGE_HDR_SIZE || (uint64_t)pe + PE_COFF_SIZE > len ||
	    le32(h + pe) != PE_SIG)
		return 0;
	nsec = (unsigned)(h[pe + 6] | h[pe + 7] << 8);
	table = (uint64_t)pe + PE_COFF_SIZE + (unsigned)(h[pe + 20] | h[pe + 21] << 8);
	for (unsigned i = 0; i < nsec; i++) {
		const uint64_t s = table + (uint64_t)i * PE_SECTION_SIZE;

		if (s + PE_SECTION_SIZE > len)
			return 0;   /* the table runs past what was read */
		uint64_t raw_end = (uint64_t)le32(h + s + 20) + le32(h + s + 16);
		end = raw_end > end ? raw_end : end;
	}
	if (end > file_size)
		return linux_errf(err, errlen, -ENOEXEC,
				  "arm64 Image truncated: its sections end at %#llx bytes, the file has %#llx",
				  (unsigned long long)end, (unsigned long long)file_size);
	return 0;
}

/* Place the kernel at the first 2 MiB boundary at or above RAM's start. */
static int place(struct arm64_image *out, uint64_t file_size,
		 const struct arm64_ram *ram, char *err, size_t errlen)
{
	uint64_t skip = (ARM64_IMAGE_ALIGN - ram->base % ARM64_IMAGE_ALIGN) %
			ARM64_IMAGE_ALIGN;
	uint64_t room = ram->size > skip ? ram->size - skip : 0;

	if (out->image_size < file_size)
		return linux_errf(err, errlen, -ENOEXEC,
				  "arm64 Image: image_size %#llx is smaller than the file (%#llx bytes)",
				  (unsigned long long)out->image_size,
				  (unsigned long long)file_size);
	if (out->text_offset > room || out->image_size > room - out->text_offset)
		return linux_errf(err, errlen, -EFBIG,
				  "arm64 Image needs %#llx bytes at text_offset %#llx; RAM from the first 2 MiB boundary has %#llx",
				  (unsigned long long)out->image_size,
				  (unsigned long long)out->text_offset,
				  (unsigned long long)room);
	out->load_addr = ram->base + skip + out->text_offset;
	out->end = out->load_addr + out->image_size;
	return 0;
}

int arm64_image_parse(const void *head, size_t len, uint64_t file_size,
		      const struct arm64_ram *ram, struct arm64_image *out,
		      char *err, size_t errlen)
{
	const uint8_t *h = head;
	int ret;

	if (!h || !ram || !out || len > file_size ||
	    ram->base + ram->size < ram->base)
		return linux_errf(err, errlen, -EINVAL,
				  "arm64 Image: bad arguments to the parser");
	memset(out, 0, sizeof(*out));
	ret = check_header(h, len, err, errlen);
	if (ret < 0)
		return ret;
	ret = read_flags(le64(h + OFF_FLAGS), out, err, errlen);
	if (ret < 0)
		return ret;
	out->pe_offset = le32(h + OFF_RES5);
	ret = check_pe_sections(h, len, out->pe_offset, file_size, err, errlen);
	if (ret < 0)
		return ret;
	out->text_offset = le64(h + OFF_TEXT_OFFSET);
	out->image_size = le64(h + OFF_IMAGE_SIZE);
	if (out->image_size == 0) {
		out->legacy = true;
		out->text_offset = ARM64_IMAGE_LEGACY_TEXT_OFFSET;
		out->image_size = file_size;
	}
	return place(out, file_size, ram, err, errlen);
}
