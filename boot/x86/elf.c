/*
 * ELF64 vmlinux loading: PT_LOAD segments go to their physical addresses,
 * and the entry is startup_64. A vmlinux carries no setup header, so we
 * make one with what the kernel reads from it.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/x86/layout.h"
#include "boot/x86/linux.h"
#include "boot/x86/linux_priv.h"
#include "vmm/base/gmem.h"

#define ELF_MAX_PHDRS        64
#define ELF_INITRD_ADDR_MAX  0x37ffffff  /* boot.rst's default */
#define ELF_CMDLINE_SIZE     2047        /* COMMAND_LINE_SIZE - 1 on x86 */
#define ELF_PROTOCOL         0x020f

static int check_ehdr(struct linux_ctx *c, const Elf64_Ehdr *eh, uint64_t fsize)
{
	const char *why = NULL;

	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		why = "not ELF64";
	else if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		why = "not little-endian";
	else if (eh->e_machine != EM_X86_64)
		why = "not x86-64";
	else if (eh->e_type != ET_EXEC)
		why = "not an executable";
	else if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
		 eh->e_phnum > ELF_MAX_PHDRS)
		why = "bad program header table";
	else if (eh->e_phoff > fsize ||
		 (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > fsize - eh->e_phoff)
		why = "truncated program header table";
	if (!why)
		return 0;
	return linux_fail(c, -ENOEXEC, "kernel %s: ELF vmlinux: %s",
			  c->cfg->kernel_path, why);
}

/* A segment must come from inside the file and land in low RAM above 1 MiB. */
static int check_phdr(struct linux_ctx *c, const Elf64_Phdr *ph, uint64_t fsize)
{
	const char *path = c->cfg->kernel_path;

	if (ph->p_filesz > ph->p_memsz || ph->p_offset > fsize ||
	    ph->p_filesz > fsize - ph->p_offset)
		return linux_fail(c, -EINVAL, "kernel %s: ELF segment at offset "
				  "0x%llx is truncated", path,
				  (unsigned long long)ph->p_offset);
	if (ph->p_paddr < LAYOUT_HIMEM || ph->p_paddr > c->low_end ||
	    ph->p_memsz > c->low_end - ph->p_paddr)
		return linux_fail(c, -ENOMEM, "kernel %s: ELF segment "
				  "0x%llx+0x%llx is outside guest RAM 0x%llx-0x%llx",
				  path, (unsigned long long)ph->p_paddr,
				  (unsigned long long)ph->p_memsz,
				  (unsigned long long)LAYOUT_HIMEM,
				  (unsigned long long)c->low_end);
	return 0;
}

static int load_segment(struct linux_ctx *c, int fd, const Elf64_Phdr *ph)
{
	uint8_t *dst = gmem_ptr(c->mem, ph->p_paddr, ph->p_memsz);
	int ret;

	if (!dst)
		return linux_fail(c, -EFAULT, "kernel %s: ELF segment at 0x%llx "
				  "crosses a guest RAM boundary", c->cfg->kernel_path,
				  (unsigned long long)ph->p_paddr);
	ret = linux_kread(c, fd, dst, ph->p_filesz, ph->p_offset);
	if (ret)
		return linux_fail(c, ret, "kernel %s: %s", c->cfg->kernel_path,
				  strerror(-ret));
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	if (ph->p_paddr + ph->p_memsz > c->kernel_end)
		c->kernel_end = ph->p_paddr + ph->p_memsz;
	return 0;
}

/*
 * x86-64 vmlinux says its entry physically (phys_startup_64); if an image
 * gives a virtual one, translate it through the segment that holds it.
 */
static int find_entry(struct linux_ctx *c, const Elf64_Phdr *ph, unsigned n,
		      uint64_t e_entry)
{
	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && e_entry >= ph[i].p_paddr &&
		    e_entry - ph[i].p_paddr < ph[i].p_memsz) {
			c->entry = e_entry;
			return 0;
		}
	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && e_entry >= ph[i].p_vaddr &&
		    e_entry - ph[i].p_vaddr < ph[i].p_memsz) {
			c->entry = e_entry - ph[i].p_vaddr + ph[i].p_paddr;
			return 0;
		}
	return linux_fail(c, -ENOEXEC, "kernel %s: ELF entry 0x%llx is outside "
			  "every loaded segment", c->cfg->kernel_path,
			  (unsigned long long)e_entry);
}

static int load_segments(struct linux_ctx *c, int fd, uint64_t fsize,
			 const Elf64_Phdr *ph, unsigned n)
{
	unsigned loaded = 0;
	int ret;

	for (unsigned i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		ret = check_phdr(c, &ph[i], fsize);
		if (!ret)
			ret = load_segment(c, fd, &ph[i]);
		if (ret)
			return ret;
		loaded++;
	}
	if (!loaded)
		return linux_fail(c, -ENOEXEC, "kernel %s: ELF vmlinux has no "
				  "loadable segment", c->cfg->kernel_path);
	return 0;
}

/* What a bzImage's header would have told the kernel about its loader. */
static void make_header(struct setup_header *h)
{
	memset(h, 0, sizeof(*h));
	h->boot_flag = BP_BOOT_FLAG;
	h->header = BP_HDRS_MAGIC;
	h->version = ELF_PROTOCOL;
	h->loadflags = BP_LOADED_HIGH;
	h->initrd_addr_max = ELF_INITRD_ADDR_MAX;
	h->kernel_alignment = 0x1000000;
	h->xloadflags = BP_XLF_KERNEL_64;
	h->cmdline_size = ELF_CMDLINE_SIZE;
	h->vid_mode = 0xffff;  /* "normal" */
}

int linux_elf_load(struct linux_ctx *c, int fd, uint64_t fsize,
		   const uint8_t *head, size_t n)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	size_t phlen;
	int ret;

	if (n < sizeof(eh))
		return linux_fail(c, -EINVAL, "kernel %s: truncated ELF header "
				  "(file has %zu bytes)", c->cfg->kernel_path, n);
	memcpy(&eh, head, sizeof(eh));
	ret = check_ehdr(c, &eh, fsize);
	if (ret)
		return ret;
	phlen = eh.e_phnum * sizeof(*ph);
	ph = malloc(phlen);
	if (!ph)
		return linux_fail(c, -ENOMEM, "out of memory");
	ret = linux_kread(c, fd, ph, phlen, eh.e_phoff);
	if (ret)
		linux_fail(c, ret, "kernel %s: %s", c->cfg->kernel_path,
			   strerror(-ret));
	if (!ret)
		ret = load_segments(c, fd, fsize, ph, eh.e_phnum);
	if (!ret)
		ret = find_entry(c, ph, eh.e_phnum, eh.e_entry);
	free(ph);
	if (!ret)
		make_header(&c->hdr);
	return ret;
}
