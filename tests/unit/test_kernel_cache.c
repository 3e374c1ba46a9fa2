/*
 * The unpacked-kernel cache: synthetic bzImages whose payload is a small
 * fake vmlinux compressed here with each library (gzip, xz, zstd, LZ4
 * legacy, laid out as the kernel's build does it), broken payloads, cache
 * hits, misses, corrupt and truncated cache files, two processes filling
 * the cache at once, and linux_load() booting the unpacked kernel or
 * falling back to the bzImage.
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/x86/kernel_unpack.h"
#include "boot/x86/layout.h"
#include "boot/x86/linux.h"
#include "vmm/base/gmem.h"

#define MIB          (1024ULL * 1024)
#define ELF_PADDR    0x1000000ULL   /* 16 MiB, as a distribution vmlinux */
#define ELF_SEG_OFF  0x1000
#define SETUP_SECTS  4
#define PM_START     ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_OFF  0x100           /* from the protected-mode start */
#define CMDLINE_SIZE 4095            /* the bzImage's, unlike the ELF loader's 2047 */

static const char *const fmt_names[] = { "gzip", "xz", "zstd", "lz4" };

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A fake vmlinux: one PT_LOAD of segsz bytes at 16 MiB, entry at its start. */
static uint8_t *make_elf(size_t segsz, size_t *len)
{
	size_t n = ELF_SEG_OFF + segsz;
	uint8_t *b = calloc(1, n);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof(*eh));

	ck_assert_ptr_nonnull(b);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_entry = ELF_PADDR;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_offset = ELF_SEG_OFF;
	ph->p_paddr = ELF_PADDR;
	ph->p_vaddr = 0xffffffff81000000ULL;
	ph->p_filesz = ph->p_memsz = segsz;
	for (size_t i = 0; i < segsz; i += 64)
		b[ELF_SEG_OFF + i] = (uint8_t)(i / 64 * 7);
	*len = n;
	return b;
}

/* The kernel's LZ4 legacy layout: magic, then (size, block) per 8 MiB. */
static size_t lz4_legacy(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 4;

	put32(out, 0x184c2102);
	for (size_t i = 0; i < n; i += 8 * MIB) {
		int chunk = n - i < 8 * MIB ? (int)(n - i) : (int)(8 * MIB);
		int c = LZ4_compress_default((const char *)in + i, (char *)out + o + 4,
					     chunk, LZ4_compressBound(chunk));
		ck_assert_int_gt(c, 0);
		put32(out + o, c);
		o += 4 + c;
	}
	return o;
}

static size_t gzip_stream(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream s;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	s.next_in = (Bytef *)in;
	s.avail_in = n;
	s.next_out = out;
	s.avail_out = cap;
	ck_assert_int_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
	deflateEnd(&s);
	return s.total_out;
}

/*
 * Compress in[0, n) as the kernel's build does for format f; returns the
 * payload length. gzip's own trailer ends with the size; the others get
 * it appended.
 */
static size_t kernel_compress(int f, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;

	switch (f) {
	case KUNPACK_GZIP:
		return gzip_stream(in, n, out, cap);
	case KUNPACK_XZ:
		ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL,
							 in, n, out, &o, cap), LZMA_OK);
		break;
	case KUNPACK_ZSTD:
		o = ZSTD_compress(out, cap, in, n, 19);
		ck_assert(!ZSTD_isError(o));
		break;
	default:
		o = lz4_legacy(in, n, out);
	}
	put32(out + o, (uint32_t)n);
	return o + 4;
}

/* A bzImage (protocol 2.15, 64-bit entry) around the given payload. */
static uint8_t *make_bzimage(const uint8_t *pl, size_t pllen, size_t *len)
{
	size_t pm = (PAYLOAD_OFF + pllen + 0x100 + 15) & ~(size_t)15;
	uint8_t *b = calloc(1, PM_START + pm);

	ck_assert_ptr_nonnull(b);
	b[0x1f1] = SETUP_SECTS;
	put32(b + 0x1f4, pm / 16);
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x020f);
	b[0x211] = 0x01;                        /* LOADED_HIGH */
	put32(b + 0x22c, 0x7fffffff);           /* initrd_addr_max */
	put32(b + 0x230, 0x200000);             /* kernel_alignment */
	b[0x234] = 1;                           /* relocatable */
	put16(b + 0x236, 0x1);                  /* XLF_KERNEL_64 */
	put32(b + 0x238, CMDLINE_SIZE);
	put32(b + 0x248, PAYLOAD_OFF);
	put32(b + 0x24c, pllen);
	put64(b + 0x258, ELF_PADDR);            /* pref_address */
	put32(b + 0x260, 4 * MIB);              /* init_size */
	memcpy(b + PM_START + PAYLOAD_OFF, pl, pllen);
	*len = PM_START + pm;
	return b;
}

