#include "virtio/backend/blk_file.h"

#include "vmm/base/efd.h"
#include "vmm/base/evloop.h"
#include "vmm/base/log.h"

#include <liburing.h>
#include <sys/epoll.h>

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
#define DRAIN_TICK_MS    100    /* one wait for a completion while draining */
#define DRAIN_CANCEL_MS  1000   /* then what is still in flight is cancelled */
#define DRAIN_LOG_MS     10000  /* how often a long drain says it still waits */

/* What the backend keeps per request, indexed by its tag. */
struct file_req {
	struct blk_io_req *r;
	uint64_t epoch;            /* writes: flushes after this one wait */
	unsigned wait;             /* flushes: earlier writes still in flight */
	unsigned retries;
	bool direct;               /* went to the O_DIRECT descriptor */
	struct file_req *next;     /* parked flushes */
};

struct blk_file {
	int fd;                    /* buffered; holds the image lock */
	int dfd;                   /* O_DIRECT, or -1 */
	int efd;                   /* completion eventfd */
	bool read_only;
	bool ring_ok;
	bool direct_refused;       /* O_DIRECT failed with EINVAL once */
	uint64_t size;             /* bytes, a multiple of 512 */
	uint32_t mem_align, off_align;   /* O_DIRECT constraints */
	struct io_uring ring;
	unsigned depth;
	struct file_req *reqs;     /* [depth] */
	unsigned inflight;         /* submitted and not yet done (parked too) */
	unsigned writes_inflight;
	uint64_t epoch;
	struct file_req *parked, **parked_tail;  /* flushes waiting on writes */
	struct evloop *loop;
	void (*ready)(void *opaque);
	void *ready_opaque;
	/* io_uring_wait_cqe_timeout; a seam for tests, which make it fail. */
	int (*wait_cqe)(struct io_uring *ring, struct io_uring_cqe **cqe,
			struct __kernel_timespec *ts);
};

static void file_close(void *be);

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

static int lock_image(struct blk_file *io, const char *path, bool writable,
		      char *err, size_t errlen)
{
	/* flock locks belong to the open file description, so a second
	 * open, even in this process, conflicts: one writer, or readers
	 * (ephemeral drives among them). */
	if (flock(io->fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
		return 0;
	int e = errno;
	if (e != EWOULDBLOCK) {
		snprintf(err, errlen, "image %s: cannot lock: %s", log_str(path).s, strerror(e));
		return -e;
	}
	long pid = lock_holder(io->fd);
	if (pid)
		snprintf(err, errlen, "image %s is locked by another process (pid %ld)", log_str(path).s, pid);
	else
		snprintf(err, errlen, "image %s is locked by another process", log_str(path).s);
	return -EBUSY;
}

static int check_image(struct blk_file *io, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(io->fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "image %s: %s", log_str(path).s, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "image %s: not a regular file or block device", log_str(path).s);
		return -EINVAL;
	}
	/* lseek, not st_size: it also sizes block devices. */
	off_t size = lseek(io->fd, 0, SEEK_END);
	if (size < 0) {
		int e = errno;
		snprintf(err, errlen, "image %s: cannot size: %s", log_str(path).s, strerror(e));
		return -e;
	}
	if (size % SECTOR) {
		snprintf(err, errlen, "image %s: size %lld is not a multiple of %d bytes",
			 log_str(path).s, (long long)size, SECTOR);
		return -EINVAL;
	}
	io->size = size;
	return 0;
}

/* Does a direct read of the first block work? Catches file systems that
 * accept O_DIRECT at open but refuse it on I/O. */
static bool direct_probe(const struct blk_file *io)
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
static void setup_direct(struct blk_file *io, const char *path, int flags)
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

/*
 * The ring starts disabled and is enabled only once it may do nothing but
 * what a disk needs: readv, writev, fsync and cancelling its own requests,
 * no SQE flags, no further registrations. A seccomp filter does not see what io_uring does on a
 * thread's behalf, so without this a thread allowed io_uring_enter could
 * open or connect through the ring.
 */
static int restrict_ring(struct io_uring *ring)
{
	struct io_uring_restriction res[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC },
		/* a drain cancels what hangs: only this ring's own requests */
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_ASYNC_CANCEL },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = 0 },
	};
	/* Debian's liburing 2.3 declares io_uring_register_restrictions and
	 * io_uring_enable_rings but does not export them: the raw call. */
	int e = io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_RESTRICTIONS, res,
				  sizeof(res) / sizeof(res[0]));

	if (e >= 0)
		e = io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_ENABLE_RINGS,
				      NULL, 0);
	return e < 0 ? e : 0;
}

