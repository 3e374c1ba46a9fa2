/*
 * mote-diskbench DEVICE [--seconds N] [--bytes N] [--depth N] [--seed N]
 *                       [--passes N] [--pass-bytes N] [--tests LIST]
 *
 * A small disk benchmark for the guest, run by `make bench`
 * (tests/integration/bench_disk.sh). THE DEVICE'S DATA IS OVERWRITTEN.
 * Five tests, in this order, all with O_DIRECT so the guest's page cache
 * stays out of the way and every byte crosses the virtual disk:
 *
 *   seq-write  1 MiB pwrite()s from offset 0 upward, then fdatasync()
 *              (inside the timed part: the data must reach the host);
 *   seq-read   1 MiB pread()s over the same range, from offset 0;
 *   qd1-read   1 MiB pread()s over the first --pass-bytes (default 32 MiB),
 *              --passes times (default 4): what `dd bs=1M iflag=direct`
 *              does a few times over a small drive;
 *   rand-read  4 KiB pread()s at 4 KiB-aligned offsets over the whole
 *              device, drawn from a seeded xorshift64* generator; --depth
 *              threads (default 1, i.e. queue depth 1) each issue one
 *              request at a time, so at most that many are in flight;
 *   rand-write the same with pwrite()s, then fdatasync() (timed).
 *
 * --tests runs only the tests named (comma-separated; default all). Each
 * test stops after --bytes bytes (default 64 MiB; the sequential tests
 * wrap around within min(bytes, device size); not qd1-read) or --seconds
 * seconds (default 10), whichever comes first, and prints one line:
 *
 *   diskbench: seq-write-mibps=123.4 bytes=67108864 seconds=0.519
 *   diskbench: seq-read-mibps=234.5 bytes=67108864 seconds=0.273
 *   diskbench: qd1-read-mibps=180.2 bytes=134217728 seconds=0.710
 *   diskbench: rand-read-iops=5678 ops=16384 depth=1 seconds=2.885
 *   diskbench: rand-write-iops=4321 ops=16384 depth=1 seconds=3.792
 *
 * Times come from CLOCK_MONOTONIC. The device node may appear a moment
 * after the driver loads, so opening it is retried for a few seconds.
 * Exit status: 0, 1 on an I/O error, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK   (1u << 20)
#define RAND_BLOCK  4096u
#define MAX_DEPTH   64
#define OPEN_TRIES  100       /* 10 s in 100 ms steps */

struct bench {
	const char *path;
	int fd;
	uint64_t size;        /* device bytes */
	uint64_t bytes;       /* per-test budget */
	double seconds;       /* per-test time limit */
	unsigned depth;
	uint64_t seed;
	uint64_t passes;      /* qd1-read */
	uint64_t pass_bytes;
	const char *tests;    /* comma-separated, or NULL for all */
};

/* One random-read thread. */
struct worker {
	const struct bench *b;
	double deadline;
	uint64_t ops_max;
	uint64_t state;       /* PRNG */
	uint64_t ops;
	int write;
	int err;              /* errno of a failed read or write, or 0 */
	pthread_t tid;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64* (Vigna): fast, and good enough to scatter offsets. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: mote-diskbench DEVICE [--seconds N] [--bytes N] "
		"[--depth N] [--seed N] [--passes N] [--pass-bytes N] [--tests LIST]\n");
	return 2;
}

/* A whole number with an optional K, M or G (binary) suffix. */
static int parse_num(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static const char *const test_names[] = {
	"seq-write", "seq-read", "qd1-read", "rand-read", "rand-write",
};

/* Is every name in list (comma-separated) a test's? */
static int tests_valid(const char *list)
{
	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t n = strcspn(p, ","), i;
		for (i = 0; i < sizeof(test_names) / sizeof(test_names[0]); i++)
			if (strlen(test_names[i]) == n && !strncmp(p, test_names[i], n))
				break;
		if (i == sizeof(test_names) / sizeof(test_names[0]))
			return 0;
	}
	return 1;
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	uint64_t v;

	if (argc < 2 || argv[1][0] == '-')
		return -1;
	b->path = argv[1];
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 < argc && !strcmp(argv[i], "--tests")) {
			b->tests = argv[i + 1];
			if (!tests_valid(b->tests))
				return -1;
			continue;
		}
		if (i + 1 >= argc || parse_num(argv[i + 1], &v))
			return -1;
		if (!strcmp(argv[i], "--seconds") && v > 0)
			b->seconds = v;
		else if (!strcmp(argv[i], "--bytes") && v >= SEQ_BLOCK)
			b->bytes = v;
		else if (!strcmp(argv[i], "--depth") && v >= 1 && v <= MAX_DEPTH)
			b->depth = v;
		else if (!strcmp(argv[i], "--seed"))
			b->seed = v ? v : 1;   /* xorshift sticks at zero */
		else if (!strcmp(argv[i], "--passes") && v >= 1)
			b->passes = v;
		else if (!strcmp(argv[i], "--pass-bytes") && v >= SEQ_BLOCK)
			b->pass_bytes = v;
		else
			return -1;
	}
	return 0;
}

