/*
 * Unit tests for the overlay map (virtio/backend/cow_overlay.c) and the
 * copy-on-write backend (virtio/backend/blk_cow.c): the sector map against a one-bit-per-byte
 * model, then real I/O on io_uring over a patterned base image, checked
 * against an in-memory model of the disk. The base must come out
 * byte-identical, and the store's directory must stay empty, even when
 * the process holding the drive is SIGKILLed.
 */
#include "virtio/blk.h"
#include "virtio/backend/cow_overlay.h"
#include "virtio/backend/blk_cow.c"
#include "virtio/backend/blk_file.h"
#include "virtio/virtio.h"
#include "virtio/mmio.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECTOR     512
#define DISK       (256 * 1024)          /* 512 sectors: 8 map words */
#define MAX_PIECES 8
#define DEPTH      16

/* ---- Helpers ---- */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static uint8_t base_byte(uint64_t off)
{
	return (uint8_t)(off * 7 + off / SECTOR + 1);
}

/* FNV-1a of a whole file. */
static uint64_t file_sum(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ULL;
	ck_assert_int_eq(n, 0);
	close(fd);
	return h;
}

static unsigned dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* ---- The fixture: a base image, an empty store directory, a model ---- */

struct fx {
	char top[64], base[96], store[96];
	uint8_t model[DISK];
	uint64_t sum;
	struct blk_backend be;
	bool open;
	unsigned ndone;
};

struct treq {
	struct blk_io_req io;
	struct iovec iov[MAX_PIECES];
	struct fx *x;
	int err;
	unsigned order;            /* 1 + how many finished before it; 0 = not yet */
};

static void treq_done(struct blk_io_req *r, int err)
{
	struct treq *t = (struct treq *)((char *)r - offsetof(struct treq, io));

	t->err = err;
	t->order = ++t->x->ndone;
}

static struct fx *fx_new(void)
{
	struct fx *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	strcpy(x->top, "/tmp/mote-test-cow-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(x->top));
	snprintf(x->base, sizeof(x->base), "%s/base.img", x->top);
	snprintf(x->store, sizeof(x->store), "%s/store", x->top);
	ck_assert_int_eq(mkdir(x->store, 0700), 0);
	for (uint64_t i = 0; i < DISK; i++)
		x->model[i] = base_byte(i);
	int fd = open(x->base, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, x->model, DISK), DISK);
	close(fd);
	x->sum = file_sum(x->base);
	return x;
}

static void fx_open(struct fx *x)
{
	char err[256];

	ck_assert_msg(blk_cow_open(&x->be, x->base, x->store, DEPTH, err,
					    sizeof(err)) == 0, "%s", err);
	x->open = true;
}

static void fx_free(struct fx *x)
{
	if (x->open)
		x->be.ops->close(x->be.be);
	ck_assert_uint_eq(dir_entries(x->store), 0);
	ck_assert_int_eq(rmdir(x->store), 0);
	unlink(x->base);
	ck_assert_int_eq(rmdir(x->top), 0);
	free(x);
}

/* Lay buf out as iovecs of the given piece sizes (the last takes the rest). */
static void prep(struct fx *x, struct treq *t, enum blk_io_op op, uint64_t off, uint8_t *buf,
		 size_t len, const size_t *pieces, unsigned n)
{
	memset(t, 0, sizeof(*t));
	t->x = x;
	t->io = (struct blk_io_req){ .op = op, .offset = off, .iov = t->iov, .done = treq_done };
	for (unsigned i = 0; len && i < MAX_PIECES; i++) {
		size_t take = i + 1 < n && i + 1 < MAX_PIECES && pieces[i] < len ? pieces[i] : len;
		t->iov[i] = (struct iovec){ buf, take };
		t->io.iovcnt++;
		buf += take;
		len -= take;
	}
}

static int run_one(struct fx *x, struct treq *t)
{
	int e = x->be.ops->submit(x->be.be, &t->io);

	if (e)
		return e;
	x->be.ops->kick(x->be.be);
	x->be.ops->drain(x->be.be);
	ck_assert_uint_ne(t->order, 0);
	return t->err;
}

static int io_at(struct fx *x, enum blk_io_op op, uint64_t off, uint8_t *buf, size_t len,
		 const size_t *pieces, unsigned n)
{
	struct treq t;

	prep(x, &t, op, off, buf, len, pieces, n);
	return run_one(x, &t);
}