static int setup_ring(struct blk_file *io, unsigned depth, char *err, size_t errlen)
{
	/* Each request has at most one SQE in flight, so depth entries (and
	 * the default 2x completion ring) can never overflow. */
	int e = io_uring_queue_init(depth, &io->ring, IORING_SETUP_R_DISABLED);
	if (e < 0) {
		snprintf(err, errlen, "io_uring: %s", strerror(-e));
		return e;
	}
	io->ring_ok = true;
	io->efd = efd_new();
	if (io->efd < 0) {
		e = io->efd;
		snprintf(err, errlen, "eventfd: %s", strerror(-e));
		return e;
	}
	e = io_uring_register_eventfd(&io->ring, io->efd);
	if (e < 0) {
		snprintf(err, errlen, "io_uring eventfd: %s", strerror(-e));
		return e;
	}
	e = restrict_ring(&io->ring);
	if (e < 0)
		snprintf(err, errlen, "io_uring restrictions: %s", strerror(-e));
	return e;
}

static struct blk_file *new_io(unsigned depth)
{
	struct blk_file *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	io->fd = io->dfd = io->efd = -1;
	io->parked_tail = &io->parked;
	io->depth = depth;
	io->wait_cqe = io_uring_wait_cqe_timeout;
	io->reqs = calloc(depth, sizeof(*io->reqs));
	if (!io->reqs) {
		free(io);
		return NULL;
	}
	return io;
}

static const struct blk_backend_ops blk_file_ops;

static void fill_backend(struct blk_backend *out, struct blk_file *io)
{
	*out = (struct blk_backend){ &blk_file_ops, io, io->size, io->read_only };
}

int blk_file_open(struct blk_backend *out, const char *path, unsigned flags, unsigned depth,
		  char *err, size_t errlen)
{
	bool ro = flags & BLK_FILE_RO;
	int oflags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct blk_file *io = new_io(depth);
	int e;

	if (!io) {
		snprintf(err, errlen, "image %s: %s", log_str(path).s, strerror(ENOMEM));
		return -ENOMEM;
	}
	io->read_only = ro;
	io->fd = open(path, oflags);
	if (io->fd < 0) {
		e = -errno;
		snprintf(err, errlen, "image %s: %s", log_str(path).s, strerror(-e));
	} else {
		e = check_image(io, path, err, errlen);
	}
	if (!e)
		e = lock_image(io, path, !ro, err, errlen);
	if (!e)
		e = setup_ring(io, depth, err, errlen);
	if (e) {
		file_close(io);
		return e;
	}
	if (!(flags & BLK_FILE_BUFFERED))
		setup_direct(io, path, oflags);
	fill_backend(out, io);
	return 0;
}

int blk_file_adopt(struct blk_backend *out, int fd, uint64_t size, unsigned flags,
		   unsigned depth, const char *name, char *err, size_t errlen)
{
	struct blk_file *io = new_io(depth);
	int e;

	if (!io) {
		close(fd);
		snprintf(err, errlen, "%s: %s", log_str(name).s, strerror(ENOMEM));
		return -ENOMEM;
	}
	io->fd = fd;
	io->size = size;
	io->read_only = flags & BLK_FILE_RO;
	e = setup_ring(io, depth, err, errlen);
	if (e) {
		file_close(io);
		return e;
	}
	fill_backend(out, io);
	return 0;
}

unsigned blk_file_inflight(const struct blk_backend *b)
{
	return ((const struct blk_file *)b->be)->inflight;
}

/* ---- Submission ---- */

static bool use_direct(const struct blk_file *io, const struct blk_io_req *r)
{
	if (io->dfd < 0 || io->direct_refused || r->offset % io->off_align)
		return false;
	for (unsigned i = 0; i < r->iovcnt; i++)
		if ((uintptr_t)r->iov[i].iov_base % io->mem_align ||
		    r->iov[i].iov_len % io->off_align)
			return false;
	return true;
}

