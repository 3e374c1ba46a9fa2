/*
 * bzImage loading (boot.rst): check the setup header, copy it for the zero
 * page, and put the protected-mode part at LAYOUT_HIMEM. We enter through
 * the 64-bit entry at load address + 0x200, so the real-mode setup code is
 * never loaded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "boot/x86/kernel_unpack.h"
#include "boot/x86/layout.h"
#include "boot/x86/linux.h"
#include "boot/x86/linux_priv.h"
#include "vmm/base/gmem.h"

#define PROTO(maj, min)   (((maj) << 8) | (min))
#define ELF_HEAD          1024

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return a ? (v + a - 1) / a * a : v;
}

/* The setup header as the image has it: bytes 0x1f1 .. 0x202 + head[0x201]. */
static void copy_header(struct setup_header *hdr, const uint8_t *head, size_t n)
{
	size_t end = 0x202 + head[0x201];
	size_t max = BP_SETUP_HDR_OFF + sizeof(*hdr);

	if (end > max)
		end = max;
	if (end > n)
		end = n;
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, head + BP_SETUP_HDR_OFF, end - BP_SETUP_HDR_OFF);
}

/* Refuse kernels we cannot enter in 64-bit mode. */
static int check_protocol(struct linux_ctx *c)
{
	const struct setup_header *h = &c->hdr;
	const char *path = c->cfg->kernel_path;
	unsigned maj = h->version >> 8, min = h->version & 0xff;

	if (h->version < PROTO(2, 6))
		return linux_fail(c, -ENOEXEC, "kernel %s: boot protocol %u.%02u "
				  "is too old (need 2.06 or later)", path, maj, min);
	/* xloadflags exists from 2.12 on; before that there is no 64-bit entry. */
	if (h->version < PROTO(2, 12) || !(h->xloadflags & BP_XLF_KERNEL_64))
		return linux_fail(c, -ENOEXEC, "kernel %s: no 64-bit entry point "
				  "(boot protocol %u.%02u, XLF_KERNEL_64 not set)",
				  path, maj, min);
	if (!(h->loadflags & BP_LOADED_HIGH))
		return linux_fail(c, -ENOEXEC, "kernel %s: a zImage (not loaded "
				  "high) is not supported", path);
	return 0;
}

/*
 * Bytes of protected-mode code to load. Distribution kernels may carry a
 * signature after the syssize bytes, so a longer file is fine.
 */
static int image_size(struct linux_ctx *c, uint64_t fsize, uint64_t *setup,
		      uint64_t *size)
{
	unsigned sects = c->hdr.setup_sects ? c->hdr.setup_sects
					    : BP_DEFAULT_SETUP_SECTS;
	uint64_t sys = (uint64_t)c->hdr.syssize * 16;
	const char *path = c->cfg->kernel_path;

	*setup = (uint64_t)(sects + 1) * BP_SECTOR;
	if (fsize <= *setup)
		return linux_fail(c, -EINVAL, "kernel %s: truncated (setup_sects "
				  "says %llu bytes, file has %llu)", path,
				  (unsigned long long)*setup,
				  (unsigned long long)fsize);
	*size = fsize - *setup;
	if (sys > *size)
		return linux_fail(c, -EINVAL, "kernel %s: truncated (syssize says "
				  "%llu bytes after the setup, file has %llu)", path,
				  (unsigned long long)sys, (unsigned long long)*size);
	if (sys)
		*size = sys;
	return 0;
}

/*
 * How far the kernel reaches while it starts: the decompressor moves itself
 * to max(load address rounded to kernel_alignment, pref_address) and needs
 * init_size bytes from there (arch/x86/boot/compressed/head_64.S).
 */
static uint64_t image_end(const struct setup_header *h, uint64_t load,
			  uint64_t size)
{
	uint64_t base = load, end;

	if (h->relocatable_kernel)
		base = align_up(load, h->kernel_alignment);
	if (h->pref_address > base)
		base = h->pref_address;
	if (base > UINT64_MAX - h->init_size)
		return UINT64_MAX;  /* a nonsense pref_address fails the RAM check */
	end = base + h->init_size;
	return end > load + size ? end : load + size;
}

