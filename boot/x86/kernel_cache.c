/*
 * kcache_open(): the unpacked-kernel cache. One file per bzImage, named by
 * the image's XXH3-128: the ELF, then a trailer with a magic, the ELF's
 * length and its XXH3-128. A reader trusts nothing it has not just
 * checked, so a file cut short or changed by anything is rebuilt. Writers
 * never share a file: each one writes its own temporary file in the
 * directory and renames it into place, and keeps using the file it wrote
 * (its inode, whatever name it has by then), so two runs filling the
 * cache at once both get a whole kernel. The caller gets the ELF mapped:
 * on a hit, the pages the check read are the ones the loader copies, so
 * the file is read once.
 */
#include "boot/x86/kernel_unpack.h"
#include "boot/x86/linux_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define TRAILER_MAGIC  "MOTEKC01"

struct trailer {
	char magic[8];
	uint64_t len;        /* of the ELF before the trailer */
	uint64_t hash_lo;    /* XXH3-128 of the ELF */
	uint64_t hash_hi;
};

/* mkdir -p, for the few components under the cache root that may be missing. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* 0 when fd holds a whole entry (ELF + matching trailer); *elf mapped. */
static int check_entry(int fd, const uint8_t **elf, uint64_t *elf_len)
{
	struct trailer t;
	struct stat st;
	XXH128_hash_t h;
	void *map;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size <= sizeof(t) ||
	    (uint64_t)st.st_size - sizeof(t) > KUNPACK_MAX_OUT)
		return -EINVAL;
	if (pread(fd, &t, sizeof(t), st.st_size - sizeof(t)) != sizeof(t))
		return -EIO;
	if (memcmp(t.magic, TRAILER_MAGIC, 8) ||
	    t.len != (uint64_t)st.st_size - sizeof(t))
		return -EINVAL;
	map = mmap(NULL, t.len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	h = XXH3_128bits(map, t.len);
	if (h.low64 != t.hash_lo || h.high64 != t.hash_hi) {
		munmap(map, t.len);
		return -EINVAL;
	}
	*elf = map;
	*elf_len = t.len;
	return 0;
}

/* Write the entry for the ELF to a new file in dir; rename it to name. */
static int write_entry(const char *dir, const char *name, const uint8_t *elf,
		       size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	XXH128_hash_t h = XXH3_128bits(elf, len);
	struct trailer t = { .len = len, .hash_lo = h.low64, .hash_hi = h.high64 };
	int fd, ret;

	memcpy(t.magic, TRAILER_MAGIC, 8);
	if (snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir) >= (int)sizeof(tmp))
		return linux_errf(err, errlen, -ENAMETOOLONG, "cache path too long");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return linux_errf(err, errlen, -errno, "cannot create a file in %s: %s",
			    dir, strerror(errno));
	ret = write_full(fd, elf, len);
	if (!ret)
		ret = write_full(fd, &t, sizeof(t));
	if (!ret && rename(tmp, name) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		close(fd);
		return linux_errf(err, errlen, ret, "cannot write %s: %s", name,
			    strerror(-ret));
	}
	return fd;
}

/* Unpack the image and store it as name; map what was written. */
static int fill(const char *dir, const char *name, const uint8_t *img,
		size_t len, const uint8_t **map, uint64_t *elf_len,
		char *err, size_t errlen)
{
	enum kunpack_format fmt;
	uint8_t *elf;
	void *m;
	size_t n;
	int fd = kunpack_bzimage(img, len, &elf, &n, &fmt, err, errlen);

	if (fd < 0)
		return fd;
	fd = write_entry(dir, name, elf, n, err, errlen);
	free(elf);
	if (fd < 0)
		return fd;
	m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return linux_errf(err, errlen, -errno, "cannot map %s: %s", name,
			    strerror(errno));
	*map = m;
	*elf_len = n;
	return 0;
}

int kcache_open(const char *dir, const uint8_t *img, size_t len,
		const uint8_t **elf, uint64_t *elf_len, bool *hit,
		char *err, size_t errlen)
{
	XXH128_hash_t key = XXH3_128bits(img, len);
	char name[PATH_MAX];
	int fd, ret;

	if (snprintf(name, sizeof(name), "%s/vmlinux-%016llx%016llx", dir,
		     (unsigned long long)key.high64,
		     (unsigned long long)key.low64) >= (int)sizeof(name))
		return linux_errf(err, errlen, -ENAMETOOLONG, "cache path too long");
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ret = check_entry(fd, elf, elf_len);
		close(fd);  /* the mapping stays */
		if (!ret) {
			*hit = true;
			return 0;
		}
		/* corrupt or cut short: made again below */
	}
	*hit = false;
	ret = make_dirs(dir);
	if (ret)
		return linux_errf(err, errlen, ret, "cannot create %s: %s", dir,
			    strerror(-ret));
	return fill(dir, name, img, len, elf, elf_len, err, errlen);
}