/* Write len bytes of a pattern at off, in the model too. */
static void write_pat(struct fx *x, uint64_t off, size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);
	static const size_t pieces[] = { 700, 324, 1 };

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 13);
	ck_assert_int_eq(io_at(x, BLK_IO_WRITE, off, buf, len, pieces, 3), 0);
	memcpy(x->model + off, buf, len);
	free(buf);
}

static void check_read(struct fx *x, uint64_t off, size_t len, const size_t *pieces,
		       unsigned n)
{
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0xee, len);
	ck_assert_int_eq(io_at(x, BLK_IO_READ, off, buf, len, pieces, n), 0);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(buf[i] == x->model[off + i], "byte %llu: %u, want %u",
			      (unsigned long long)(off + i), buf[i], x->model[off + i]);
	free(buf);
}

/* ---- The sector map ---- */

static bool model_bit(const uint8_t *m, uint64_t off)
{
	return m[off / SECTOR];
}

/* Every run cow_overlay_run reports agrees with the per-sector model, and is
 * as long as it can be. */
static void check_runs(const struct cow_overlay *c, const uint8_t *m, uint64_t off, uint64_t len)
{
	while (len) {
		bool ov;
		uint64_t n = cow_overlay_run(c, off, len, &ov);
		ck_assert_uint_gt(n, 0);
		ck_assert_uint_le(n, len);
		for (uint64_t b = off; b < off + n; b += SECTOR - (b % SECTOR))
			ck_assert_int_eq(model_bit(m, b), ov);
		if (n < len)
			ck_assert_int_ne(model_bit(m, off + n), ov);
		off += n;
		len -= n;
	}
}

