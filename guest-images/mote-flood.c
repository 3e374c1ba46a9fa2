/*
 * mote-flood KIND ADDR SECONDS: a hostile guest's loop, for
 * tests/integration/t_guest_flood.sh. For SECONDS seconds:
 *
 *   mmio ADDR  read the 32-bit word at physical address ADDR through a
 *              /dev/mem mapping, over and over (each read is one MMIO
 *              exit when no device claims ADDR);
 *   pio PORT   read I/O port PORT, over and over (ioperm; x86 only:
 *              arm64 has no I/O ports, the loop fails to start there);
 *   out -      write lines to stdout, over and over (the console flood
 *              when stdout is /dev/console); a failed write is counted
 *              and the loop goes on.
 *
 * Then prints one line, "flood-KIND: count=N errors=E" (the first error's
 * text after it, if any). Exit status 0, 1 if the loop could not start,
 * 2 on a usage error. Built static into the guest images.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __x86_64__
#include <sys/io.h>
#endif
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int mmio(unsigned long addr, double end, unsigned long *count)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open("/dev/mem", O_RDONLY | O_SYNC);
	void *map;

	if (fd < 0) {
		perror("mote-flood: /dev/mem");
		return 1;
	}
	map = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, (off_t)(addr & ~(page - 1)));
	if (map == MAP_FAILED) {
		perror("mote-flood: mmap /dev/mem");
		return 1;
	}
	volatile const uint32_t *w = (const uint32_t *)((char *)map + (addr & (page - 1)));
	while (now() < end)
		for (int i = 0; i < 1000; i++, ++*count)
			(void)*w;
	return 0;
}

#ifdef __x86_64__
static int pio(unsigned long port, double end, unsigned long *count)
{
	if (port > 0xffff || ioperm(port, 1, 1) < 0) {
		perror("mote-flood: ioperm");
		return 1;
	}
	while (now() < end)
		for (int i = 0; i < 1000; i++, ++*count)
			(void)inb((unsigned short)port);
	return 0;
}
#else
static int pio(unsigned long port, double end, unsigned long *count)
{
	(void)port, (void)end, (void)count;
	fprintf(stderr, "mote-flood: no I/O ports on this architecture\n");
	return 1;
}
#endif

static void out(double end, unsigned long *count, unsigned long *errors, int *first)
{
	static const char line[] = "mote-flood-console-line\n";

	while (now() < end) {
		if (write(STDOUT_FILENO, line, sizeof(line) - 1) > 0) {
			++*count;
		} else {
			if (!*errors)
				*first = errno;
			++*errors;
		}
	}
}

int main(int argc, char **argv)
{
	unsigned long count = 0, errors = 0, addr;
	double secs, end;
	int first = 0, r = 0;

	if (argc != 4 || (secs = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: mote-flood mmio|pio|out ADDR SECONDS\n");
		return 2;
	}
	addr = strtoul(argv[2], NULL, 0);
	end = now() + secs;
	if (strcmp(argv[1], "mmio") == 0)
		r = mmio(addr, end, &count);
	else if (strcmp(argv[1], "pio") == 0)
		r = pio(addr, end, &count);
	else if (strcmp(argv[1], "out") == 0)
		out(end, &count, &errors, &first);
	else
		return 2;
	fprintf(stderr, "flood-%s: count=%lu errors=%lu%s%s\n", argv[1], count, errors,
		first ? " " : "", first ? strerror(first) : "");
	return r;
}
