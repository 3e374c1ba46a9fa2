/*
 * The copy-on-write store behind an ephemeral drive: a private overlay
 * file the size of the base image, and a map of which 512-byte sectors
 * the overlay holds. The base image is never written; the copy-on-write
 * backend (virtio/backend/blk_cow.h) sends the guest's writes to the
 * overlay, marks them once they complete, and serves each read run by run
 * from the overlay or from the base.
 *
 * The overlay is a sparse file that never has a name: O_TMPFILE where the
 * file system supports it, otherwise mkstemp() and an immediate unlink().
 * Closing it, or the process dying in any way, frees its blocks. It lives
 * in the directory the caller names, normally cow_default_dir().
 *
 * Sector granularity needs no copy-up: virtio-blk writes whole sectors.
 */
#ifndef MOTE_VIRTIO_COW_OVERLAY_H
#define MOTE_VIRTIO_COW_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COW_SECTOR 512

struct cow_overlay {
	int fd;                    /* the overlay, read-write; -1 when closed */
	uint64_t size;             /* bytes, a multiple of COW_SECTOR */
	uint64_t *map;             /* one bit per sector: set = in the overlay */
};

/* Where overlays go by default: $TMPDIR if set and not empty, else
 * /var/tmp (usually on disk; /tmp is often RAM-backed). */
const char *cow_default_dir(void);

/*
 * Create an empty overlay of size bytes (a multiple of 512) in directory
 * dir. Returns 0, or -errno with a one-line reason in err ("ephemeral
 * store in DIR: ...").
 */
int cow_overlay_open(struct cow_overlay *c, const char *dir, uint64_t size, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Record that bytes [off, off+len) are now in the overlay; both are
 * multiples of 512. Anything beyond the end is ignored. */
void cow_overlay_mark(struct cow_overlay *c, uint64_t off, uint64_t len);

/*
 * How many bytes from off (at most len) come from one place: the
 * overlay (*overlay set) or the base. 0 only when len is 0 or off is at
 * or beyond the end.
 */
uint64_t cow_overlay_run(const struct cow_overlay *c, uint64_t off, uint64_t len, bool *overlay);

/* Close and free the overlay. Safe after a failed open or twice. */
void cow_overlay_close(struct cow_overlay *c);

#endif
