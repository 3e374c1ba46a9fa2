/*
 * The image-file block backend: one image file (or block device), read and
 * written through io_uring, completions signalled on an eventfd
 * (io_uring_register_eventfd) that the backend watches on the VM's event
 * loop itself.
 *
 * Reads and writes use O_DIRECT when the file system and the request's
 * alignment allow (unless BLK_FILE_BUFFERED), buffered I/O otherwise. A
 * short read or write is resubmitted for the remainder, never reported as
 * success. A flush starts only once every write submitted before it has
 * completed, and completes when the data is durable (fdatasync).
 */
#ifndef MOTE_VIRTIO_BLK_FILE_H
#define MOTE_VIRTIO_BLK_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/backend/blk_backend.h"

#define BLK_FILE_RO        0x1   /* read-only, shared lock; else exclusive */
#define BLK_FILE_BUFFERED  0x2   /* never O_DIRECT (share the page cache) */

/*
 * Open the image at path with room for depth requests in flight (tags
 * below depth) and fill *out. On failure returns -errno with one line in
 * err ("image X is locked by another process (pid N)", "image X: size N
 * is not a multiple of 512 bytes", ...).
 */
int blk_file_open(struct blk_backend *out, const char *path, unsigned flags, unsigned depth,
		  char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The same over an already open, unlocked descriptor of size bytes (a
 * private store, for one), which the backend then owns: closed on failure
 * too. name stands for the file in messages.
 */
int blk_file_adopt(struct blk_backend *out, int fd, uint64_t size, unsigned flags,
		   unsigned depth, const char *name, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Requests submitted and not yet delivered; for tests. */
unsigned blk_file_inflight(const struct blk_backend *b);

#endif
