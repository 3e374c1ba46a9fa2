#include "virtio/blk_io.h"

#include "vmm/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define SECTOR       512
#define MAX_RETRIES  8      /* -EAGAIN/-EINTR resubmissions per request */

/* ---- Opening ---- */

/* Who holds a lock on fd's file, from /proc/locks; 0 if unknown. */
static long lock_holder(int fd)
{
	struct stat st;
	char line[256];
	long pid = 0;

	if (fstat(fd, &st) < 0)
		return 0;
	FILE *f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;
		long p;
		/* "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF"; waiters
		 * ("1: -> FLOCK ...") hold nothing and do not parse. */
		if (sscanf(line, "%*d: %*[A-Z] %*s %*s %ld %x:%x:%llu", &p, &maj, &min, &ino) == 4 &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) && ino == st.st_ino && p > 0)
			pid = p;
	}
	fclose(f);
	return pid;
}

static int lock_image(struct blk_io *io, const char *path, bool writable,
		      char *err, size_t errlen)
{
	/* flock locks belong to the open file description, so a second
	 * open, even in this process, conflicts: one writer, or readers
	 * (ephemeral drives among them). */
	if (flock(io->fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
		return 0;
	int e = errno;
	if (e != EWOULDBLOCK) {
		snprintf(err, errlen, "image %s: cannot lock: %s", path, strerror(e));
		return -e;
	}
	long pid = lock_holder(io->fd);
	if (pid)
		snprintf(err, errlen, "image %s is locked by another process (pid %ld)", path, pid);
	else
		snprintf(err, errlen, "image %s is locked by another process", path);
	return -EBUSY;
}

static int check_image(struct blk_io *io, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(io->fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "image %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "image %s: not a regular file or block device", path);
		return -EINVAL;
	}
	/* lseek, not st_size: it also sizes block devices. */
	off_t size = lseek(io->fd, 0, SEEK_END);
	if (size < 0) {
		int e = errno;
		snprintf(err, errlen, "image %s: cannot size: %s", path, strerror(e));
		return -e;
	}
	if (size % SECTOR) {
		snprintf(err, errlen, "image %s: size %lld is not a multiple of %d bytes",
			 path, (long long)size, SECTOR);
		return -EINVAL;
	}
	io->size = size;
	return 0;
}

/* Does a direct read of the first block work? Catches file systems that
 * accept O_DIRECT at open but refuse it on I/O. */
static bool direct_probe(const struct blk_io *io)
{
	uint32_t n = io->off_align > io->mem_align ? io->off_align : io->mem_align;
	void *buf;

	if (io->size < n)
		return true;       /* nothing to read; the EINVAL fallback covers it */
	if (posix_memalign(&buf, n, n))
		return false;
	bool ok = pread(io->dfd, buf, n, 0) == (ssize_t)n;
	free(buf);
	return ok;
}

/* O_DIRECT is optional: tmpfs refuses it, and then everything is buffered. */
static void setup_direct(struct blk_io *io, const char *path, int flags)
{
	io->dfd = open(path, flags | O_DIRECT);
	if (io->dfd < 0)
		return;
	io->mem_align = io->off_align = 4096;   /* safe when the kernel won't say */
#ifdef STATX_DIOALIGN
	struct statx sx;
	if (statx(io->dfd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN)) {
		io->mem_align = sx.stx_dio_mem_align;
		io->off_align = sx.stx_dio_offset_align;
	}
#endif
	if (!io->mem_align || !io->off_align || !direct_probe(io)) {
		close(io->dfd);
		io->dfd = -1;
	}
}

static int setup_ring(struct blk_io *io, unsigned depth, char *err, size_t errlen)
{
	/* Each request has at most one SQE in flight, so depth entries (and
	 * the default 2x completion ring) can never overflow. */
	int e = io_uring_queue_init(depth, &io->ring, 0);
	if (e < 0) {
		snprintf(err, errlen, "io_uring: %s", strerror(-e));
		return e;
	}
	io->ring_ok = true;
	io->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->efd < 0) {
		e = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-e));
		return e;
	}
	e = io_uring_register_eventfd(&io->ring, io->efd);
	if (e < 0)
		snprintf(err, errlen, "io_uring eventfd: %s", strerror(-e));
	return e;
}

static void init_io(struct blk_io *io)
{
	memset(io, 0, sizeof(*io));
	io->fd = io->dfd = io->efd = io->cow.fd = -1;
	io->parked_tail = &io->parked;
}

/* Open, size and lock the image, and set up the ring; closes io on
 * failure. */
static int open_image(struct blk_io *io, const char *path, int flags, unsigned depth,
		      char *err, size_t errlen)
{
	int e;

	io->fd = open(path, flags);
	if (io->fd < 0) {
		e = -errno;
		snprintf(err, errlen, "image %s: %s", path, strerror(-e));
		return e;
	}
	e = check_image(io, path, err, errlen);
	if (!e)
		e = lock_image(io, path, (flags & O_ACCMODE) == O_RDWR, err, errlen);
	if (!e)
		e = setup_ring(io, depth, err, errlen);
	if (e)
		blk_io_close(io);
	return e;
}

