/*
 * arm64_linux_load(): the Image, the initrd and the device tree into guest
 * RAM. Placement first (arm64_boot_place, pure), then the copies: nothing
 * is written to guest memory until everything is known to fit.
 */
#include "boot/arm64/loader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "boot/linux_err.h"
#include "boot/linux_file.h"
#include "vmm/base/gmem.h"

#define GZIP_MAGIC0 0x1f
#define GZIP_MAGIC1 0x8b

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v - v % a;
}

int arm64_boot_place(const struct arm64_ram *ram, const struct arm64_image *img,
		     uint64_t initrd_size, uint64_t dtb_size, struct arm64_boot_layout *out,
		     char *err, size_t errlen)
{
	uint64_t end = ram->base + ram->size;

	if (ram->base + ram->size < ram->base || img->end > end || img->load_addr < ram->base)
		return linux_errf(err, errlen, -EINVAL, "arm64 boot: the kernel is outside RAM");
	if (dtb_size == 0 || dtb_size > ARM64_DTB_MAX)
		return linux_errf(err, errlen, -EFBIG,
				  "device tree: %llu bytes, booting.rst allows 1 to %llu",
				  (unsigned long long)dtb_size, (unsigned long long)ARM64_DTB_MAX);
	memset(out, 0, sizeof(*out));
	out->kernel = img->load_addr;
	out->kernel_end = img->end;
	if (end - img->end < dtb_size)
		return linux_errf(err, errlen, -EFBIG,
				  "no room for the device tree above the kernel (RAM ends at %#llx)",
				  (unsigned long long)end);
	out->dtb = align_down(end - dtb_size, ARM64_DTB_ALIGN);
	out->dtb_size = dtb_size;
	out->initrd = out->initrd_end = out->dtb;
	if (!initrd_size)
		return 0;
	if (out->dtb - img->end < initrd_size ||
	    align_down(out->dtb - initrd_size, ARM64_INITRD_ALIGN) < img->end)
		return linux_errf(err, errlen, -EFBIG,
				  "initrd of %llu bytes does not fit in RAM between the kernel "
				  "(ends at %#llx) and the device tree (%#llx); give more --mem",
				  (unsigned long long)initrd_size, (unsigned long long)img->end,
				  (unsigned long long)out->dtb);
	out->initrd = align_down(out->dtb - initrd_size, ARM64_INITRD_ALIGN);
	out->initrd_end = out->initrd + initrd_size;
	return 0;
}

/* Read the whole file into guest memory at gpa (already placed). */
static int read_into(struct gmem *mem, int fd, uint64_t gpa, uint64_t size, const char *what,
		     const char *path, char *err, size_t errlen)
{
	void *dst = gmem_ptr(mem, gpa, size);
	int ret;

	if (!dst)
		return linux_errf(err, errlen, -EFBIG, "%s %s: %#llx bytes at %#llx are not RAM",
				  what, path, (unsigned long long)size, (unsigned long long)gpa);
	ret = linux_pread_full(fd, dst, size, 0);
	return ret ? linux_errf(err, errlen, ret, "%s %s: %s", what, path, strerror(-ret)) : 0;
}

/* The kernel's header, parsed for ram. */
static int parse_kernel(int fd, uint64_t fsize, const char *path, const struct arm64_ram *ram,
			struct arm64_image *img, char *err, size_t errlen)
{
	uint8_t head[ARM64_IMAGE_HEAD_READ];
	size_t n = fsize < sizeof(head) ? (size_t)fsize : sizeof(head);
	int ret = linux_pread_full(fd, head, n, 0);

	if (ret)
		return linux_errf(err, errlen, ret, "kernel %s: %s", path, strerror(-ret));
	if (n >= 2 && head[0] == GZIP_MAGIC0 && head[1] == GZIP_MAGIC1)
		return linux_errf(err, errlen, -ENOEXEC,
				  "kernel %s: a gzip-compressed Image; mote loads the "
				  "uncompressed arm64 Image (gunzip it first)", path);
	char why[192] = "";
	ret = arm64_image_parse(head, n, fsize, ram, img, why, sizeof(why));
	return ret ? linux_errf(err, errlen, ret, "kernel %s: %s", path, why) : 0;
}

static int load_files(struct gmem *mem, const struct arm64_ram *ram,
		      const struct arm64_boot_cfg *cfg, int kfd, uint64_t ksize, int ifd,
		      uint64_t isize, struct arm64_boot_layout *lay, char *err, size_t errlen)
{
	struct arm64_image img;
	int ret = parse_kernel(kfd, ksize, cfg->kernel_path, ram, &img, err, errlen);

	if (!ret)
		ret = arm64_boot_place(ram, &img, isize, arm64_fdt_size_bound(cfg->fdt), lay, err,
				       errlen);
	if (!ret)
		ret = read_into(mem, kfd, lay->kernel, ksize, "kernel", cfg->kernel_path, err,
				errlen);
	if (!ret && ifd >= 0)
		ret = read_into(mem, ifd, lay->initrd, isize, "initrd", cfg->initrd_path, err,
				errlen);
	return ret;
}

static int build_tree(struct gmem *mem, const struct arm64_ram *ram,
		      const struct arm64_boot_cfg *cfg, const struct arm64_boot_layout *lay,
		      char *err, size_t errlen)
{
	void *dst = gmem_ptr(mem, lay->dtb, lay->dtb_size);

	if (!dst)
		return linux_errf(err, errlen, -EFBIG, "device tree: %#llx is not RAM",
				  (unsigned long long)lay->dtb);
	cfg->fdt->ram = (struct arm64_fdt_region){ ram->base, ram->size };
	cfg->fdt->initrd_start = lay->initrd;
	cfg->fdt->initrd_end = lay->initrd_end;
	int ret = arm64_fdt_build(cfg->fdt, dst, lay->dtb_size, err, errlen);
	return ret < 0 ? ret : 0;
}

int arm64_linux_load(struct gmem *mem, const struct arm64_ram *ram,
		     const struct arm64_boot_cfg *cfg, struct arm64_boot_entry *entry,
		     char *err, size_t errlen)
{
	struct arm64_boot_layout lay;
	uint64_t ksize, isize = 0;
	int kfd, ifd = -1, ret;

	if (!cfg->kernel_path)
		return linux_errf(err, errlen, -EINVAL, "no kernel given");
	kfd = linux_open_sized(cfg->kernel_path, &ksize);
	if (kfd < 0)
		return linux_errf(err, errlen, kfd, "kernel %s: %s", cfg->kernel_path,
				  strerror(-kfd));
	if (cfg->initrd_path) {
		ifd = linux_open_sized(cfg->initrd_path, &isize);
		if (ifd < 0) {
			close(kfd);
			return linux_errf(err, errlen, ifd, "initrd %s: %s", cfg->initrd_path,
					  strerror(-ifd));
		}
	}
	ret = load_files(mem, ram, cfg, kfd, ksize, ifd, isize, &lay, err, errlen);
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	if (!ret)
		ret = build_tree(mem, ram, cfg, &lay, err, errlen);
	if (!ret)
		*entry = (struct arm64_boot_entry){ lay.kernel, lay.dtb };
	return ret;
}