/* A bzImage whose payload is elf compressed with format f. */
static uint8_t *bz_for(int f, const uint8_t *elf, size_t elflen, size_t *len)
{
	size_t cap = elflen + elflen / 2 + 4096;
	uint8_t *pl = malloc(cap), *bz;

	ck_assert_ptr_nonnull(pl);
	bz = make_bzimage(pl, kernel_compress(f, elf, elflen, pl, cap), len);
	free(pl);
	return bz;
}

START_TEST(unpack_each_format)
{
	size_t elflen, len, outlen = 0;
	uint8_t *elf = make_elf(0x3000, &elflen), *bz = bz_for(_i, elf, elflen, &len);
	uint8_t *out = NULL;
	enum kunpack_format fmt;
	char err[256] = "";

	ck_assert_msg(kunpack_bzimage(bz, len, &out, &outlen, &fmt, err,
				      sizeof(err)) == 0, "%s: %s", fmt_names[_i], err);
	ck_assert_int_eq(fmt, _i);
	ck_assert_str_eq(kunpack_format_name(fmt), fmt_names[_i]);
	ck_assert_uint_eq(outlen, elflen);
	ck_assert_mem_eq(out, elf, elflen);
	free(out);
	free(bz);
	free(elf);
}
END_TEST

/* Over 8 MiB: LZ4 legacy in two blocks. */
START_TEST(unpack_lz4_two_blocks)
{
	size_t elflen, len, outlen = 0;
	uint8_t *elf = make_elf(9 * MIB, &elflen);
	uint8_t *bz = bz_for(KUNPACK_LZ4, elf, elflen, &len), *out = NULL;
	enum kunpack_format fmt;
	char err[256] = "";

	ck_assert_msg(kunpack_bzimage(bz, len, &out, &outlen, &fmt, err,
				      sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(outlen, elflen);
	ck_assert(memcmp(out, elf, elflen) == 0);
	free(out);
	free(bz);
	free(elf);
}
END_TEST

static int unpack_ret(const uint8_t *bz, size_t len, char *err, size_t errlen)
{
	uint8_t *out = NULL;
	size_t outlen = 0;
	enum kunpack_format fmt;
	int r = kunpack_bzimage(bz, len, &out, &outlen, &fmt, err, errlen);

	if (!r)
		free(out);
	return r;
}

/* Half the compressed stream, with the true size still appended. */
START_TEST(unpack_truncated_payload)
{
	size_t elflen, cap, pllen, len;
	uint8_t *elf = make_elf(0x8000, &elflen), *pl, *bz;
	char err[256] = "";

	/* Incompressible-ish content, so half a stream is half the data. */
	for (size_t i = ELF_SEG_OFF; i < elflen; i++)
		elf[i] = (uint8_t)(i * 2654435761u >> 13);
	cap = elflen * 2 + 4096;
	pl = malloc(cap);
	pllen = kernel_compress(_i, elf, elflen, pl, cap);
	memmove(pl + pllen / 2 - 4, pl + pllen - 4, 4);
	bz = make_bzimage(pl, pllen / 2, &len);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, fmt_names[_i]), "%s", err);
	free(bz);
	/* A stream that unpacks to more than it says: also refused. */
	pllen = kernel_compress(_i, elf, elflen, pl, cap);
	put32(pl + pllen - 4, elflen - 1);
	bz = make_bzimage(pl, pllen, &len);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -EINVAL);
	free(bz);
	free(pl);
	free(elf);
}
END_TEST

START_TEST(unpack_garbage)
{
	uint8_t junk[4096], *bz, *pl;
	size_t len, elflen, cap, pllen;
	uint8_t *elf = make_elf(0x1000, &elflen);
	char err[256] = "";

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	put32(junk + sizeof(junk) - 4, 0x10000);
	bz = make_bzimage(junk, sizeof(junk), &len);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -ENOEXEC);
	ck_assert_msg(strstr(err, "format unknown"), "%s", err);
	/* A known magic followed by garbage. */
	memcpy(bz + PM_START + PAYLOAD_OFF, "\x28\xb5\x2f\xfd", 4);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -EINVAL);
	memcpy(bz + PM_START + PAYLOAD_OFF, "\x02\x21\x4c\x18", 4);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -EINVAL);
	/* A size over the bound. */
	put32(bz + PM_START + PAYLOAD_OFF + sizeof(junk) - 4, KUNPACK_MAX_OUT + 1);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -EFBIG);
	/* A payload that runs past the file. */
	put32(bz + 0x24c, len);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -EINVAL);
	free(bz);
	/* Not an ELF once unpacked. */
	elf[EI_CLASS] = ELFCLASS32;
	cap = elflen * 2 + 4096;
	pl = malloc(cap);
	pllen = kernel_compress(KUNPACK_ZSTD, elf, elflen, pl, cap);
	bz = make_bzimage(pl, pllen, &len);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not an ELF64"), "%s", err);
	/* An old boot protocol has no payload fields. */
	put16(bz + 0x206, 0x0207);
	ck_assert_int_eq(unpack_ret(bz, len, err, sizeof(err)), -ENOEXEC);
	free(bz);
	free(pl);
	free(elf);
}
END_TEST

