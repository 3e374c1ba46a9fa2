/*
 * The copy-on-write block backend behind an ephemeral drive. The image is
 * opened read-only with a shared lock, so many VMs can use it at once, and
 * is never written. The guest's writes go to a private overlay
 * (virtio/backend/cow_overlay.h); reads are served run by run from the
 * overlay or the image; flushes fdatasync the overlay. The device sees a
 * writable disk.
 *
 * It wraps two image-file backends (virtio/backend/blk_file.h), one over
 * the image and one over the overlay, both buffered: VMs sharing an image
 * then share its page cache too. Only this file knows there are two.
 */
#ifndef MOTE_VIRTIO_BLK_COW_H
#define MOTE_VIRTIO_BLK_COW_H

#include <stddef.h>

#include "virtio/backend/blk_backend.h"

/*
 * Open the image at path as an ephemeral drive, its overlay in directory
 * dir (normally cow_default_dir()), with room for depth requests in
 * flight. Errors as blk_file_open(), plus "ephemeral store in DIR: ..."
 * when the overlay cannot be made.
 */
int blk_cow_open(struct blk_backend *out, const char *path, const char *dir, unsigned depth,
		 char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Requests submitted and not yet delivered; for tests. */
unsigned blk_cow_inflight(const struct blk_backend *b);

#endif