int linux_bzimage_load(struct linux_ctx *c, int fd, uint64_t fsize,
		       const uint8_t *head, size_t n)
{
	const char *path = c->cfg->kernel_path;
	uint64_t setup = 0, size = 0, load = LAYOUT_HIMEM;
	void *dst;
	int ret;

	copy_header(&c->hdr, head, n);
	ret = check_protocol(c);
	if (!ret)
		ret = image_size(c, fsize, &setup, &size);
	if (ret)
		return ret;
	c->kernel_end = image_end(&c->hdr, load, size);
	if (c->kernel_end > c->low_end)
		return linux_fail(c, -ENOMEM, "kernel %s: needs guest RAM up to "
				  "0x%llx, the guest has 0x%llx below the MMIO hole",
				  path, (unsigned long long)c->kernel_end,
				  (unsigned long long)c->low_end);
	dst = gmem_ptr(c->mem, load, size);
	ret = dst ? linux_pread_full(fd, dst, size, setup) : -EFAULT;
	if (ret)
		return linux_fail(c, ret, "kernel %s: %s", path, strerror(-ret));
	c->entry = load + BP_ENTRY64_OFF;
	return 0;
}

static void note(struct linux_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct linux_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->cfg->note || !c->cfg->notelen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->cfg->note, c->cfg->notelen, fmt, ap);
	va_end(ap);
}

/* The cached unpacked kernel, mapped, or -errno and a note. */
static int map_unpacked(struct linux_ctx *c, int fd, uint64_t fsize,
			const uint8_t **elf, uint64_t *elf_len)
{
	const char *dir = c->cfg->kernel_cache_dir;
	char why[256];
	bool hit = false;
	void *img;
	int ret;

	if (fsize > KUNPACK_MAX_OUT) {
		note(c, "kernel cache: not used: the bzImage is over %u MiB",
		     KUNPACK_MAX_OUT >> 20);
		return -EFBIG;
	}
	img = mmap(NULL, fsize, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED) {
		ret = -errno;
		note(c, "kernel cache: not used: cannot map the bzImage: %s",
		     strerror(-ret));
		return ret;
	}
	why[0] = '\0';
	ret = kcache_open(dir, img, fsize, elf, elf_len, &hit, why, sizeof(why));
	munmap(img, fsize);
	if (ret < 0)
		note(c, "kernel cache: not used (%s); booting through the "
		     "kernel's decompressor", why);
	else
		note(c, "kernel cache: %s %s", hit ? "hit in" : "unpacked into", dir);
	return ret;
}

/*
 * The unpacked vmlinux loads like any ELF vmlinux, but keeps the bzImage's
 * own setup header (version, loadflags, initrd_addr_max, cmdline_size,
 * alignment) instead of the ELF loader's made-up one: the kernel sees what
 * its decompressor would have passed on. No KASLR: that is the
 * decompressor's work, and the kernel runs at its link address.
 */
int linux_bzimage_unpacked(struct linux_ctx *c, int fd, uint64_t fsize,
			   const uint8_t *head, size_t n)
{
	struct setup_header bz;
	const uint8_t *elf = NULL;
	uint64_t elen = 0;
	int ret;

	copy_header(&bz, head, n);
	c->hdr = bz;
	if (check_protocol(c))
		return -ENOEXEC;  /* linux_bzimage_load() says why */
	ret = map_unpacked(c, fd, fsize, &elf, &elen);
	if (ret)
		return ret;
	c->kmap = elf;
	ret = linux_elf_load(c, -1, elen, elf, elen < ELF_HEAD ? elen : ELF_HEAD);
	c->kmap = NULL;
	munmap((void *)elf, elen);
	if (ret) {
		note(c, "kernel cache: the unpacked kernel does not load (%s); "
		     "booting through the kernel's decompressor", c->err);
		c->entry = c->kernel_end = 0;
		if (c->err && c->errlen)
			c->err[0] = '\0';
		return ret;
	}
	c->hdr = bz;
	return 0;
}
