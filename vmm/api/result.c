/* The run's result as JSON (jansson), and the atomic result file. */
#include "vmm/api/result.h"
#include "vmm/base/stop.h"
#include "vmm/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef MOTE_VERSION
#define MOTE_VERSION "unknown"
#endif

/* A time, or null for -1 (never reached, not measured). */
static json_t *when(int64_t v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *timeline(const struct mote_timeline *t)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "vm_built_ms", when(t->vm_built_ms),
			 "first_run_ms", when(t->first_run_ms),
			 "first_console_ms", when(t->first_console_ms),
			 "kernel_init_ms", when(t->kernel_init_ms),
			 "guest_ready_ms", when(t->guest_ready_ms),
			 "job_start_ms", when(t->job_start_ms),
			 "job_end_ms", when(t->job_end_ms));
}

/* Keys in a fixed order, so the file reads the same way every time. */
static json_t *to_object(const struct mote_result *res)
{
	return json_pack("{s:i, s:s, s:s, s:o, s:I, s:I, s:s, s:o, s:o}",
			 "status", res->status,
			 "reason", stop_reason_name((enum stop_reason)res->reason),
			 "message", res->message,
			 "boot_ms", when(res->boot_ms),
			 "total_ms", (json_int_t)res->total_ms,
			 "peak_rss_kib", (json_int_t)res->peak_rss_kib,
			 "mote_version", MOTE_VERSION,
			 "timeline", timeline(&res->timeline),
			 "startup_cpu_us", when(res->timeline.startup_cpu_us));
}

char *result_json(const struct mote_result *res)
{
	json_t *o = to_object(res);
	char *text;

	if (!o)
		return NULL;
	text = json_dumps(o, JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A new file beside path: "<path>.tmp-<pid>-<n>", never an existing one. */
static int open_temp(const char *path, char *tmp, size_t tmplen)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (unsigned i = 0; i < 100; i++) {
		int n = snprintf(tmp, tmplen, "%s.tmp-%ld-%lx", path, (long)getpid(),
				 (unsigned long)ts.tv_nsec + i);
		if (n < 0 || (size_t)n >= tmplen)
			return -ENAMETOOLONG;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	size_t tmplen = strlen(path) + 64;
	char *tmp = malloc(tmplen);
	int fd, r;

	if (!tmp)
		return -ENOMEM;
	fd = open_temp(path, tmp, tmplen);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", log_str(path).s, strerror(-fd));
		free(tmp);
		return fd;
	}
	r = write_all(fd, text, strlen(text));
	if (!r)
		r = write_all(fd, "\n", 1);
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		snprintf(err, errlen, "%s: %s", log_str(path).s, strerror(-r));
		unlink(tmp);
	}
	free(tmp);
	return r;
}

int result_write(const char *path, const struct mote_result *res, char *err, size_t errlen)
{
	char *text = result_json(res);
	int r;

	if (!text) {
		snprintf(err, errlen, "%s: out of memory", log_str(path).s);
		return -ENOMEM;
	}
	r = write_file(path, text, err, errlen);
	free(text);
	return r;
}