int blk_io_open(struct blk_io *io, const char *path, bool read_only, unsigned depth,
		char *err, size_t errlen)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	init_io(io);
	io->read_only = read_only;
	int e = open_image(io, path, flags, depth, err, errlen);
	if (!e)
		setup_direct(io, path, flags);
	return e;
}

int blk_io_open_ephemeral(struct blk_io *io, const char *path, const char *dir,
			  unsigned depth, char *err, size_t errlen)
{
	init_io(io);
	io->ephemeral = true;
	int e = open_image(io, path, O_RDONLY | O_CLOEXEC, depth, err, errlen);
	if (e)
		return e;
	e = blk_cow_open(&io->cow, dir, io->size, err, errlen);
	if (e)
		blk_io_close(io);
	return e;
}

/* ---- Submission ---- */

static bool use_direct(const struct blk_io *io, const struct blk_io_req *r)
{
	if (io->dfd < 0 || io->direct_refused || r->offset % io->off_align)
		return false;
	for (unsigned i = 0; i < r->iovcnt; i++)
		if ((uintptr_t)r->iov[i].iov_base % io->mem_align ||
		    r->iov[i].iov_len % io->off_align)
			return false;
	return true;
}

static uint64_t iov_total(const struct blk_io_req *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < r->iovcnt; i++)
		n += r->iov[i].iov_len;
	return n;
}

/* Limit r's iov to its first len bytes (0 < len < the total) until
 * uncut_iov(): the kernel then reads one run only. */
static void cut_iov(struct blk_io_req *r, uint64_t len)
{
	unsigned i = 0;

	while (len > r->iov[i].iov_len)
		len -= r->iov[i++].iov_len;
	r->full_iovcnt = r->iovcnt;
	r->cut = r->iov[i].iov_len - len;
	r->iov[i].iov_len = len;
	r->iovcnt = i + 1;
}

static void uncut_iov(struct blk_io_req *r)
{
	if (!r->full_iovcnt)
		return;
	r->iov[r->iovcnt - 1].iov_len += r->cut;
	r->iovcnt = r->full_iovcnt;
	r->full_iovcnt = 0;
}

/* An ephemeral drive's descriptor for r: reads take the next run from
 * the store or the base; writes and flushes go to the store. */
static int ephemeral_fd(struct blk_io *io, struct blk_io_req *r)
{
	uint64_t left = iov_total(r);
	bool in_store;

	if (r->op != BLK_IO_READ)
		return io->cow.fd;
	uint64_t run = blk_cow_run(&io->cow, r->offset, left, &in_store);
	if (run && run < left)
		cut_iov(r, run);
	return in_store ? io->cow.fd : io->fd;
}

static int pick_fd(struct blk_io *io, struct blk_io_req *r)
{
	if (io->ephemeral) {
		r->direct = false;
		return ephemeral_fd(io, r);
	}
	/* Flushes take fd: fdatasync covers the file whichever descriptor
	 * wrote. */
	r->direct = r->op != BLK_IO_FLUSH && use_direct(io, r);
	return r->direct ? io->dfd : io->fd;
}

static struct io_uring_sqe *get_sqe(struct blk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

	if (!sqe) {
		/* Full: push what is queued to the kernel to make room. */
		io_uring_submit(&io->ring);
		sqe = io_uring_get_sqe(&io->ring);
	}
	return sqe;
}

