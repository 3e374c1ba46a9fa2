#include "virtio/backend/cow_overlay.h"
#include "vmm/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR COW_SECTOR

const char *cow_default_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d && d[0] ? d : "/var/tmp";
}

/* For file systems without O_TMPFILE (9p, older NFS): the name exists
 * only between mkostemp and unlink, a few microseconds. */
static int named_then_unlinked(struct cow_overlay *c, const char *dir)
{
	char *path;
	int e = 0;

	if (asprintf(&path, "%s/mote-ephemeral-XXXXXX", dir) < 0)
		return -ENOMEM;
	c->fd = mkostemp(path, O_CLOEXEC);
	if (c->fd < 0) {
		e = -errno;
	} else if (unlink(path) < 0) {
		e = -errno;
		close(c->fd);
		c->fd = -1;
	}
	free(path);
	return e;
}

static int make_overlay(struct cow_overlay *c, const char *dir, bool *named)
{
	/* O_EXCL: nobody can give the file a name later (linkat) either. */
	c->fd = open(dir, O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (c->fd >= 0)
		return 0;
	/* EOPNOTSUPP: the file system lacks it; EISDIR: the kernel does. */
	if (errno != EOPNOTSUPP && errno != EISDIR)
		return -errno;
	*named = true;
	return named_then_unlinked(c, dir);
}

int cow_overlay_open(struct cow_overlay *c, const char *dir, uint64_t size, char *err, size_t errlen)
{
	bool named = false;
	int e = 0;

	c->fd = -1;
	c->size = size;
	c->map = NULL;
	if (size % SECTOR)
		e = -EINVAL;
	/* A big map comes from fresh anonymous pages: the parts no write
	 * ever touches cost address space, not memory. */
	else if (!(c->map = calloc(size / SECTOR / 64 + 1, sizeof(*c->map))))
		e = -ENOMEM;
	else
		e = make_overlay(c, dir, &named);
	/* Sparse: blocks are allocated only as the guest writes. */
	if (!e && ftruncate(c->fd, (off_t)size) < 0)
		e = -errno;
	if (e) {
		/* Some network file systems (9p, for one) reach a file by
		 * its name, which is gone. */
		snprintf(err, errlen, "ephemeral store in %s: %s%s", log_str(dir).s, strerror(-e),
			 named && e == -ENOENT ? " (this file system loses unlinked files;"
			 " set TMPDIR to a directory elsewhere)" : "");
		cow_overlay_close(c);
	}
	return e;
}

static void set_bit(uint64_t *map, uint64_t s)
{
	map[s / 64] |= 1ULL << (s % 64);
}

void cow_overlay_mark(struct cow_overlay *c, uint64_t off, uint64_t len)
{
	if (off >= c->size)
		return;
	/* Only sectors wholly inside the range: a partly written sector
	 * must not hide the base's other bytes. */
	uint64_t s = (off + SECTOR - 1) / SECTOR;
	uint64_t end = (len > c->size - off ? c->size : off + len) / SECTOR;

	for (; s < end && s % 64; s++)
		set_bit(c->map, s);
	for (; s + 64 <= end; s += 64)
		c->map[s / 64] = ~0ULL;
	for (; s < end; s++)
		set_bit(c->map, s);
}

/* The first sector in [s, end) whose bit is not in; end if none. */
static uint64_t first_other(const uint64_t *map, uint64_t s, uint64_t end, bool in)
{
	while (s < end) {
		/* Set bits mark the sectors that differ, from s on. */
		uint64_t w = (map[s / 64] ^ (in ? ~0ULL : 0)) & (~0ULL << (s % 64));
		if (w) {
			uint64_t found = s / 64 * 64 + (uint64_t)__builtin_ctzll(w);
			return found < end ? found : end;
		}
		s = (s / 64 + 1) * 64;
	}
	return end;
}

uint64_t cow_overlay_run(const struct cow_overlay *c, uint64_t off, uint64_t len, bool *overlay)
{
	*overlay = false;
	if (off >= c->size || !len)
		return 0;
	if (len > c->size - off)
		len = c->size - off;
	uint64_t s = off / SECTOR, end = (off + len - 1) / SECTOR + 1;
	*overlay = c->map[s / 64] >> (s % 64) & 1;
	uint64_t stop = first_other(c->map, s, end, *overlay) * SECTOR;
	return (stop < off + len ? stop : off + len) - off;
}

void cow_overlay_close(struct cow_overlay *c)
{
	if (c->fd >= 0)
		close(c->fd);        /* the last reference: the blocks are freed */
	free(c->map);
	c->fd = -1;
	c->map = NULL;
}
