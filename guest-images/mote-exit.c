/*
 * mote-exit N: end the VM with status N (0..255).
 * mote-exit --mark CODE: write CODE (1: init is up, 2: the job starts) to
 * mote's boot timer (PORT_BOOT_TIMER), which records when it happened.
 *
 * Under mote, a one-byte write to the exit port (PORT_EXIT in
 * boot/x86/layout.h) stops the VM and becomes mote's exit status. Anywhere
 * else (QEMU, real hardware) the write goes nowhere, so fall back to a
 * plain power-off. Built static into the guest initramfs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>

#define MOTE_EXIT_PORT 0x501
#define MOTE_BOOT_TIMER_PORT 0x502

/* Under QEMU or on hardware the write goes nowhere, which is fine. */
static int mark(const char *arg)
{
	if (strcmp(arg, "1") != 0 && strcmp(arg, "2") != 0) {
		fprintf(stderr, "mote-exit: --mark wants 1 or 2, not '%s'\n", arg);
		return 2;
	}
	if (ioperm(MOTE_BOOT_TIMER_PORT, 1, 1) != 0) {
		perror("mote-exit: ioperm");
		return 1;
	}
	outb((unsigned char)(arg[0] - '0'), MOTE_BOOT_TIMER_PORT);
	return 0;
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
	if (ioperm(MOTE_EXIT_PORT, 1, 1) == 0)
		outb((unsigned char)n, MOTE_EXIT_PORT);
	else
		perror("mote-exit: ioperm");
	reboot(RB_POWER_OFF);
	perror("mote-exit: reboot");
	return 1;
}