static int pick_fd(struct blk_file *io, struct file_req *f)
{
	struct blk_io_req *r = f->r;

	/* Flushes take fd: fdatasync covers the file whichever descriptor
	 * wrote. */
	f->direct = r->op != BLK_IO_FLUSH && use_direct(io, r);
	return f->direct ? io->dfd : io->fd;
}

static struct io_uring_sqe *get_sqe(struct blk_file *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

	if (!sqe) {
		/* Full: push what is queued to the kernel to make room. */
		io_uring_submit(&io->ring);
		sqe = io_uring_get_sqe(&io->ring);
	}
	return sqe;
}

static int queue_sqe(struct blk_file *io, struct file_req *f)
{
	struct io_uring_sqe *sqe = get_sqe(io);
	struct blk_io_req *r = f->r;

	if (!sqe)
		return -EBUSY;
	int fd = pick_fd(io, f);
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
	io_uring_sqe_set_data(sqe, f);
	return 0;
}

static int file_submit(void *be, struct blk_io_req *r)
{
	struct blk_file *io = be;

	if (r->tag >= io->depth || r->iovcnt > BLK_IO_MAX_IOV)
		return -EINVAL;
	if (r->op == BLK_IO_WRITE && io->read_only)
		return -EROFS;
	struct file_req *f = &io->reqs[r->tag];
	*f = (struct file_req){ .r = r };
	if (r->op == BLK_IO_FLUSH) {
		/* Writes submitted from now on are not this flush's concern. */
		f->epoch = io->epoch++;
		f->wait = io->writes_inflight;
		if (f->wait) {
			*io->parked_tail = f;
			io->parked_tail = &f->next;
			io->inflight++;
			return 0;
		}
	}
	int err = queue_sqe(io, f);
	if (err)
		return err;
	if (r->op == BLK_IO_WRITE) {
		f->epoch = io->epoch;
		io->writes_inflight++;
	}
	io->inflight++;
	return 0;
}

static void file_kick(void *be)
{
	struct blk_file *io = be;

	/* A failure leaves the SQEs queued; the next kick retries them. */
	io_uring_submit(&io->ring);
}

/* ---- Completion ---- */

static void deliver(struct blk_file *io, struct file_req *f, int err);

/* A write finished for good: flushes parked behind it may now start. */
static void write_retired(struct blk_file *io, uint64_t epoch)
{
	struct file_req **pp = &io->parked;

	io->writes_inflight--;
	while (*pp) {
		struct file_req *f = *pp;
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
			deliver(io, f, err);
	}
}

static void deliver(struct blk_file *io, struct file_req *f, int err)
{
	struct blk_io_req *r = f->r;

	io->inflight--;
	if (r->op == BLK_IO_WRITE)
		write_retired(io, f->epoch);
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

/* Decide what a completion means: 0 done, 1 resubmit, or -errno. */
static int settle(struct blk_file *io, struct file_req *f, int res)
{
	if (res == -EINVAL && f->direct) {
		/* The file system refused O_DIRECT after all: go buffered. */
		io->direct_refused = true;
		return 1;
	}
	if ((res == -EAGAIN || res == -EINTR) && f->retries++ < MAX_RETRIES)
		return 1;
	if (res < 0)
		return res;
	if (f->r->op == BLK_IO_FLUSH || advance(f->r, res) == 0)
		return 0;
	/* Short transfer: go on from where it stopped. Zero bytes means
	 * end of file (the image shrank under us) or a stuck device. */
	return res > 0 ? 1 : -EIO;
}

static void complete(struct blk_file *io, struct file_req *f, int res)
{
	int s = settle(io, f, res);

	if (s == 1) {
		s = queue_sqe(io, f);
		if (s == 0)
			return;           /* resubmitted; still in flight */
	}
	deliver(io, f, s);
}

static void file_reap(void *be)
{
	struct blk_file *io = be;
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&io->ring, &cqe) == 0) {
		struct file_req *f = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		/* Free the slot first: done() may queue new work. */
		io_uring_cqe_seen(&io->ring, cqe);
		if (f)                    /* NULL: a drain's cancel request */
			complete(io, f, res);
	}
	/* Resubmissions and flushes released above. */
	file_kick(io);
}

