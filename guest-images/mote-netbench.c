/*
 * mote-netbench: a small TCP benchmark that runs in the guest and on the
 * host alike (one static binary), for `make bench`'s network figures
 * (tests/integration/bench_net.sh).
 *
 *   mote-netbench sink PORT              accept one connection on PORT,
 *                                        read until EOF
 *   mote-netbench source ADDR PORT MIB   connect, send MIB MiB, close
 *   mote-netbench echo PORT              accept one connection, echo each
 *                                        byte back until EOF
 *   mote-netbench rr ADDR PORT SECONDS   1-byte request/response ping-pong
 *                                        for SECONDS
 *   mote-netbench recv PORT              accept one connection, copy what
 *                                        arrives to stdout until EOF
 *   mote-netbench send ADDR PORT         connect, copy stdin to it, close
 *                                        (nc with a defined end: the
 *                                        integration tests' data transfers)
 *
 * The side that listens prints "netbench: listening" once it does (on
 * stderr for recv), so a script can start the other side after it. Results, one line each:
 *
 *   netbench: sink-mibps=123.4 bytes=67108864 seconds=0.544
 *   netbench: source-mibps=120.1 bytes=67108864 seconds=0.559
 *   netbench: rr-tps=4567 transactions=45670 seconds=10.000
 *
 * The sink's figure counts from the first byte to EOF, the source's from
 * connect to close. Times come from CLOCK_MONOTONIC. Connecting is retried
 * for a few seconds (the listener may start a moment later). Exit status
 * 0, 1 on a network error, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "netbench: %s: %s\n", what, strerror(errno));
	return 1;
}

static int parse_port(const char *s)
{
	char *end;
	long p = strtol(s, &end, 10);

	return *end || p < 1 || p > 65535 ? -1 : (int)p;
}

/* Listen on port, say so, accept one connection. */
static int accept_one(int port, bool quiet_stdout)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0) {
		close(s);
		return -1;
	}
	/* recv's stdout is the data. */
	fprintf(quiet_stdout ? stderr : stdout, "netbench: listening\n");
	fflush(NULL);
	int c = accept(s, NULL, NULL);
	close(s);
	return c;
}

static int connect_to(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	for (int tries = 0; tries < 100; tries++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return -1;
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			return s;
		close(s);
		usleep(100 * 1000);
	}
	return -1;
}

static void report(const char *what, uint64_t bytes, double secs)
{
	printf("netbench: %s-mibps=%.1f bytes=%llu seconds=%.3f\n", what,
	       secs > 0 ? bytes / 1048576.0 / secs : 0.0, (unsigned long long)bytes, secs);
}

static int sink(int port)
{
	static char buf[CHUNK];
	uint64_t total = 0;
	double t0 = 0;
	int c = accept_one(port, false);

	if (c < 0)
		return fail("accept");
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("read");
		if (n == 0)
			break;
		if (!total)
			t0 = now();
		total += n;
	}
	report("sink", total, total ? now() - t0 : 0);
	close(c);
	return 0;
}

static int source(const char *addr, int port, uint64_t mib)
{
	static char buf[CHUNK];
	uint64_t left = mib << 20;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 131 + 7);
	double t0 = now();
	int s = connect_to(addr, port);
	if (s < 0)
		return fail("connect");
	while (left) {
		ssize_t n = write(s, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("write");
		left -= n;
	}
	if (close(s) < 0)
		return fail("close");
	report("source", mib << 20, now() - t0);
	return 0;
}

static int echo(int port)
{
	int one = 1, c = accept_one(port, false);
	char b;

	if (c < 0)
		return fail("accept");
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		ssize_t n = read(c, &b, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write(c, &b, 1) != 1)
			return fail("write");
	}
	close(c);
	return 0;
}

static int rr(const char *addr, int port, double secs)
{
	int one = 1, s = connect_to(addr, port);
	uint64_t n = 0;
	char b = 'x';

	if (s < 0)
		return fail("connect");
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	double t0 = now(), t = t0;
	while (t - t0 < secs) {
		if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1)
			return fail("ping-pong");
		n++;
		if (n % 64 == 0)
			t = now();
	}
	t = now();
	close(s);
	printf("netbench: rr-tps=%.0f transactions=%llu seconds=%.3f\n", n / (t - t0),
	       (unsigned long long)n, t - t0);
	return 0;
}

/* Copy from in to out until EOF; 0, or 1 on an error. */
static int copy(int in, int out)
{
	static char buf[CHUNK];

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("read");
		if (n == 0)
			return 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return fail("write");
			done += w;
		}
	}
}

static int recv_to_stdout(int port)
{
	int c = accept_one(port, true);

	if (c < 0)
		return fail("accept");
	int r = copy(c, STDOUT_FILENO);
	close(c);
	return r;
}

static int send_stdin(const char *addr, int port)
{
	int s = connect_to(addr, port);

	if (s < 0)
		return fail("connect");
	int r = copy(STDIN_FILENO, s);
	if (close(s) < 0)
		return fail("close");
	return r;
}

int main(int argc, char **argv)
{
	int port;

	if (argc == 3 && !strcmp(argv[1], "sink") && (port = parse_port(argv[2])) > 0)
		return sink(port);
	if (argc == 3 && !strcmp(argv[1], "echo") && (port = parse_port(argv[2])) > 0)
		return echo(port);
	if (argc == 5 && !strcmp(argv[1], "source") && (port = parse_port(argv[3])) > 0)
		return source(argv[2], port, strtoull(argv[4], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "rr") && (port = parse_port(argv[3])) > 0)
		return rr(argv[2], port, strtod(argv[4], NULL));
	if (argc == 3 && !strcmp(argv[1], "recv") && (port = parse_port(argv[2])) > 0)
		return recv_to_stdout(port);
	if (argc == 4 && !strcmp(argv[1], "send") && (port = parse_port(argv[3])) > 0)
		return send_stdin(argv[2], port);
	fprintf(stderr, "usage: mote-netbench sink PORT | source ADDR PORT MIB |"
			" echo PORT | rr ADDR PORT SECONDS | recv PORT | send ADDR PORT\n");
	return 2;
}