START_TEST(map_runs)
{
	const uint64_t sectors = 1000;        /* not a multiple of 64 */
	struct cow_overlay c;
	uint8_t m[1000] = { 0 };
	char err[256], dir[] = "/tmp/mote-test-cow-XXXXXX";
	uint64_t seed = 42;
	bool ov;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(cow_overlay_open(&c, dir, sectors * SECTOR, err, sizeof(err)), 0);
	/* Empty: one run from the base, capped at the end of the disk. */
	ck_assert_uint_eq(cow_overlay_run(&c, 0, ~0ULL, &ov), sectors * SECTOR);
	ck_assert(!ov);
	ck_assert_uint_eq(cow_overlay_run(&c, sectors * SECTOR, 512, &ov), 0);
	ck_assert_uint_eq(cow_overlay_run(&c, 100, 0, &ov), 0);
	for (int i = 0; i < 300; i++) {
		uint64_t s = lcg(&seed) % sectors, n = 1 + lcg(&seed) % 150;
		if (n > sectors - s)
			n = sectors - s;
		cow_overlay_mark(&c, s * SECTOR, n * SECTOR);
		memset(m + s, 1, n);
		uint64_t off = lcg(&seed) % (sectors * SECTOR);
		check_runs(&c, m, off, 1 + lcg(&seed) % (sectors * SECTOR - off));
	}
	check_runs(&c, m, 0, sectors * SECTOR);
	/* Marks beyond the end, or of partial sectors, change nothing. */
	cow_overlay_mark(&c, sectors * SECTOR - 512, ~0ULL);
	cow_overlay_mark(&c, ~0ULL - 1000, 2000);
	m[sectors - 1] = 1;
	check_runs(&c, m, 0, sectors * SECTOR);
	cow_overlay_close(&c);
	cow_overlay_close(&c);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(map_partial_sectors)
{
	struct cow_overlay c;
	char err[256], dir[] = "/tmp/mote-test-cow-XXXXXX";
	bool ov;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(cow_overlay_open(&c, dir, 64 * SECTOR, err, sizeof(err)), 0);
	cow_overlay_mark(&c, 100, 1000);          /* covers sector 1 only */
	ck_assert_uint_eq(cow_overlay_run(&c, 0, 4096, &ov), 512);
	ck_assert(!ov);
	ck_assert_uint_eq(cow_overlay_run(&c, 700, 4096, &ov), 1024 - 700);
	ck_assert(ov);
	ck_assert_uint_eq(cow_overlay_run(&c, 1023, 4096, &ov), 1);
	ck_assert(ov);
	ck_assert_uint_eq(cow_overlay_run(&c, 1024, 100, &ov), 100);
	ck_assert(!ov);
	cow_overlay_close(&c);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(open_errors)
{
	struct cow_overlay c;
	struct blk_backend io;
	struct fx *x = fx_new();
	char err[256];

	ck_assert_int_eq(cow_overlay_open(&c, "/nonexistent", 4096, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "ephemeral store in /nonexistent: No such file or directory");
	ck_assert_int_eq(cow_overlay_open(&c, x->store, 1000, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(blk_cow_open(&io, x->base, "/nonexistent", DEPTH, err,
					       sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "ephemeral store in /nonexistent: No such file or directory");
	ck_assert_int_eq(blk_cow_open(&io, "/nonexistent.img", x->store, DEPTH, err,
					       sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "image /nonexistent.img: No such file or directory");
	/* Nothing stays locked after a failed open. */
	ck_assert_int_eq(blk_file_open(&io, x->base, 0, DEPTH, err, sizeof(err)), 0);
	io.ops->close(io.be);
	fx_free(x);
}
END_TEST

START_TEST(default_dir)
{
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;

	setenv("TMPDIR", "/somewhere", 1);
	ck_assert_str_eq(cow_default_dir(), "/somewhere");
	setenv("TMPDIR", "", 1);
	ck_assert_str_eq(cow_default_dir(), "/var/tmp");
	unsetenv("TMPDIR");
	ck_assert_str_eq(cow_default_dir(), "/var/tmp");
	if (saved)
		setenv("TMPDIR", saved, 1);
	free(saved);
}
END_TEST

/* ---- I/O through the image backend ---- */

START_TEST(write_read_across_runs)
{
	static const size_t odd[] = { 1000, 3000, 100, 7, 5000 };
	static const size_t one[] = { 0 };
	struct fx *x = fx_new();
	struct stat st;

	fx_open(x);
	ck_assert_uint_eq(x->be.size, DISK);
	ck_assert(!x->be.read_only);
	/* The store is never visible, even while it is in use. */
	ck_assert_uint_eq(dir_entries(x->store), 0);
	check_read(x, 0, DISK, odd, 5);                /* all from the base */
	write_pat(x, 10 * SECTOR, 3 * SECTOR, 1);
	write_pat(x, 62 * SECTOR, 4 * SECTOR, 2);     /* across a map word */
	write_pat(x, 200 * SECTOR, SECTOR, 3);
	write_pat(x, DISK - SECTOR, SECTOR, 4);       /* the last sector */
	/* Runs that start and end inside iovecs, and iovecs inside runs. */
	check_read(x, 0, 256 * SECTOR, odd, 5);
	check_read(x, 11 * SECTOR, 2 * SECTOR, one, 1);
	check_read(x, 9 * SECTOR, 5 * SECTOR, odd, 5);
	check_read(x, 63 * SECTOR, 2 * SECTOR, odd + 2, 3);
	check_read(x, DISK - 8 * SECTOR, 8 * SECTOR, odd, 5);
	/* A rewrite over base and store alike. */
	write_pat(x, 8 * SECTOR, 60 * SECTOR, 5);
	check_read(x, 0, DISK, odd, 5);
	/* The store is sparse, and the size of the disk. */
	ck_assert_int_eq(fstat(((struct blk_cow *)x->be.be)->ov.fd, &st), 0);
	ck_assert_int_eq(st.st_size, DISK);
	ck_assert_int_lt(st.st_blocks * 512, DISK);
	x->be.ops->close(x->be.be);
	x->open = false;
	ck_assert_uint_eq(file_sum(x->base), x->sum);
	fx_free(x);
}
END_TEST

/* Random writes and batches of concurrent reads against the model. */
START_TEST(random_io)
{
	struct fx *x = fx_new();
	uint64_t seed = 7;
	size_t pieces[MAX_PIECES];

	fx_open(x);
	for (int round = 0; round < 60; round++) {
		uint64_t s = lcg(&seed) % (DISK / SECTOR), n = 1 + lcg(&seed) % 40;
		if (n > DISK / SECTOR - s)
			n = DISK / SECTOR - s;
		write_pat(x, s * SECTOR, n * SECTOR, (uint8_t)round);
		struct treq t[DEPTH];
		uint8_t *bufs[DEPTH];
		uint64_t offs[DEPTH];
		size_t lens[DEPTH];
		for (int i = 0; i < DEPTH; i++) {
			offs[i] = lcg(&seed) % (DISK / SECTOR) * SECTOR + lcg(&seed) % 2 * 100;
			lens[i] = (1 + lcg(&seed) % 64) * SECTOR;
			if (lens[i] > DISK - offs[i])
				lens[i] = DISK - offs[i];
			for (int p = 0; p < MAX_PIECES; p++)
				pieces[p] = 1 + lcg(&seed) % 3000;
			bufs[i] = malloc(lens[i]);
			ck_assert_ptr_nonnull(bufs[i]);
			prep(x, &t[i], BLK_IO_READ, offs[i], bufs[i], lens[i], pieces, MAX_PIECES);
			t[i].io.tag = i;
			ck_assert_int_eq(x->be.ops->submit(x->be.be, &t[i].io), 0);
		}
		x->be.ops->kick(x->be.be);
		x->be.ops->drain(x->be.be);
		for (int i = 0; i < DEPTH; i++) {
			ck_assert_int_eq(t[i].err, 0);
			ck_assert(memcmp(bufs[i], x->model + offs[i], lens[i]) == 0);
			free(bufs[i]);
		}
	}
	x->be.ops->close(x->be.be);
	x->open = false;
	ck_assert_uint_eq(file_sum(x->base), x->sum);
	fx_free(x);
}
END_TEST

START_TEST(bad_requests)
{
	static const size_t one[] = { 0 };
	struct fx *x = fx_new();
	uint8_t buf[2 * SECTOR] = { 0 };

	fx_open(x);
	ck_assert_int_eq(io_at(x, BLK_IO_WRITE, DISK - SECTOR, buf, 2 * SECTOR, one, 1), -EINVAL);
	ck_assert_int_eq(io_at(x, BLK_IO_READ, DISK - SECTOR, buf, 2 * SECTOR, one, 1), -EINVAL);
	ck_assert_int_eq(io_at(x, BLK_IO_READ, ~0ULL - 100, buf, 200, one, 1), -EINVAL);
	ck_assert_int_eq(io_at(x, BLK_IO_WRITE, 100, buf, SECTOR, one, 1), -EINVAL);
	ck_assert_int_eq(io_at(x, BLK_IO_WRITE, 0, buf, 100, one, 1), -EINVAL);
	ck_assert_uint_eq(blk_cow_inflight(&x->be), 0);
	check_read(x, 0, 4 * SECTOR, one, 1);        /* nothing was written */
	/* Reads need not be whole sectors. */
	check_read(x, 100, 1000, one, 1);
	x->be.ops->close(x->be.be);
	x->open = false;
	ck_assert_uint_eq(file_sum(x->base), x->sum);
	fx_free(x);
}
END_TEST

/* A flush completes only after the writes submitted before it. */
START_TEST(flush_after_writes)
{
	static const size_t one[] = { 0 };
	struct fx *x = fx_new();
	uint8_t a[64 * 1024], b[SECTOR];
	struct treq w1, w2, f;

	memset(a, 0x5a, sizeof(a));
	memset(b, 0xa5, sizeof(b));
	fx_open(x);
	prep(x, &w1, BLK_IO_WRITE, 0, a, sizeof(a), one, 1);
	prep(x, &f, BLK_IO_FLUSH, 0, NULL, 0, one, 0);
	prep(x, &w2, BLK_IO_WRITE, DISK - SECTOR, b, sizeof(b), one, 1);
	f.io.tag = 1;
	w2.io.tag = 2;
	ck_assert_int_eq(x->be.ops->submit(x->be.be, &w1.io), 0);
	ck_assert_int_eq(x->be.ops->submit(x->be.be, &f.io), 0);
	ck_assert_int_eq(x->be.ops->submit(x->be.be, &w2.io), 0);
	ck_assert_uint_eq(blk_cow_inflight(&x->be), 3);
	x->be.ops->kick(x->be.be);
	x->be.ops->drain(x->be.be);
	ck_assert_int_eq(w1.err | w2.err | f.err, 0);
	ck_assert_uint_gt(f.order, w1.order);
	memcpy(x->model, a, sizeof(a));
	memcpy(x->model + DISK - SECTOR, b, sizeof(b));
	check_read(x, 0, DISK, one, 1);
	x->be.ops->close(x->be.be);
	x->open = false;
	ck_assert_uint_eq(file_sum(x->base), x->sum);
	fx_free(x);
}
END_TEST

/* Readers and ephemeral drives share an image; each ephemeral drive has
 * its own store; a writer waits for all of them. */
START_TEST(sharing)
{
	static const size_t one[] = { 0 };
	struct fx *x = fx_new();
	struct blk_backend other, ro, rw;
	uint8_t buf[SECTOR], want[SECTOR];
	char err[256];

	fx_open(x);
	ck_assert_int_eq(blk_cow_open(&other, x->base, x->store, DEPTH, err,
					       sizeof(err)), 0);
	ck_assert_int_eq(blk_file_open(&ro, x->base, BLK_FILE_RO, DEPTH, err, sizeof(err)), 0);
	ck_assert_int_eq(blk_file_open(&rw, x->base, 0, DEPTH, err, sizeof(err)), -EBUSY);
	ck_assert_msg(strstr(err, "is locked by another process"), "%s", err);
	write_pat(x, 5 * SECTOR, SECTOR, 9);
	/* The other drive still reads the base. */
	struct treq t;
	prep(x, &t, BLK_IO_READ, 5 * SECTOR, buf, SECTOR, one, 1);
	ck_assert_int_eq(other.ops->submit(other.be, &t.io), 0);
	other.ops->kick(other.be);
	other.ops->drain(other.be);
	ck_assert_int_eq(t.err, 0);
	for (int i = 0; i < SECTOR; i++)
		want[i] = base_byte(5 * SECTOR + i);
	ck_assert(memcmp(buf, want, SECTOR) == 0);
	check_read(x, 0, 8 * SECTOR, one, 1);
	other.ops->close(other.be);
	ro.ops->close(ro.be);
	x->be.ops->close(x->be.be);
	x->open = false;
	ck_assert_int_eq(blk_file_open(&rw, x->base, 0, DEPTH, err, sizeof(err)), 0);
	rw.ops->close(rw.be);
	ck_assert_uint_eq(file_sum(x->base), x->sum);
	fx_free(x);
}
END_TEST

/* A process killed with its drive open leaves nothing in the store's
 * directory, and the base as it was. */
START_TEST(sigkill_leaves_nothing)
{
	struct fx *x = fx_new();
	int pfd[2], status;
	char c;

	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fx_open(x);
		write_pat(x, 0, 64 * SECTOR, 3);
		check_read(x, 0, 128 * SECTOR, (const size_t[]){ 0 }, 1);
		if (write(pfd[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(pfd[0]);
	ck_assert_uint_eq(dir_entries(x->store), 0);
	ck_assert_uint_eq(file_sum(x->base), x->sum);
	fx_free(x);
}
END_TEST

/* Through the device: a writable disk to the guest. */
START_TEST(device_is_writable)
{
	struct fx *x = fx_new();
	struct blk *b = calloc(1, sizeof(*b));
	char err[256];

	ck_assert_int_eq(blk_cow_open(&x->be, "/nonexistent.img", x->store, DEPTH, err,
				      sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "image /nonexistent.img: No such file or directory");
	ck_assert_int_eq(blk_cow_open(&x->be, x->base, "/nonexistent", DEPTH, err,
				      sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "ephemeral store in /nonexistent: No such file or directory");
	fx_open(x);
	ck_assert_int_eq(blk_init(b, &x->be, "rootfs"), 0);
	ck_assert(!b->read_only);
	ck_assert_uint_eq(b->sectors, DISK / SECTOR);
	ck_assert(!(blk_virtio_ops.features(b) & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
	blk_release(b);
	free(b);
	fx_free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk_cow");
	TCase *map = tcase_create("map");
	TCase *io = tcase_create("io");
	SRunner *sr;
	int failed;

	tcase_add_test(map, map_runs);
	tcase_add_test(map, map_partial_sectors);
	tcase_add_test(map, default_dir);
	tcase_add_test(io, open_errors);     /* opens the image backend too */
	tcase_add_test(io, write_read_across_runs);
	tcase_add_test(io, random_io);
	tcase_add_test(io, bad_requests);
	tcase_add_test(io, flush_after_writes);
	tcase_add_test(io, sharing);
	tcase_add_test(io, sigkill_leaves_nothing);
	tcase_add_test(io, device_is_writable);
	tcase_set_timeout(io, 60);
	/* Tagged: qemu-user has no io_uring, so the arm64 run (tools/arm64.mk)
	 * leaves these out with CK_EXCLUDE_TAGS=io_uring. */
	tcase_set_tags(io, "io_uring");
	suite_add_tcase(s, map);
	suite_add_tcase(s, io);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
