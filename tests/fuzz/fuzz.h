/*
 * Shared by the libFuzzer targets in tests/fuzz/: reading an input as a
 * stream of little-endian fields (missing bytes read as 0, so every input
 * is valid), guest RAM with poisoned margins, a private temporary
 * directory, and the check that turns a broken invariant into a crash
 * libFuzzer reports and keeps.
 *
 * Each target includes this file once (it defines static functions).
 */
#ifndef MOTE_TESTS_FUZZ_H
#define MOTE_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

/* An invariant the code under test must keep, whatever the input. */
#define FZ_CHECK(cond)                                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- The input as a stream of fields ---- */

struct fin {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fin_u8(struct fin *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fin_u16(struct fin *f)
{
	return (uint16_t)(fin_u8(f) | fin_u8(f) << 8);
}

static inline uint32_t fin_u32(struct fin *f)
{
	uint32_t lo = fin_u16(f);
	return lo | (uint32_t)fin_u16(f) << 16;
}

static inline uint64_t fin_u64(struct fin *f)
{
	uint64_t lo = fin_u32(f);
	return lo | (uint64_t)fin_u32(f) << 32;
}

/* Take up to len bytes; returns how many were taken. */
static inline size_t fin_bytes(struct fin *f, void *dst, size_t len)
{
	size_t n = len < f->n ? len : f->n;

	memcpy(dst, f->p, n);
	f->p += n;
	f->n -= n;
	return n;
}

/* ---- Guest RAM: a buffer whose surroundings ASan watches ---- */

/* size bytes, page aligned, zeroed, with a poisoned page on either side
 * (ASan's own redzones are only a few bytes). */
static inline uint8_t *fz_ram_alloc(size_t size)
{
	size_t body = (size + 4095) & ~(size_t)4095;
	uint8_t *a = aligned_alloc(4096, body + 2 * 4096);

	if (!a)
		abort();
	memset(a, 0, body + 2 * 4096);
	ASAN_POISON_MEMORY_REGION(a, 4096);
	ASAN_POISON_MEMORY_REGION(a + 4096 + size, body - size + 4096);
	return a + 4096;
}

static inline void fz_ram_free(uint8_t *ram, size_t size)
{
	size_t body = (size + 4095) & ~(size_t)4095;

	ASAN_UNPOISON_MEMORY_REGION(ram - 4096, body + 2 * 4096);
	free(ram - 4096);
}

/* Is [p, p+len) inside [base, base+size)? */
static inline bool fz_inside(const void *p, uint64_t len, const uint8_t *base, uint64_t size)
{
	const uint8_t *b = p;

	return b >= base && b <= base + size && len <= (uint64_t)(base + size - b);
}

/* ---- A private working directory ---- */

static char fz_dir[256];

/* Remove the directory and what the target made in it (files, a FIFO,
 * empty directories: nothing deeper). */
static void fz_dir_remove(void)
{
	DIR *d;
	struct dirent *e;

	if (!fz_dir[0] || chdir("/") < 0 || !(d = opendir(fz_dir)))
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
	rmdir(fz_dir);
}

/* Make a fresh directory under $TMPDIR (or /tmp), enter it, and remove it
 * at exit. Every path a target hands the code under test is relative and
 * has no '/' (fz_confine), so nothing outside it is reached. */
static inline void fz_enter_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(fz_dir, sizeof(fz_dir), "%s/mote-fuzz-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(fz_dir) || chdir(fz_dir) < 0) {
		perror("fuzz: temporary directory");
		abort();
	}
	atexit(fz_dir_remove);
}

/* Write a file of len bytes of fill in the working directory. */
static inline void fz_file(const char *name, size_t len, char fill, mode_t mode)
{
	FILE *f = fopen(name, "w");

	if (!f)
		abort();
	for (size_t i = 0; i < len; i++)
		fputc(fill, f);
	fclose(f);
	chmod(name, mode);
}

/* Keep a path inside the working directory: every '/' becomes '_', so
 * the path is one name in it ("." and ".." reach only directories, which
 * the validator refuses). */
static inline void fz_confine(char *path)
{
	for (char *s = path; s && *s; s++)
		if (*s == '/')
			*s = '_';
}

#endif
