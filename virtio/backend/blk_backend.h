/*
 * The block backend contract: what virtio-blk asks of storage. The device
 * (virtio/blk.c) parses rings and requests; a backend (an image file on
 * io_uring, a copy-on-write store over another backend, a fake in tests)
 * only reads, writes and flushes byte ranges. The device manager opens a
 * backend and lends it to the device; it also closes it.
 *
 * The device hands a backend struct blk_io_req objects and learns their
 * outcome through each request's done callback, which the backend calls
 * from reap() or drain() only, never from submit(). A backend that has
 * completions to deliver says so through the ready callback it was given
 * at attach (on the event-loop thread); the device then takes its lock and
 * calls reap().
 *
 * Not thread-safe: the device serialises every call (its transport's lock).
 */
#ifndef MOTE_VIRTIO_BLK_BACKEND_H
#define MOTE_VIRTIO_BLK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct evloop;

/* Most iovecs one request may carry; the device's seg_max is below it. */
#define BLK_IO_MAX_IOV 256

enum blk_io_op { BLK_IO_READ, BLK_IO_WRITE, BLK_IO_FLUSH };

struct blk_io_req;
/* err: 0, or -errno. The backend no longer touches r afterwards. */
typedef void (*blk_io_done_fn)(struct blk_io_req *r, int err);

/* One request: owned by the device, lent to the backend until done. */
struct blk_io_req {
	enum blk_io_op op;
	uint64_t offset;           /* bytes; ignored for flushes */
	struct iovec *iov;         /* the backend may advance it until done */
	unsigned iovcnt;           /* at most BLK_IO_MAX_IOV */
	bool dsync;                /* write-through: durable at completion */
	unsigned tag;              /* below the backend's depth, unique in flight:
				    * indexes the backend's own per-request state */
	blk_io_done_fn done;
};

struct blk_backend_ops {
	/* Queue r. 0, or -errno (r is then not queued; done is not called).
	 * A flush completes only when every write whose done was called
	 * before it was submitted, and every write queued before it, is
	 * durable. */
	int (*submit)(void *be, struct blk_io_req *r);
	/* Start everything queued since the last kick. */
	void (*kick)(void *be);
	/* Deliver finished requests through their done callbacks. */
	void (*reap)(void *be);
	/* Block until nothing is in flight, delivering everything. */
	void (*drain)(void *be);
	/* Watch the backend's completion fds on loop; ready(opaque) runs on
	 * the loop's thread when reap() has work. May be NULL (a backend that
	 * completes synchronously in kick()). */
	int (*attach)(void *be, struct evloop *loop, void (*ready)(void *opaque), void *opaque);
	void (*detach)(void *be, struct evloop *loop);
	/* Drain, then release everything. */
	void (*close)(void *be);
};

/* An opened backend, as the device manager lends it to the device. */
struct blk_backend {
	const struct blk_backend_ops *ops;
	void *be;
	uint64_t size;             /* bytes, a multiple of 512 */
	bool read_only;            /* writes fail with -EROFS */
};

#endif
