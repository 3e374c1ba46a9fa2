/*
 * Default locations, directory checks and number parsing for the
 * scheduler's daemon and client.
 */
#include "vmm/sched/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int fit(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sched_default_socket(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg && *xdg)
		return fit(snprintf(buf, len, "%s/mote/serve.sock", xdg), len);
	if (geteuid() == 0)
		return fit(snprintf(buf, len, "/run/mote/serve.sock"), len);
	return fit(snprintf(buf, len, "/tmp/mote-%u/serve.sock", (unsigned)geteuid()), len);
}

int sched_client_socket(const char *flag, char *buf, size_t len)
{
	const char *env = getenv("MOTE_SOCKET");

	if (flag)
		return fit(snprintf(buf, len, "%s", flag), len);
	if (env && *env)
		return fit(snprintf(buf, len, "%s", env), len);
	return sched_default_socket(buf, len);
}

int sched_default_state(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		return fit(snprintf(buf, len, "/var/lib/mote/serve"), len);
	if (xdg && *xdg)
		return fit(snprintf(buf, len, "%s/mote/serve", xdg), len);
	if (!home || !*home)
		return -ENOENT;
	return fit(snprintf(buf, len, "%s/.local/state/mote/serve", home), len);
}

int sched_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (fit(snprintf(buf, sizeof(buf), "%s", path), sizeof(buf)))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int sched_socket_dir(const char *sock, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;
	int ret;

	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;    /* "serve.sock" or "/serve.sock": nothing to make */
	*slash = '\0';
	ret = sched_mkdirs(dir, 0700);
	if (ret) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	if (lstat(dir, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022)) {
		snprintf(err, errlen, "%s: not a directory of this user's that only it can write",
			 dir);
		return -EPERM;
	}
	return 0;
}

int sched_parse_mib(const char *s, uint64_t *mib)
{
	unsigned long long v;
	char *end;
	int shift;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': shift = -10; break;
	case '\0': case 'M': case 'm': shift = 0; break;
	case 'G': case 'g': shift = 10; break;
	case 'T': case 't': shift = 20; break;
	default: return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
		return -EINVAL;
	if (shift > 0 && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*mib = shift >= 0 ? v << shift : v >> -shift;
	return *mib ? 0 : -EINVAL;
}

int sched_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sched_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t sched_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}
