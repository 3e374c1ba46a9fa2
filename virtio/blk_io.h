/*
 * Block backends for virtio-blk: what the device asks of storage, and the
 * disk-image backend on io_uring.
 *
 * The device hands a backend struct blk_io_req objects (read, write,
 * flush) and later learns their outcome through the request's done
 * callback, called from the backend's reap() or drain(). A test can plug a
 * fake backend in through struct blk_backend_ops.
 *
 * The image backend: one image file (or block device), opened read-only or
 * locked for writing; reads and writes go through io_uring (O_DIRECT when
 * the file system and the request's alignment allow, buffered otherwise);
 * completions are signalled on an eventfd (io_uring_register_eventfd). A
 * short read or write is resubmitted for the remainder, never reported as
 * success. A flush is started only once every write submitted before it
 * has completed, and completes when the data is durable (fdatasync).
 *
 * An ephemeral image (blk_io_open_ephemeral) is opened read-only with a
 * shared lock, so many VMs can use it at once, and is never written: the
 * guest's writes go to a private copy-on-write store (virtio/blk_cow.h),
 * reads are served run by run from the store or the image, flushes
 * fdatasync the store. The device sees a writable disk. Everything is
 * buffered: VMs sharing an image then share its page cache too.
 *
 * Not thread-safe: the device serialises calls (the transport's lock).
 */
#ifndef MOTE_VIRTIO_BLK_IO_H
#define MOTE_VIRTIO_BLK_IO_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/blk_cow.h"

enum blk_io_op { BLK_IO_READ, BLK_IO_WRITE, BLK_IO_FLUSH };

struct blk_io_req;
/* err: 0, or -errno. The backend no longer touches r afterwards. */
typedef void (*blk_io_done_fn)(struct blk_io_req *r, int err);

/* One request; owned by the device, lent to the backend until done. */
struct blk_io_req {
	enum blk_io_op op;
	uint64_t offset;           /* bytes; ignored for flushes */
	struct iovec *iov;         /* the backend advances it on short I/O */
	unsigned iovcnt;
	bool dsync;                /* write-through: durable at completion */
	blk_io_done_fn done;
	/* The backend's bookkeeping. */
	uint64_t epoch;            /* writes: flushes after this one wait */
	unsigned wait;             /* flushes: earlier writes still in flight */
	unsigned retries;
	bool direct;               /* went to the O_DIRECT descriptor */
	uint64_t span_off, span_len;  /* ephemeral: the whole request's range */
	unsigned full_iovcnt;      /* ephemeral reads: iov cut to one run, or 0 */
	size_t cut;                /* ... and iov[iovcnt - 1] shortened by this */
	struct blk_io_req *next;
};

struct blk_backend_ops {
	/* Queue r. 0, or -errno (r is then not queued; done is not called). */
	int (*submit)(void *be, struct blk_io_req *r);
	/* Start everything queued since the last kick. */
	void (*kick)(void *be);
	/* Deliver finished requests through their done callbacks. */
	void (*reap)(void *be);
	/* Block until nothing is in flight, delivering everything. */
	void (*drain)(void *be);
	/* Readable when reap() has work; -1 if the backend has none. */
	int (*event_fd)(void *be);
};

struct blk_io {
	int fd;                    /* buffered; holds the image lock */
	int dfd;                   /* O_DIRECT, or -1 */
	int efd;                   /* completion eventfd */
	bool read_only;
	bool ring_ok;
	bool direct_refused;        /* O_DIRECT failed with EINVAL once */
	uint64_t size;             /* bytes, a multiple of 512 */
	uint32_t mem_align, off_align;   /* O_DIRECT constraints */
	struct io_uring ring;
	unsigned inflight;         /* submitted and not yet done (parked too) */
	unsigned writes_inflight;
	uint64_t epoch;
	struct blk_io_req *parked, **parked_tail;  /* flushes waiting on writes */
	bool ephemeral;            /* fd is the read-only base; writes go to cow */
	struct blk_cow cow;
};

/* The image backend's operations; be is a struct blk_io. */
extern const struct blk_backend_ops blk_io_ops;

/*
 * Open the image at path, read-only (shared lock) or read-write
 * (exclusive lock), with room for depth requests in flight. On failure
 * returns -errno with a one-line reason in err ("image X is locked by
 * another process (pid N)", "... size N is not a multiple of 512", ...).
 */
int blk_io_open(struct blk_io *io, const char *path, bool read_only, unsigned depth,
		char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Open the image at path as an ephemeral drive (shared lock, never
 * written) with its copy-on-write store in directory dir (normally
 * blk_cow_default_dir()). Errors as blk_io_open, plus "ephemeral store in
 * DIR: ..." when the store cannot be made.
 */
int blk_io_open_ephemeral(struct blk_io *io, const char *path, const char *dir,
			  unsigned depth, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Drain, then close everything (an ephemeral store, with its data, too).
 * Safe after a failed open. */
void blk_io_close(struct blk_io *io);

#endif