static int open_device(struct bench *b)
{
	for (int i = 0; i < OPEN_TRIES; i++) {
		b->fd = open(b->path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (b->fd >= 0 || (errno != ENOENT && errno != ENXIO))
			break;
		usleep(100000);
	}
	if (b->fd < 0) {
		fprintf(stderr, "mote-diskbench: %s: %s\n", b->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Block devices have no st_size; files (for trying it on a host) do. */
static int device_size(struct bench *b)
{
	struct stat st;

	if (fstat(b->fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode)) {
		b->size = st.st_size;
		return 0;
	}
	return ioctl(b->fd, BLKGETSIZE64, &b->size);
}

static void *aligned_buf(size_t n, int fill)
{
	void *p;

	if (posix_memalign(&p, 4096, n))
		return NULL;
	memset(p, fill, n);
	return p;
}

/* Whole blocks of the first bytes of the device, at most its size. */
static uint64_t seq_span(const struct bench *b, uint64_t bytes)
{
	uint64_t span = bytes < b->size ? bytes : b->size;

	return span - span % SEQ_BLOCK;
}

static void report_seq(const char *name, uint64_t bytes, double secs)
{
	printf("diskbench: %s-mibps=%.1f bytes=%llu seconds=%.3f\n", name,
	       bytes / secs / (1 << 20), (unsigned long long)bytes, secs);
	fflush(stdout);
}

/* One sequential test; write or read SEQ_BLOCK at a time, over the first
 * span bytes, total bytes in all. */
static int run_seq(const struct bench *b, const char *name, int write, uint64_t span,
		   uint64_t total)
{
	uint64_t done = 0;
	char *buf = aligned_buf(SEQ_BLOCK, 0x5a);
	double start = now(), deadline = start + b->seconds;

	if (!buf)
		return -ENOMEM;
	while (done < total && now() < deadline) {
		off_t off = done % span;
		ssize_t n = write ? pwrite(b->fd, buf, SEQ_BLOCK, off) :
				    pread(b->fd, buf, SEQ_BLOCK, off);
		if (n != SEQ_BLOCK) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		done += SEQ_BLOCK;
	}
	if (write && fdatasync(b->fd) < 0) {
		free(buf);
		return -errno;
	}
	report_seq(name, done, now() - start);
	free(buf);
	return 0;
}

static void *rand_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t blocks = w->b->size / RAND_BLOCK;
	char *buf = aligned_buf(RAND_BLOCK, 0xa5);

	if (!buf) {
		w->err = ENOMEM;
		return NULL;
	}
	while (w->ops < w->ops_max && now() < w->deadline) {
		off_t off = (next_rand(&w->state) % blocks) * RAND_BLOCK;
		ssize_t n = w->write ? pwrite(w->b->fd, buf, RAND_BLOCK, off) :
				       pread(w->b->fd, buf, RAND_BLOCK, off);
		if (n != RAND_BLOCK) {
			w->err = errno ? errno : EIO;
			break;
		}
		w->ops++;
	}
	free(buf);
	return NULL;
}

/* Start the workers; returns how many started. */
static unsigned start_workers(const struct bench *b, struct worker *w, int write,
			      double deadline)
{
	uint64_t ops_max = b->bytes / RAND_BLOCK;
	unsigned i;

	for (i = 0; i < b->depth; i++) {
		w[i] = (struct worker){
			.b = b,
			.deadline = deadline,
			.ops_max = (ops_max + b->depth - 1) / b->depth,
			.state = b->seed + i * 0x9E3779B97F4A7C15ULL,
			.write = write,
		};
		if (!w[i].state)
			w[i].state = 1;
		if (pthread_create(&w[i].tid, NULL, rand_worker, &w[i]))
			break;
	}
	return i;
}

static int run_rand(const struct bench *b, int write)
{
	struct worker w[MAX_DEPTH];
	double start = now();
	uint64_t ops = 0;
	int err = 0;
	unsigned n = start_workers(b, w, write, start + b->seconds);

	for (unsigned i = 0; i < n; i++) {
		pthread_join(w[i].tid, NULL);
		ops += w[i].ops;
		if (w[i].err)
			err = -w[i].err;
	}
	if (n < b->depth)
		err = -EAGAIN;
	if (!err && write && fdatasync(b->fd) < 0)
		err = -errno;
	if (err)
		return err;
	double secs = now() - start;
	printf("diskbench: rand-%s-iops=%.0f ops=%llu depth=%u seconds=%.3f\n",
	       write ? "write" : "read", ops / secs, (unsigned long long)ops, b->depth, secs);
	fflush(stdout);
	return 0;
}

/* Is test name in b->tests (or are all wanted)? */
static int wanted(const struct bench *b, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = b->tests; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return !b->tests;
}

static int run_all(struct bench *b)
{
	int err;

	printf("diskbench: device=%s size=%llu budget-bytes=%llu budget-seconds=%.0f\n",
	       b->path, (unsigned long long)b->size, (unsigned long long)b->bytes, b->seconds);
	fflush(stdout);
	uint64_t span = seq_span(b, b->bytes), pass = seq_span(b, b->pass_bytes);

	err = 0;
	if (wanted(b, "seq-write"))
		err = run_seq(b, "seq-write", 1, span, b->bytes);
	if (!err && wanted(b, "seq-read"))
		err = run_seq(b, "seq-read", 0, span, b->bytes);
	if (!err && wanted(b, "qd1-read"))
		err = run_seq(b, "qd1-read", 0, pass, pass * b->passes);
	if (!err && wanted(b, "rand-read"))
		err = run_rand(b, 0);
	if (!err && wanted(b, "rand-write"))
		err = run_rand(b, 1);
	if (err)
		fprintf(stderr, "mote-diskbench: %s: %s\n", b->path, strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	struct bench b = {
		.fd = -1, .bytes = 64 << 20, .seconds = 10, .depth = 1, .seed = 1,
		.passes = 4, .pass_bytes = 32 << 20,
	};

	if (parse_args(&b, argc, argv))
		return usage();
	if (open_device(&b))
		return 1;
	if (device_size(&b) < 0 || b.size < SEQ_BLOCK) {
		fprintf(stderr, "mote-diskbench: %s: cannot size it, or smaller than 1 MiB\n",
			b.path);
		close(b.fd);
		return 1;
	}
	int err = run_all(&b);
	close(b.fd);
	return err ? 1 : 0;
}
