/*
 * mote-exit N: end the VM with status N (0..255).
 * mote-exit --mark CODE: write CODE (1: init is up, 2: the job starts) to
 * mote's boot timer, which records when it happened.
 *
 * Under mote, a one-byte write to the exit device stops the VM and becomes
 * mote's exit status. On x86 the exit device and the boot timer are I/O
 * ports (PORT_EXIT and PORT_BOOT_TIMER in boot/x86/layout.h); on arm64 they
 * are MMIO registers that the device tree describes (compatible "mote,exit"
 * and "mote,boot-timer", boot/arm64/fdt.h), written through /dev/mem.
 * Anywhere else (QEMU, real hardware) there is no such device: the write
 * goes nowhere or is skipped, and the exit falls back to a plain power-off.
 * Built static into the guest initramfs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>

#ifdef __x86_64__
#include <sys/io.h>

#define MOTE_EXIT_PORT 0x501
#define MOTE_BOOT_TIMER_PORT 0x502

enum reg { REG_EXIT = MOTE_EXIT_PORT, REG_BOOT_TIMER = MOTE_BOOT_TIMER_PORT };

static int reg_write(enum reg r, unsigned char v)
{
	if (ioperm((unsigned long)r, 1, 1) != 0) {
		perror("mote-exit: ioperm");
		return 1;
	}
	outb(v, (unsigned short)r);
	return 0;
}

#else /* device-tree machines: arm64 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>

#define DT "/proc/device-tree"

enum reg { REG_EXIT, REG_BOOT_TIMER };

static const char *const reg_compat[] = {
	[REG_EXIT] = "mote,exit",
	[REG_BOOT_TIMER] = "mote,boot-timer",
};

/* Read up to cap bytes of a device-tree property file; returns its size. */
static size_t dt_read(const char *path, void *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Big-endian cells, as the device tree stores them. */
static uint64_t dt_cells(const unsigned char *p, unsigned cells)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < cells * 4; i++)
		v = v << 8 | p[i];
	return v;
}

static unsigned dt_root_cells(const char *path, unsigned dflt)
{
	unsigned char b[4];

	return dt_read(path, b, sizeof(b)) == 4 ? (unsigned)dt_cells(b, 1) : dflt;
}

/* Does the compatible list in buf[0..n) (NUL-terminated strings, buf[n]
 * a NUL as well) name compat? */
static int compat_has(const char *buf, size_t n, const char *compat)
{
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (strcmp(buf + i, compat) == 0)
			return 1;
	return 0;
}

/* The address of the first node directly under the root that is
 * compatible with compat; 0 when there is none (not under mote). */
static uint64_t dt_find(const char *compat)
{
	unsigned ac = dt_root_cells(DT "/#address-cells", 2);
	unsigned sc = dt_root_cells(DT "/#size-cells", 1);
	char path[512], buf[256];
	unsigned char reg[16];
	struct dirent *e;
	uint64_t addr = 0;
	DIR *d = opendir(DT);

	if (!d || ac < 1 || ac > 2 || sc > 2)
		goto out;
	while (!addr && (e = readdir(d))) {
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), DT "/%s/compatible", e->d_name);
		n = dt_read(path, buf, sizeof(buf) - 1);
		buf[n] = '\0';
		if (!n || !compat_has(buf, n, compat))
			continue;
		snprintf(path, sizeof(path), DT "/%s/reg", e->d_name);
		if (dt_read(path, reg, sizeof(reg)) >= (ac + sc) * 4)
			addr = dt_cells(reg, ac);
	}
out:
	if (d)
		closedir(d);
	return addr;
}

static int reg_write(enum reg r, unsigned char v)
{
	uint64_t addr = dt_find(reg_compat[r]);
	long page = sysconf(_SC_PAGESIZE);
	volatile unsigned char *p;
	void *map;
	int fd;

	if (!addr) {
		fprintf(stderr, "mote-exit: no %s device in the device tree\n", reg_compat[r]);
		return 1;
	}
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		perror("mote-exit: /dev/mem");
		return 1;
	}
	map = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)(addr & ~(uint64_t)(page - 1)));
	close(fd);
	if (map == MAP_FAILED) {
		perror("mote-exit: mmap /dev/mem");
		return 1;
	}
	p = (volatile unsigned char *)map + (addr & (uint64_t)(page - 1));
	*p = v;
	munmap(map, (size_t)page);
	return 0;
}
#endif

/* Under QEMU or on hardware the write goes nowhere, which is fine. */
static int mark(const char *arg)
{
	if (strcmp(arg, "1") != 0 && strcmp(arg, "2") != 0) {
		fprintf(stderr, "mote-exit: --mark wants 1 or 2, not '%s'\n", arg);
		return 2;
	}
	return reg_write(REG_BOOT_TIMER, (unsigned char)(arg[0] - '0'));
}

int main(int argc, char **argv)
{
	char *end;
	long n;

	if (argc == 3 && strcmp(argv[1], "--mark") == 0)
		return mark(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: mote-exit STATUS | mote-exit --mark 1|2\n");
		return 2;
	}
	n = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || n < 0 || n > 255) {
		fprintf(stderr, "mote-exit: status must be 0..255, not '%s'\n",
			argv[1]);
		return 2;
	}
	/* The console is a UART: let queued output reach the host before
	 * the VM stops, or the last lines are lost. */
	tcdrain(STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	sync();
	reg_write(REG_EXIT, (unsigned char)n);
	reboot(RB_POWER_OFF);
	perror("mote-exit: reboot");
	return 1;
}