/* Ask the kernel to cancel every request of this ring still in flight:
 * each then completes, with -ECANCELED or its result if it was past
 * cancelling. The cancel's own completion has no data. */
static void cancel_all(struct blk_file *io)
{
	struct io_uring_sqe *sqe = get_sqe(io);

	if (!sqe)
		return;                   /* the next round tries again */
	io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data(sqe, NULL);
	io_uring_submit(&io->ring);
}

/* One wait of at most DRAIN_TICK_MS; returns the milliseconds it counts
 * for. A failed wait (not a timeout) is retried after a growing pause,
 * so that a persistent failure does not spin. */
static unsigned drain_wait(struct blk_file *io, unsigned *pause_ms, int *last_err)
{
	struct __kernel_timespec ts = { 0, DRAIN_TICK_MS * 1000000LL };
	struct io_uring_cqe *cqe;
	int err = io->wait_cqe(&io->ring, &cqe, &ts);

	if (err == 0 || err == -EINTR) {
		*pause_ms = 1;
		return 0;
	}
	if (err == -ETIME)
		return DRAIN_TICK_MS;
	if (err != *last_err)
		log_err("blk: waiting for %u requests in flight: %s; still waiting",
			io->inflight, strerror(-err));
	*last_err = err;
	unsigned slept = *pause_ms;
	usleep(slept * 1000);
	*pause_ms = slept * 2 > DRAIN_TICK_MS ? DRAIN_TICK_MS : slept * 2;
	return slept;
}

/*
 * Wait until nothing is in flight. The requests read into and write from
 * guest RAM, which teardown unmaps next: returning while the kernel may
 * still touch it could let it write into whatever is mapped there later.
 * So this never gives up. A failed wait is retried; what has not finished
 * after DRAIN_CANCEL_MS (a hung NFS server, a stuck device) is cancelled,
 * and the cancelled requests' completions are waited for too.
 */
static void file_drain(void *be)
{
	struct blk_file *io = be;
	unsigned waited = 0, cancel_at = DRAIN_CANCEL_MS, log_at = DRAIN_LOG_MS, pause = 1;
	int last_err = 0;

	while (io->inflight) {
		file_kick(io);
		waited += drain_wait(io, &pause, &last_err);
		file_reap(io);
		if (io->inflight && waited >= cancel_at) {
			cancel_all(io);
			cancel_at = waited + DRAIN_CANCEL_MS;
		}
		if (io->inflight && waited >= log_at) {
			log_err("blk: %u requests still in flight after %u s; waiting",
				io->inflight, waited / 1000);
			log_at = waited + DRAIN_LOG_MS;
		}
	}
}

static void on_completion(void *opaque, uint32_t events)
{
	struct blk_file *io = opaque;

	/* Reset the counter before the device reaps: later completions
	 * signal again. */
	efd_drain(io->efd);
	io->ready(io->ready_opaque);
}

static int file_attach(void *be, struct evloop *loop, void (*ready)(void *), void *opaque)
{
	struct blk_file *io = be;

	io->ready = ready;
	io->ready_opaque = opaque;
	int err = evloop_add(loop, io->efd, EPOLLIN, on_completion, io);
	if (!err)
		io->loop = loop;
	return err;
}

static void file_detach(void *be, struct evloop *loop)
{
	struct blk_file *io = be;

	if (io->loop)
		evloop_del(io->loop, io->efd);
	io->loop = NULL;
}

static void file_close(void *be)
{
	struct blk_file *io = be;

	if (io->ring_ok) {
		file_drain(io);
		io_uring_queue_exit(&io->ring);
	}
	if (io->efd >= 0)
		close(io->efd);
	if (io->dfd >= 0)
		close(io->dfd);
	if (io->fd >= 0)
		close(io->fd);          /* drops the lock */
	free(io->reqs);
	free(io);
}

static const struct blk_backend_ops blk_file_ops = {
	.submit = file_submit,
	.kick = file_kick,
	.reap = file_reap,
	.drain = file_drain,
	.attach = file_attach,
	.detach = file_detach,
	.close = file_close,
};