/* ---- the cache ---- */

struct cache_fx {
	char root[64];
	char dir[96];
	uint8_t *elf, *bz;
	size_t elflen, len;
};

static void cache_init(struct cache_fx *x, int fmt)
{
	strcpy(x->root, "/tmp/mote-test-kcache-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(x->root));
	snprintf(x->dir, sizeof(x->dir), "%s/a/kernels", x->root);
	x->elf = make_elf(0x20000, &x->elflen);
	x->bz = bz_for(fmt, x->elf, x->elflen, &x->len);
}

static void cache_fini(struct cache_fx *x)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->root);
	ck_assert_int_eq(system(cmd), 0);
	free(x->elf);
	free(x->bz);
}

/* Open through the cache and check the mapping holds exactly the ELF. */
static bool cache_get(struct cache_fx *x)
{
	const uint8_t *elf = NULL;
	uint64_t elen = 0;
	bool hit = true;
	char err[256] = "";

	ck_assert_msg(kcache_open(x->dir, x->bz, x->len, &elf, &elen, &hit, err,
				  sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(elen, x->elflen);
	ck_assert(memcmp(elf, x->elf, x->elflen) == 0);
	munmap((void *)elf, elen);
	return hit;
}

/* The one cache file (and no temporary left beside it). */
static void cache_file(struct cache_fx *x, char *path, size_t len)
{
	char pat[160];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/*", x->dir);
	ck_assert_int_eq(glob(pat, GLOB_PERIOD, NULL, &g), 0);
	/* ".", ".." and the entry */
	ck_assert_uint_eq(g.gl_pathc, 3);
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (strstr(g.gl_pathv[i], "/vmlinux-"))
			snprintf(path, len, "%s", g.gl_pathv[i]);
	globfree(&g);
	ck_assert_ptr_nonnull(strstr(path, "/vmlinux-"));
}

START_TEST(cache_miss_then_hit)
{
	struct cache_fx x;
	char path[256] = "";

	cache_init(&x, KUNPACK_XZ);
	ck_assert(!cache_get(&x));
	ck_assert(cache_get(&x));
	cache_file(&x, path, sizeof(path));
	/* Another image (one byte differs) is another entry. */
	x.bz[0x210] ^= 1;      /* type_of_loader: not read, but hashed */
	ck_assert(!cache_get(&x));
	ck_assert(cache_get(&x));
	cache_fini(&x);
}
END_TEST

static void corrupt(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, at), 1);
	b ^= 0x5a;
	ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

START_TEST(cache_corrupt_rebuilt)
{
	struct cache_fx x;
	char path[256] = "";

	cache_init(&x, KUNPACK_LZ4);
	ck_assert(!cache_get(&x));
	cache_file(&x, path, sizeof(path));
	corrupt(path, x.elflen / 2);     /* the ELF */
	ck_assert(!cache_get(&x));
	ck_assert(cache_get(&x));
	corrupt(path, x.elflen + 20);    /* the trailer's hash */
	ck_assert(!cache_get(&x));
	ck_assert(cache_get(&x));
	ck_assert_int_eq(truncate(path, x.elflen / 3), 0);
	ck_assert(!cache_get(&x));
	ck_assert(cache_get(&x));
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert(!cache_get(&x));
	ck_assert(cache_get(&x));
	cache_file(&x, path, sizeof(path));
	cache_fini(&x);
}
END_TEST

/* Two processes, empty cache, at once: both get the whole kernel. */
START_TEST(cache_concurrent_fill)
{
	struct cache_fx x;
	char path[256] = "";
	pid_t pid[4];
	int st;

	cache_init(&x, KUNPACK_GZIP);
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 4; i++) {
			pid[i] = fork();
			ck_assert_int_ge(pid[i], 0);
			if (pid[i] == 0) {
				/* Check's asserts in the child end it non-zero on failure. */
				cache_get(&x);
				_exit(0);
			}
		}
		for (int i = 0; i < 4; i++) {
			ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
			ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
		cache_file(&x, path, sizeof(path));
		ck_assert(cache_get(&x));
		ck_assert_int_eq(unlink(path), 0);
	}
	cache_fini(&x);
}
END_TEST

