/*
 * cgroup v2 leaves, done with plain file writes: cgroupfs takes each
 * value in one write(2) and answers with errno, so every step is "open,
 * write once, name the file if it failed". Directory creation and removal
 * go through hooks so that a tmpdir can stand in for cgroupfs in tests.
 */
#include "vmm/sched/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CG_MOUNT "/sys/fs/cgroup"
#define CG_DAEMON_LEAF "mote-serve"
#define CG_LEAF_PREFIX "vm-"
#define CG_NAME_MAX 64
#define CPU_PERIOD_US 100000
/* The kernel refuses a cpu.max quota below 1 ms. */
#define CPU_QUOTA_MIN_US 1000
/* cg_remove: a VMM that was just killed leaves its cgroup a moment
 * after waitpid returns (the exit is not finished in the cgroup yet). */
#define RMDIR_TRIES 50
#define RMDIR_WAIT_NS 10000000L

struct cg_root {
	char dir[PATH_MAX];        /* the daemon's cgroup directory */
	int (*mkdir)(void *opaque, const char *path);
	int (*rmdir)(void *opaque, const char *path);
	void *opaque;
};

/* "FILE: strerror"; returns -err. */
static int fail(char *why, size_t whylen, int err, const char *file)
{
	snprintf(why, whylen, "%s: %s", file, strerror(err));
	return -err;
}

static int sys_mkdir(void *opaque, const char *path)
{
	return mkdir(path, 0755) < 0 ? -errno : 0;
}

static int sys_rmdir(void *opaque, const char *path)
{
	return rmdir(path) < 0 ? -errno : 0;
}

/* out = dir/name (name NULL or "": dir), or -ENAMETOOLONG. */
static int join(char *out, size_t n, const char *dir, const char *name)
{
	int len = snprintf(out, n, "%s%s%s", dir, name && *name ? "/" : "",
			   name ? name : "");

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* One write, as cgroupfs wants it: a short write is an error too. */
static int write_file(const char *path, const char *text, char *why, size_t whylen)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return fail(why, whylen, errno, path);
	n = write(fd, text, len);
	e = n < 0 ? errno : (size_t)n != len ? EIO : 0;
	close(fd);
	return e ? fail(why, whylen, e, path) : 0;
}

/* The start of a small file (cgroup.controllers, /proc/PID/cgroup),
 * NUL-terminated. */
