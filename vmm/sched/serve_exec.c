/*
 * `mote serve` is a program of its own, mote-serve: the daemon's libraries
 * (libmicrohttpd with gnutls, SQLite) are then mapped by the daemon alone,
 * not by every `mote run`, whose memory overhead they would be. mote execs
 * it with the same arguments, so the daemon keeps mote's pid and command
 * line, and hands it a descriptor of itself: the VMs the daemon starts run
 * this very mote (see serve_opts.c), even if it is replaced on disk since.
 */
#include "vmm/sched/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where mote-serve is, relative to mote's directory: beside it in the
 * build, PREFIX/libexec/mote beside PREFIX/bin in an install (make
 * install), wherever that prefix is. */
static const char *const places[] = { "", "../libexec/mote/" };

/* dir (with its slash) of the running mote; -errno. */
static int own_dir(char *dir, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", dir, len - 1);
	char *slash;

	if (n < 0)
		return -errno;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash)
		return -ENOENT;
	slash[1] = '\0';
	return 0;
}

int serve_exec(int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX], tried[2 * PATH_MAX + 8] = "", fdnum[16];
	int fd, err = own_dir(dir, sizeof(dir));

	if (err) {
		fprintf(stderr, "mote serve: /proc/self/exe: %s\n", strerror(-err));
		return 1;
	}
	/* Not close-on-exec: the daemon's way back to this mote. */
	fd = open("/proc/self/exe", O_PATH);
	if (fd < 0) {
		fprintf(stderr, "mote serve: /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	setenv(SERVE_EXE_FD_ENV, fdnum, 1);
	err = ENOENT;
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]) && err == ENOENT; i++) {
		int n = snprintf(path, sizeof(path), "%s%s" SERVE_PROGRAM, dir, places[i]);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			err = ENAMETOOLONG;
			break;
		}
		execv(path, argv);
		err = errno;
		n = (int)strlen(tried);
		snprintf(tried + n, sizeof(tried) - (size_t)n, "%s%s", i ? " nor " : "", path);
	}
	if (err == ENOENT)
		fprintf(stderr, "mote serve: the daemon is missing: neither %s exists\n", tried);
	else
		fprintf(stderr, "mote serve: %s: %s\n", path, strerror(err));
	close(fd);
	return 1;
}