START_TEST(cache_dir_unusable)
{
	struct cache_fx x;
	const uint8_t *elf;
	uint64_t elen;
	bool hit;
	char err[256] = "", file[128];
	int fd;

	cache_init(&x, KUNPACK_ZSTD);
	snprintf(file, sizeof(file), "%s/file", x.root);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(x.dir, sizeof(x.dir), "%s/file/kernels", x.root);
	ck_assert_int_lt(kcache_open(x.dir, x.bz, x.len, &elf, &elen, &hit, err,
				     sizeof(err)), 0);
	ck_assert_msg(strstr(err, "cannot create"), "%s", err);
	cache_fini(&x);
}
END_TEST

/* ---- linux_load() with the cache ---- */

#define RAM_SIZE  (64 * MIB)

static int load(struct cache_fx *x, const char *dir, void *ram, uint64_t *rip,
		char *note, size_t notelen, char *err, size_t errlen)
{
	struct gmem mem;
	struct linux_entry e;
	char kpath[128];
	struct linux_boot_cfg b = {
		.kernel_path = kpath, .cmdline = "console=ttyS0",
		.kernel_cache_dir = dir, .note = note, .notelen = notelen,
	};
	FILE *fp;
	int r;

	snprintf(kpath, sizeof(kpath), "%s/bzImage", x->root);
	fp = fopen(kpath, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(x->bz, 1, x->len, fp), x->len);
	fclose(fp);
	memset(&mem, 0, sizeof(mem));
	memset(ram, 0, RAM_SIZE);
	ck_assert_int_eq(gmem_add(&mem, 0, RAM_SIZE, ram), 0);
	note[0] = '\0';
	r = linux_load(&mem, &b, &e, err, errlen);
	*rip = e.rip;
	return r;
}

START_TEST(load_unpacked_and_fallback)
{
	struct cache_fx x;
	void *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *g = ram;
	uint64_t rip = 0;
	char note[320], err[256] = "";
	uint32_t v;

	ck_assert_ptr_ne(ram, MAP_FAILED);
	cache_init(&x, KUNPACK_LZ4);
	ck_assert_msg(load(&x, x.dir, ram, &rip, note, sizeof(note), err,
			   sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(rip, ELF_PADDR);
	ck_assert_msg(strstr(note, "unpacked into"), "%s", note);
	ck_assert(memcmp(g + ELF_PADDR, x.elf + ELF_SEG_OFF, x.elflen - ELF_SEG_OFF) == 0);
	/* The zero page carries the bzImage's header, not the ELF loader's. */
	memcpy(&v, g + LAYOUT_ZERO_PAGE + 0x238, 4);
	ck_assert_uint_eq(v, CMDLINE_SIZE);
	memcpy(&v, g + LAYOUT_ZERO_PAGE + 0x22c, 4);
	ck_assert_uint_eq(v, 0x7fffffff);
	ck_assert_int_eq(load(&x, x.dir, ram, &rip, note, sizeof(note), err,
			      sizeof(err)), 0);
	ck_assert_uint_eq(rip, ELF_PADDR);
	ck_assert_msg(strstr(note, "hit in"), "%s", note);
	/* No cache directory: the bzImage path, entry at 1 MiB + 0x200. */
	ck_assert_int_eq(load(&x, NULL, ram, &rip, note, sizeof(note), err,
			      sizeof(err)), 0);
	ck_assert_uint_eq(rip, LAYOUT_HIMEM + 0x200);
	ck_assert_str_eq(note, "");
	/* A broken payload falls back to the bzImage path, with a note. */
	x.bz[PM_START + PAYLOAD_OFF + 8] ^= 0xff;
	ck_assert_msg(load(&x, x.dir, ram, &rip, note, sizeof(note), err,
			   sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(rip, LAYOUT_HIMEM + 0x200);
	ck_assert_msg(strstr(note, "not used"), "%s", note);
	ck_assert_str_eq(err, "");
	cache_fini(&x);
	munmap(ram, RAM_SIZE);
}
END_TEST

static Suite *kcache_suite(void)
{
	Suite *s = suite_create("kernel_cache");
	TCase *t = tcase_create("unpack");

	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, unpack_each_format, 0, 4);
	tcase_add_loop_test(t, unpack_truncated_payload, 0, 4);
	tcase_add_test(t, unpack_lz4_two_blocks);
	tcase_add_test(t, unpack_garbage);
	suite_add_tcase(s, t);
	t = tcase_create("cache");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, cache_miss_then_hit);
	tcase_add_test(t, cache_corrupt_rebuilt);
	tcase_add_test(t, cache_concurrent_fill);
	tcase_add_test(t, cache_dir_unusable);
	tcase_add_test(t, load_unpacked_and_fallback);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kcache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
