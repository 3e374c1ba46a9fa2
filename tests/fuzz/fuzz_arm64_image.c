/*
 * The arm64 Image header, as the loader hands it over: the input's first
 * 16 bytes give the file's size beyond the bytes read and the RAM's base
 * and size; the rest is the file's start (the header and an EFI stub's
 * PE/COFF headers), at most ARM64_IMAGE_HEAD_READ bytes of it.
 * Whatever the parser accepts must fit: the kernel's 2 MiB aligned base +
 * text_offset inside RAM, and image_size bytes from there inside RAM too.
 */
#include "tests/fuzz/fuzz.h"
#include "boot/arm64/image.h"

#define MIB (1024ULL * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	uint64_t file_extra = fin_u32(&in);
	struct arm64_ram ram = {
		.base = (uint64_t)fin_u32(&in) << 21,   /* 2 MiB steps, then unaligned */
		.size = (uint64_t)fin_u32(&in) << 12,
	};
	ram.base += fin_u32(&in) & 0xfffff;
	size_t len = in.n < ARM64_IMAGE_HEAD_READ ? in.n : ARM64_IMAGE_HEAD_READ;
	uint64_t file_size = len + file_extra;
	struct arm64_image im;
	char err[256];

	int r = arm64_image_parse(in.p, len, file_size, &ram, &im, err, sizeof(err));
	FZ_CHECK(memchr(err, 0, sizeof(err)));
	if (r != 0)
		return 0;
	FZ_CHECK(im.load_addr >= ram.base);
	FZ_CHECK((im.load_addr - im.text_offset) % (2 * MIB) == 0);
	FZ_CHECK(im.end >= im.load_addr && im.end - im.load_addr == im.image_size);
	FZ_CHECK(im.end <= ram.base + ram.size);
	FZ_CHECK(im.image_size >= file_size);
	return 0;
}
