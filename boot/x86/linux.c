/*
 * linux_load(): open the kernel, hand it to the loader for its format,
 * place the initrd, then write the zero page, GDT and page tables. Each
 * step lives in its own file; this one only sequences them and owns the
 * file handling they share.
 */
#include "boot/x86/linux.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/x86/layout.h"
#include "boot/x86/linux_priv.h"
#include "vmm/base/gmem.h"

#define PAGE_SIZE        4096ULL
#define HEAD_BYTES       1024   /* covers the setup header and an ELF header */

int linux_fail(struct linux_ctx *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	linux_verrf(c->err, c->errlen, ret, fmt, ap);
	va_end(ap);
	return ret;
}

int linux_kread(const struct linux_ctx *c, int fd, void *buf, size_t len,
		off_t off)
{
	if (!c->kmap)
		return linux_pread_full(fd, buf, len, off);
	memcpy(buf, c->kmap + off, len);  /* the caller checked off + len */
	return 0;
}

/* Read the head of the image and dispatch on its magic. */
static int load_kernel_fd(struct linux_ctx *c, int fd, uint64_t fsize)
{
	const char *path = c->cfg->kernel_path;
	uint8_t head[HEAD_BYTES];
	size_t n = fsize < sizeof(head) ? fsize : sizeof(head);
	int ret;

	if (fsize == 0)
		return linux_fail(c, -ENOEXEC, "kernel %s: empty file", path);
	ret = linux_pread_full(fd, head, n, 0);
	if (ret)
		return linux_fail(c, ret, "kernel %s: %s", path, strerror(-ret));
	if (n >= SELFMAG && !memcmp(head, ELFMAG, SELFMAG))
		return linux_elf_load(c, fd, fsize, head, n);
	if (n >= 0x206 && head[0x1fe] == 0x55 && head[0x1ff] == 0xaa &&
	    !memcmp(head + 0x202, "HdrS", 4)) {
		if (c->cfg->kernel_cache_dir &&
		    !linux_bzimage_unpacked(c, fd, fsize, head, n))
			return 0;
		return linux_bzimage_load(c, fd, fsize, head, n);
	}
	return linux_fail(c, -ENOEXEC,
			  "kernel %s: not a bzImage or ELF vmlinux (bad magic)", path);
}

static int load_kernel(struct linux_ctx *c)
{
	const char *path = c->cfg->kernel_path;
	uint64_t fsize;
	int fd, ret;

	if (!path)
		return linux_fail(c, -EINVAL, "no kernel given");
	fd = linux_open_sized(path, &fsize);
	if (fd < 0)
		return linux_fail(c, fd, "kernel %s: %s", path, strerror(-fd));
	ret = load_kernel_fd(c, fd, fsize);
	close(fd);
	return ret;
}

/*
 * As high as the kernel allows (its initrd_addr_max, and low RAM's end),
 * page aligned, and above everything the kernel uses while it starts.
 */
static int place_initrd(struct linux_ctx *c, uint64_t size)
{
	uint64_t top = (uint64_t)c->hdr.initrd_addr_max + 1;
	uint64_t floor = (c->kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t start;

	if (top > c->low_end)
		top = c->low_end;
	if (size > top || ((top - size) & ~(PAGE_SIZE - 1)) < floor)
		return linux_fail(c, -ENOMEM,
				  "initrd %s: %llu bytes does not fit in guest RAM "
				  "below 0x%llx (the kernel needs up to 0x%llx)",
				  c->cfg->initrd_path, (unsigned long long)size,
				  (unsigned long long)top,
				  (unsigned long long)floor);
	start = (top - size) & ~(PAGE_SIZE - 1);
	c->initrd_gpa = start;
	c->initrd_size = size;
	return 0;
}

static int load_initrd(struct linux_ctx *c)
{
	const char *path = c->cfg->initrd_path;
	uint64_t size;
	void *dst;
	int fd, ret = 0;

	if (!path)
		return 0;
	fd = linux_open_sized(path, &size);
	if (fd < 0)
		return linux_fail(c, fd, "initrd %s: %s", path, strerror(-fd));
	if (size == 0)
		goto out;  /* an empty initrd is no initrd */
	ret = place_initrd(c, size);
	if (ret)
		goto out;
	dst = gmem_ptr(c->mem, c->initrd_gpa, size);
	ret = dst ? linux_pread_full(fd, dst, size, 0) : -EFAULT;
	if (ret)
		linux_fail(c, ret, "initrd %s: %s", path, strerror(-ret));
out:
	close(fd);
	return ret;
}

/* Low RAM: the region at guest-physical 0, which must end by the hole. */
static int find_low_ram(struct linux_ctx *c)
{
	for (unsigned i = 0; i < c->mem->nr; i++) {
		const struct gmem_region *r = &c->mem->r[i];
		if (r->gpa == 0 && r->size > LAYOUT_HIMEM &&
		    r->size <= LAYOUT_MMIO_HOLE) {
			c->low_end = r->size;
			return 0;
		}
	}
	return linux_fail(c, -EINVAL, "guest RAM must start at 0, cover 1 MiB "
			  "and end by the MMIO hole at 0x%llx",
			  (unsigned long long)LAYOUT_MMIO_HOLE);
}

int linux_load(struct gmem *mem, const struct linux_boot_cfg *cfg,
	       struct linux_entry *entry, char *err, size_t errlen)
{
	struct linux_ctx c = {
		.mem = mem, .cfg = cfg, .err = err, .errlen = errlen,
	};
	int ret;

	if (err && errlen)
		err[0] = '\0';
	ret = find_low_ram(&c);
	if (!ret)
		ret = load_kernel(&c);
	if (!ret)
		ret = linux_cmdline_write(&c);
	if (!ret)
		ret = load_initrd(&c);
	if (!ret)
		ret = linux_zeropage_write(&c);
	if (ret)
		return ret;
	ret = linux_cpu_setup(mem, entry);
	if (ret)
		return linux_fail(&c, ret, "cannot write the boot GDT and page tables");
	entry->rip = c.entry;
	return 0;
}