static int queue_sqe(struct blk_io *io, struct blk_io_req *r)
{
	struct io_uring_sqe *sqe = get_sqe(io);

	if (!sqe)
		return -EBUSY;
	int fd = pick_fd(io, r);
	switch (r->op) {
	case BLK_IO_READ:
		io_uring_prep_readv(sqe, fd, r->iov, r->iovcnt, r->offset);
		break;
	case BLK_IO_WRITE:
		io_uring_prep_writev2(sqe, fd, r->iov, r->iovcnt, r->offset,
				      r->dsync ? RWF_DSYNC : 0);
		break;
	case BLK_IO_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
	return 0;
}

/* The store's map covers the disk's sectors and nothing else: reads
 * within the disk, writes of whole sectors. */
static int check_ephemeral(struct blk_io *io, struct blk_io_req *r)
{
	uint64_t len = iov_total(r);

	if (r->offset > io->size || len > io->size - r->offset)
		return -EINVAL;
	if (r->op == BLK_IO_WRITE && (r->offset % SECTOR || len % SECTOR))
		return -EINVAL;
	r->span_off = r->offset;
	r->span_len = len;
	return 0;
}

static int io_submit(void *be, struct blk_io_req *r)
{
	struct blk_io *io = be;

	r->retries = 0;
	r->next = NULL;
	r->full_iovcnt = 0;
	if (r->op == BLK_IO_WRITE && io->read_only)
		return -EROFS;
	if (io->ephemeral && r->op != BLK_IO_FLUSH) {
		int e = check_ephemeral(io, r);
		if (e)
			return e;
	}
	if (r->op == BLK_IO_FLUSH) {
		/* Writes submitted from now on are not this flush's concern. */
		r->epoch = io->epoch++;
		r->wait = io->writes_inflight;
		if (r->wait) {
			*io->parked_tail = r;
			io->parked_tail = &r->next;
			io->inflight++;
			return 0;
		}
	}
	int err = queue_sqe(io, r);
	if (err)
		return err;
	if (r->op == BLK_IO_WRITE) {
		r->epoch = io->epoch;
		io->writes_inflight++;
	}
	io->inflight++;
	return 0;
}

static void io_kick(void *be)
{
	struct blk_io *io = be;

	/* A failure leaves the SQEs queued; the next kick retries them. */
	io_uring_submit(&io->ring);
}

/* ---- Completion ---- */

static void finish(struct blk_io *io, struct blk_io_req *r, int err);

/* A write finished for good: flushes parked behind it may now start. */
static void write_retired(struct blk_io *io, uint64_t epoch)
{
	struct blk_io_req **pp = &io->parked;

	io->writes_inflight--;
	while (*pp) {
		struct blk_io_req *f = *pp;
		/* Flushes with an older epoch never counted this write. */
		if (f->epoch < epoch || --f->wait) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		if (!*pp)
			io->parked_tail = pp;
		f->next = NULL;
		int err = queue_sqe(io, f);
		if (err)
			finish(io, f, err);
	}
}

static void finish(struct blk_io *io, struct blk_io_req *r, int err)
{
	io->inflight--;
	/* Marked before done(): a read the guest sends after seeing this
	 * write complete must find the new data. */
	if (r->op == BLK_IO_WRITE && io->ephemeral && !err)
		blk_cow_mark(&io->cow, r->span_off, r->span_len);
	if (r->op == BLK_IO_WRITE)
		write_retired(io, r->epoch);
	r->done(r, err);
}

/* Consume n transferred bytes; returns the bytes still to go. */
static uint64_t advance(struct blk_io_req *r, uint64_t n)
{
	uint64_t left = 0;

	r->offset += n;
	while (r->iovcnt && n >= r->iov[0].iov_len) {
		n -= r->iov[0].iov_len;
		r->iov++;
		r->iovcnt--;
	}
	if (r->iovcnt) {
		r->iov[0].iov_base = (uint8_t *)r->iov[0].iov_base + n;
		r->iov[0].iov_len -= n;
	}
	for (unsigned i = 0; i < r->iovcnt; i++)
		left += r->iov[i].iov_len;
	return left;
}

/* Decide what a completion means: 0 done, 1 resubmitted, or -errno. */
static int settle(struct blk_io *io, struct blk_io_req *r, int res)
{
	if (res == -EINVAL && r->direct) {
		/* The file system refused O_DIRECT after all: go buffered. */
		io->direct_refused = true;
		return 1;
	}
	if ((res == -EAGAIN || res == -EINTR) && r->retries++ < MAX_RETRIES)
		return 1;
	if (res < 0)
		return res;
	if (r->op == BLK_IO_FLUSH || advance(r, res) == 0)
		return 0;
	/* Short transfer: go on from where it stopped. Zero bytes means
	 * end of file (the image shrank under us) or a stuck device. */
	return res > 0 ? 1 : -EIO;
}

static void complete(struct blk_io *io, struct blk_io_req *r, int res)
{
	uncut_iov(r);              /* res counts from the run's start all the same */
	int s = settle(io, r, res);

	if (s == 1) {
		s = queue_sqe(io, r);
		if (s == 0)
			return;           /* resubmitted; still in flight */
	}
	finish(io, r, s);
}

static void io_reap(void *be)
{
	struct blk_io *io = be;
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&io->ring, &cqe) == 0) {
		struct blk_io_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		/* Free the slot first: done() may queue new work. */
		io_uring_cqe_seen(&io->ring, cqe);
		complete(io, r, res);
	}
	/* Resubmissions and flushes released above. */
	io_kick(io);
}

static void io_drain(void *be)
{
	struct blk_io *io = be;

	while (io->inflight) {
		struct io_uring_cqe *cqe;
		io_kick(io);
		int err = io_uring_wait_cqe(&io->ring, &cqe);
		if (err == -EINTR)
			continue;
		if (err < 0) {
			log_err("blk: waiting for in-flight I/O: %s", strerror(-err));
			return;
		}
		io_reap(io);
	}
}

static int io_event_fd(void *be)
{
	return ((struct blk_io *)be)->efd;
}

const struct blk_backend_ops blk_io_ops = {
	.submit = io_submit,
	.kick = io_kick,
	.reap = io_reap,
	.drain = io_drain,
	.event_fd = io_event_fd,
};

void blk_io_close(struct blk_io *io)
{
	if (io->ring_ok) {
		io_drain(io);
		io_uring_queue_exit(&io->ring);
		io->ring_ok = false;
	}
	if (io->efd >= 0)
		close(io->efd);
	if (io->dfd >= 0)
		close(io->dfd);
	if (io->fd >= 0)
		close(io->fd);          /* drops the lock */
	blk_cow_close(&io->cow);
	io->fd = io->dfd = io->efd = -1;
}