static int read_small(const char *path, char *buf, size_t n, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t r = 1;

	if (fd < 0)
		return fail(why, whylen, errno, path);
	while (got + 1 < n && r > 0) {
		r = read(fd, buf + got, n - 1 - got);
		if (r < 0 && errno == EINTR)
			r = 1;
		else if (r > 0)
			got += (size_t)r;
	}
	if (r < 0) {
		int e = errno;

		close(fd);
		return fail(why, whylen, e, path);
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

int cg_check_v2(const char *mount, char *why, size_t whylen)
{
	struct statfs st;

	if (statfs(mount, &st) < 0) {
		int e = errno;

		snprintf(why, whylen, "cgroup v2 is not mounted at %s (%s)", mount, strerror(e));
		return -e;
	}
	if (st.f_type == CGROUP2_SUPER_MAGIC)
		return 0;
	/* A tmpfs there holds the v1 hierarchies (and, in hybrid mode, a
	 * cgroup2 without controllers under "unified"). */
	snprintf(why, whylen, "cgroup v2 is not mounted at %s%s", mount,
		 st.f_type == TMPFS_MAGIC ? " (it holds cgroup v1 or hybrid hierarchies)" : "");
	return -EOPNOTSUPP;
}

static const char *next_line(const char *s)
{
	s = strchr(s, '\n');
	return s ? s + 1 : NULL;
}

int cg_read_self(const char *proc_cgroup, char *path, size_t pathlen,
		 char *why, size_t whylen)
{
	char buf[8192];
	const char *line, *end;
	size_t len;
	int r = read_small(proc_cgroup, buf, sizeof(buf), why, whylen);

	if (r)
		return r;
	for (line = buf; line && strncmp(line, "0::", 3) != 0; line = next_line(line))
		;
	if (!line || line[3] != '/') {
		snprintf(why, whylen, "%s: no cgroup v2 line (\"0::/...\")", proc_cgroup);
		return -ENOENT;
	}
	line += 3;
	end = strchrnul(line, '\n');
	len = (size_t)(end - line);
	if (len >= pathlen) {
		snprintf(why, whylen, "%s: cgroup path too long", proc_cgroup);
		return -ENAMETOOLONG;
	}
	memcpy(path, line, len);
	path[len] = '\0';
	return 0;
}

/* Delegation, as systemd hands it out: the directory and the two files
 * the daemon writes are ours to write. */
static int check_writable(const char *dir, char *why, size_t whylen)
{
	static const char *const files[] = { "", "cgroup.procs", "cgroup.subtree_control" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		int e;

		if (join(path, sizeof(path), dir, files[i]))
			return fail(why, whylen, ENAMETOOLONG, dir);
		if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0)
			continue;
		e = errno;
		if (e != EACCES && e != EPERM && e != EROFS)
			return fail(why, whylen, e, path);
		snprintf(why, whylen, "%s is not writable: not delegated", path);
		return -e;
	}
	return 0;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static int check_controllers(const char *dir, char *why, size_t whylen)
{
	static const char *const need[] = { "cpu", "memory", "pids" };
	char path[PATH_MAX], list[1024], missing[32] = "";
	int r;

	if (join(path, sizeof(path), dir, "cgroup.controllers"))
		return fail(why, whylen, ENAMETOOLONG, dir);
	r = read_small(path, list, sizeof(list), why, whylen);
	if (r)
		return r;
	for (size_t i = 0; i < sizeof(need) / sizeof(*need); i++)
		if (!has_word(list, need[i]))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", *missing ? ", " : "", need[i]);
	if (!*missing)
		return 0;
	snprintf(why, whylen, "controllers cpu, memory, pids not all available in %s (missing %s)",
		 path, missing);
	return -EOPNOTSUPP;
}

/* Into a leaf of its own, then the controllers for the children: the
 * order cgroup v2's "no internal processes" rule asks for. */
static int take_subtree(struct cg_root *r, pid_t pid, char *why, size_t whylen)
{
	char leaf[PATH_MAX], path[PATH_MAX], num[24];
	int e;

	if (join(leaf, sizeof(leaf), r->dir, CG_DAEMON_LEAF) ||
	    join(path, sizeof(path), leaf, "cgroup.procs"))
		return fail(why, whylen, ENAMETOOLONG, r->dir);
	e = r->mkdir(r->opaque, leaf);
	if (e && e != -EEXIST)
		return fail(why, whylen, -e, leaf);
	snprintf(num, sizeof(num), "%d\n", (int)pid);
	e = write_file(path, num, why, whylen);
	if (e)
		return e;
	if (join(path, sizeof(path), r->dir, "cgroup.subtree_control"))
		return fail(why, whylen, ENAMETOOLONG, r->dir);
	/* EBUSY here: other processes are still in the daemon's cgroup. */
	return write_file(path, "+cpu +memory +pids\n", why, whylen);
}

struct cg_root *cg_open_at(const struct cg_env *env, char *why, size_t whylen)
{
	struct cg_root *r = calloc(1, sizeof(*r));
	const char *self = strcmp(env->self, "/") == 0 ? "" : env->self;

	if (!r) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	r->mkdir = env->mkdir ? env->mkdir : sys_mkdir;
	r->rmdir = env->rmdir ? env->rmdir : sys_rmdir;
	r->opaque = env->opaque;
	if (env->self[0] != '/') {
		snprintf(why, whylen, "%s: not an absolute cgroup path", env->self);
	} else if (join(r->dir, sizeof(r->dir), env->mount, self + (*self == '/'))) {
		snprintf(why, whylen, "%s%s: path too long", env->mount, env->self);
	} else if (!check_writable(r->dir, why, whylen) &&
		   !check_controllers(r->dir, why, whylen) &&
		   !take_subtree(r, env->pid, why, whylen)) {
		return r;
	}
	free(r);
	return NULL;
}

struct cg_root *cg_open(char *why, size_t whylen)
{
	char self[PATH_MAX];
	struct cg_env env = { .mount = CG_MOUNT, .self = self, .pid = getpid() };

	if (cg_check_v2(CG_MOUNT, why, whylen) ||
	    cg_read_self("/proc/self/cgroup", self, sizeof(self), why, whylen))
		return NULL;
	return cg_open_at(&env, why, whylen);
}

/* out = the leaf's directory (file NULL) or a file in it. */
static int leaf_path(const struct cg_root *r, const char *name, const char *file,
		     char *out, size_t n, char *why, size_t whylen)
{
	size_t len = name ? strlen(name) : 0;
	char rel[NAME_MAX + 1];

	if (len < 1 || len > CG_NAME_MAX ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len) {
		snprintf(why, whylen, "cgroup leaf name \"%s\" is not 1 to %d characters of "
			 "A-Z, a-z, 0-9, '.', '_', '-'", name ? name : "", CG_NAME_MAX);
		return -EINVAL;
	}
	/* rel is at most "vm-" + 64 + "/" + the longest file name we use. */
	snprintf(rel, sizeof(rel), CG_LEAF_PREFIX "%s%s%s", name, file ? "/" : "",
		 file ? file : "");
	if (join(out, n, r->dir, rel))
		return fail(why, whylen, ENAMETOOLONG, r->dir);
	return 0;
}

static int write_leaf(struct cg_root *r, const char *name, const char *file,
		      const char *text, char *why, size_t whylen)
{
	char path[PATH_MAX];
	int e = leaf_path(r, name, file, path, sizeof(path), why, whylen);

	return e ? e : write_file(path, text, why, whylen);
}

/* memory.swap.max exists only with swap accounting; without it there is
 * no swap to forbid. */
static int write_swap(struct cg_root *r, const char *name, char *why, size_t whylen)
{
	char path[PATH_MAX];
	int e = leaf_path(r, name, "memory.swap.max", path, sizeof(path), why, whylen);

	if (e)
		return e;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : fail(why, whylen, errno, path);
	return write_file(path, "0\n", why, whylen);
}

static void limit_text(char *buf, size_t n, uint64_t v)
{
	if (v)
		snprintf(buf, n, "%llu\n", (unsigned long long)v);
	else
		snprintf(buf, n, "max\n");
}

static int write_limits(struct cg_root *r, const char *name, const struct cg_limits *l,
			char *why, size_t whylen)
{
	char cpu[48], mem[24], pids[24];
	int e;

	if (l->cpus > 0) {
		uint64_t q = (uint64_t)(l->cpus * CPU_PERIOD_US + 0.5);

		if (q < CPU_QUOTA_MIN_US)
			q = CPU_QUOTA_MIN_US;
		snprintf(cpu, sizeof(cpu), "%llu %d\n", (unsigned long long)q, CPU_PERIOD_US);
	} else {
		snprintf(cpu, sizeof(cpu), "max %d\n", CPU_PERIOD_US);
	}
	limit_text(mem, sizeof(mem), l->mem_bytes);
	limit_text(pids, sizeof(pids), l->pids);
	e = write_leaf(r, name, "cpu.max", cpu, why, whylen);
	if (!e)
		e = write_leaf(r, name, "memory.max", mem, why, whylen);
	if (!e)
		e = write_leaf(r, name, "pids.max", pids, why, whylen);
	if (!e)
		e = write_swap(r, name, why, whylen);
	return e;
}

int cg_create(struct cg_root *r, const char *name, const struct cg_limits *l,
	      char *why, size_t whylen)
{
	char dir[PATH_MAX];
	int e = leaf_path(r, name, NULL, dir, sizeof(dir), why, whylen);
	bool made;

	if (e)
		return e;
	/* !(x >= 0) also catches NaN; the upper bound keeps the quota an
	 * exact integer well inside what cpu.max takes. */
	if (!(l->cpus >= 0) || l->cpus > 1e6) {
		snprintf(why, whylen, "%s/cpu.max: %g CPUs is out of range", dir, l->cpus);
		return -EINVAL;
	}
	e = r->mkdir(r->opaque, dir);
	if (e && e != -EEXIST)
		return fail(why, whylen, -e, dir);
	made = !e;
	e = write_limits(r, name, l, why, whylen);
	/* A leaf without its limits must not be used: take back a new one. */
	if (e && made)
		r->rmdir(r->opaque, dir);
	return e;
}

int cg_attach(struct cg_root *r, const char *name, pid_t pid, char *why, size_t whylen)
{
	char num[24];

	snprintf(num, sizeof(num), "%d\n", (int)pid);
	return write_leaf(r, name, "cgroup.procs", num, why, whylen);
}

int cg_remove(struct cg_root *r, const char *name, char *why, size_t whylen)
{
	const struct timespec wait = { 0, RMDIR_WAIT_NS };
	char dir[PATH_MAX];
	int e = leaf_path(r, name, NULL, dir, sizeof(dir), why, whylen);

	if (e)
		return e;
	for (int i = 1; (e = r->rmdir(r->opaque, dir)) == -EBUSY && i < RMDIR_TRIES; i++)
		nanosleep(&wait, NULL);
	if (!e || e == -ENOENT)
		return 0;
	return fail(why, whylen, -e, dir);
}

void cg_close(struct cg_root *r)
{
	DIR *d;
	struct dirent *de;

	if (!r)
		return;
	d = opendir(r->dir);
	while (d && (de = readdir(d))) {
		char path[PATH_MAX];

		/* A busy leaf (a VM still running) stays; so does anything not
		 * ours. */
		if (strncmp(de->d_name, CG_LEAF_PREFIX, strlen(CG_LEAF_PREFIX)) == 0 &&
		    !join(path, sizeof(path), r->dir, de->d_name))
			r->rmdir(r->opaque, path);
	}
	if (d)
		closedir(d);
	free(r);
}
