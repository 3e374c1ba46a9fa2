/*
 * The daemon: an AF_UNIX socket of its own, HTTP/1.1 on it through
 * libmicrohttpd, and one poll loop for HTTP, signals (a signalfd for
 * SIGCHLD, SIGTERM, SIGINT, SIGHUP) and the scheduler's timers.
 *
 * libmicrohttpd runs in "external" mode (MHD_run from this loop, its one
 * epoll fd in our poll set), not with its own thread: then every request,
 * every child's exit and every timer is handled on one thread, one after
 * the other, and the scheduler's state needs no lock at all. A request
 * does little (a database row, a fork), so nothing waits long behind one.
 * GET /jobs/ID/wait is a long poll: the connection is suspended until the
 * job ends and resumed from the core's on_end hook.
 */
#include "vmm/sched/sched.h"
#include "vmm/sched/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A config is at most 4 MiB (libmote's cap); the rest of a request is
 * small. */
#define BODY_MAX ((4u << 20) + (64u << 10))
#define LOG_CHUNK_MAX (1u << 20)

struct waiter {
	struct MHD_Connection *conn;
	uint64_t id;
};

struct server {
	struct serve_cfg cfg;
	struct sched *core;
	struct MHD_Daemon *mhd;
	int sigfd;
	ino_t sock_ino;
	struct waiter *w;
	size_t nw, capw;
};

/* Per request: the body as it arrives. */
struct req {
	char *body;
	size_t len;
	bool too_big;
	bool suspended;
};

/* ---- replies ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;      /* out of memory: drop the connection */
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned code, char *json)
{
	return reply(c, code, "application/json", json, json ? strlen(json) : 0);
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code, const char *msg)
{
	json_t *j = json_pack("{ss}", "error", msg);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return reply_json(c, code, text);
}

/* ---- /jobs/ID/wait: long poll ---- */

static int add_waiter(struct server *sv, struct MHD_Connection *c, uint64_t id)
{
	if (sv->nw == sv->capw) {
		size_t cap = sv->capw ? sv->capw * 2 : 16;
		struct waiter *w = realloc(sv->w, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		sv->w = w;
		sv->capw = cap;
	}
	sv->w[sv->nw++] = (struct waiter){ c, id };
	return 0;
}

/* The core's hook: job id ended, wake those waiting for it (id 0: all). */
static void wake_waiters(void *opaque, uint64_t id)
{
	struct server *sv = opaque;

	for (size_t i = sv->nw; i-- > 0;) {
		if (id && sv->w[i].id != id)
			continue;
		MHD_resume_connection(sv->w[i].conn);
		sv->w[i] = sv->w[--sv->nw];
	}
}

static enum MHD_Result get_wait(struct server *sv, struct MHD_Connection *c, struct req *rq,
				uint64_t id)
{
	int ended = sched_job_ended(sv->core, id), err;

	rq->suspended = false;
	if (ended < 0)
		return reply_error(c, ended == -ENOENT ? MHD_HTTP_NOT_FOUND : 500,
				   ended == -ENOENT ? "no such job" : strerror(-ended));
	if (ended)
		return reply_json(c, MHD_HTTP_OK, sched_job_json(sv->core, id, &err));
	if (sched_stopping(sv->core))
		return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the scheduler is stopping");
	if (add_waiter(sv, c, id))
		return MHD_NO;
	rq->suspended = true;
	MHD_suspend_connection(c);
	return MHD_YES;
}

/* ---- /jobs/ID/logs ---- */

static uint64_t query_u64(struct MHD_Connection *c, const char *key, uint64_t dflt)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return dflt;
	n = strtoull(v, &end, 10);
	return *end ? dflt : n;
}

static bool query_flag(struct MHD_Connection *c, const char *key)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);

	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || !*v);
}

/* The console from ?offset=N, at most ?limit=M bytes (1 MiB). Headers say
 * where the next read starts and whether the job had ended before this
 * read (then an empty answer means there is no more, ever). */
static enum MHD_Result get_logs(struct server *sv, struct MHD_Connection *c, uint64_t id)
{
	uint64_t off = query_u64(c, "offset", 0), lim = query_u64(c, "limit", LOG_CHUNK_MAX);
	int ended = sched_job_ended(sv->core, id), fd = -1;
	char dir[PATH_MAX], path[PATH_MAX + 16], hdr[32];
	struct MHD_Response *r;
	enum MHD_Result ret;
	ssize_t n = 0;
	char *buf;

	if (ended < 0)
		return reply_error(c, ended == -ENOENT ? MHD_HTTP_NOT_FOUND : 500, "no such job");
	lim = lim && lim < LOG_CHUNK_MAX ? lim : LOG_CHUNK_MAX;
	buf = malloc(lim ? lim : 1);
	if (!buf || sched_job_dir(sv->core, id, dir, sizeof(dir)))
		return free(buf), MHD_NO;
	snprintf(path, sizeof(path), "%s/console.log", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		n = pread(fd, buf, lim, (off_t)off);
	if (fd >= 0)
		close(fd);
	n = n < 0 ? 0 : n;
	r = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_FREE);
	if (!r)
		return free(buf), MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	snprintf(hdr, sizeof(hdr), "%" PRIu64, off + (uint64_t)n);
	MHD_add_response_header(r, "X-Mote-Offset", hdr);
	MHD_add_response_header(r, "X-Mote-Ended", ended ? "1" : "0");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- the other endpoints ---- */

static enum MHD_Result post_jobs(struct server *sv, struct MHD_Connection *c, struct req *rq)
{
	char err[1024] = "", *json;
	uint64_t id;
	int ret;

	if (rq->too_big)
		return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the request is too large");
	ret = sched_submit(sv->core, rq->body ? rq->body : "", rq->len, &id, err, sizeof(err));
	if (ret == -EINVAL || ret == -E2BIG)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, err);
	if (ret == -EAGAIN)
		return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, err);
	if (ret)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, *err ? err : strerror(-ret));
	if (asprintf(&json, "{\"id\":%" PRIu64 "}", id) < 0)
		return MHD_NO;
	return reply_json(c, MHD_HTTP_CREATED, json);
}

static enum MHD_Result post_kill(struct server *sv, struct MHD_Connection *c, uint64_t id)
{
	char err[256] = "";
	int ret = sched_kill(sv->core, id, err, sizeof(err));

	if (ret == -ENOENT)
		return reply_error(c, MHD_HTTP_NOT_FOUND, err);
	if (ret == -EALREADY)
		return reply_error(c, MHD_HTTP_CONFLICT, err);
	if (ret)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-ret));
	return reply_json(c, MHD_HTTP_OK, sched_job_json(sv->core, id, &ret));
}

/* {"deadline_s": S}: SIGTERM what runs S seconds from now; no body (or
 * null) waits for ever. */
static enum MHD_Result post_drain(struct server *sv, struct MHD_Connection *c, struct req *rq)
{
	json_t *j = rq->len ? json_loadb(rq->body, rq->len, 0, NULL) : json_object();
	json_t *d = json_object_get(j, "deadline_s");
	double deadline = -1;

	if (!json_is_object(j) || (d && !json_is_null(d) && !json_is_number(d)) ||
	    (json_is_number(d) && json_number_value(d) < 0)) {
		json_decref(j);
		return reply_error(c, MHD_HTTP_BAD_REQUEST,
				   "the body must be {\"deadline_s\": SECONDS} (>= 0) or empty");
	}
	if (json_is_number(d))
		deadline = json_number_value(d);
	json_decref(j);
	return reply_json(c, MHD_HTTP_OK, sched_drain_json(sv->core,
							   sched_drain(sv->core, deadline)));
}

static enum MHD_Result job_route(struct server *sv, struct MHD_Connection *c, struct req *rq,
				 const char *url, bool get, bool post)
{
	char *rest;
	uint64_t id = strtoull(url, &rest, 10);
	int err;

	if (!id || url[0] < '0' || url[0] > '9')
		return reply_error(c, MHD_HTTP_NOT_FOUND, "no such job");
	if (get && !*rest) {
		char *json = sched_job_json(sv->core, id, &err);

		return err == -ENOENT ? reply_error(c, MHD_HTTP_NOT_FOUND, "no such job")
				      : reply_json(c, MHD_HTTP_OK, json);
	}
	if (get && strcmp(rest, "/wait") == 0)
		return get_wait(sv, c, rq, id);
	if (get && strcmp(rest, "/logs") == 0)
		return get_logs(sv, c, id);
	if (post && strcmp(rest, "/kill") == 0)
		return post_kill(sv, c, id);
	if (!*rest || !strcmp(rest, "/wait") || !strcmp(rest, "/logs") || !strcmp(rest, "/kill"))
		return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

static enum MHD_Result route(struct server *sv, struct MHD_Connection *c, struct req *rq,
			     const char *url, const char *method)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

	if (strncmp(url, "/jobs/", 6) == 0)
		return job_route(sv, c, rq, url + 6, get, post);
	if (strcmp(url, "/jobs") == 0 && get)
		return reply_json(c, MHD_HTTP_OK, sched_jobs_json(sv->core, query_flag(c, "all")));
	if (strcmp(url, "/jobs") == 0 && post)
		return post_jobs(sv, c, rq);
	if (strcmp(url, "/drain") == 0 && post)
		return post_drain(sv, c, rq);
	if (strcmp(url, "/flavors") == 0 && get)
		return reply_json(c, MHD_HTTP_OK, sched_flavors_json(sv->core));
	if (strcmp(url, "/metrics") == 0 && get) {
		char *text = sched_metrics(sv->core);

		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", text,
			     text ? strlen(text) : 0);
	}
	if (!strcmp(url, "/jobs") || !strcmp(url, "/drain") || !strcmp(url, "/flavors") ||
	    !strcmp(url, "/metrics"))
		return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

static void append_body(struct req *rq, const char *data, size_t n)
{
	char *b;

	if (rq->too_big || rq->len + n > BODY_MAX) {
		rq->too_big = true;
		return;
	}
	b = realloc(rq->body, rq->len + n + 1);
	if (!b) {
		rq->too_big = true;
		return;
	}
	memcpy(b + rq->len, data, n);
	rq->len += n;
	b[rq->len] = '\0';
	rq->body = b;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct req *rq = *con_cls;

	if (!rq) {      /* headers only: answer once the body is in */
		rq = calloc(1, sizeof(*rq));
		*con_cls = rq;
		return rq ? MHD_YES : MHD_NO;
	}
	if (*size) {
		append_body(rq, data, *size);
		*size = 0;
		return MHD_YES;
	}
	return route(cls, c, rq, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq)
		free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	fputs("mote serve: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- the socket ---- */

static int unix_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

/* A socket file at path: a live daemon's (refuse), a dead one's (remove),
 * or something else (refuse). */
static int clear_old_socket(const char *path, const struct sockaddr_un *a, char *err,
			    size_t errlen)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0 ? -EADDRINUSE : -errno;
	close(fd);
	if (ret == -EADDRINUSE) {
		snprintf(err, errlen, "another mote serve answers on %s", path);
		return ret;
	}
	if (ret != -ECONNREFUSED) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	return unlink(path) < 0 ? -errno : 0;      /* stale: its daemon died */
}

/* Bound, listening, mode 0600 from the start (umask around bind), so no
 * other user ever gets to connect. */
static int listen_socket(struct server *sv, char *err, size_t errlen)
{
	const char *path = sv->cfg.socket;
	struct sockaddr_un a;
	struct stat st;
	mode_t old;
	int fd, ret;

	if (unix_addr(path, &a)) {
		snprintf(err, errlen, "%s: path too long for a socket", path);
		return -ENAMETOOLONG;
	}
	ret = sched_socket_dir(path, err, errlen);
	if (!ret)
		ret = clear_old_socket(path, &a, err, errlen);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (ret == 0 && chmod(path, 0600) == 0 && stat(path, &st) == 0 && listen(fd, 64) == 0) {
		sv->sock_ino = st.st_ino;
		return fd;
	}
	ret = -errno;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	close(fd);
	return ret;
}

/* Remove the socket if it is still ours. */
static void unlink_socket(const struct server *sv)
{
	struct stat st;

	if (sv->sock_ino && lstat(sv->cfg.socket, &st) == 0 && st.st_ino == sv->sock_ino)
		unlink(sv->cfg.socket);
}

/* ---- signals and the loop ---- */

static int watch_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	/* A client that hangs up must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void on_signals(struct server *sv)
{
	struct signalfd_siginfo si;

	while (read(sv->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			sched_reap(sv->core);
		} else {
			fprintf(stderr, "mote serve: %s: stopping the VMs\n",
				strsignal((int)si.ssi_signo));
			sched_stop(sv->core);
		}
	}
}

static int poll_once(struct server *sv, int timeout_ms)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(sv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd p[2] = { { .fd = info ? info->epoll_fd : -1, .events = POLLIN },
			       { .fd = sv->sigfd, .events = POLLIN } };
	MHD_UNSIGNED_LONG_LONG mt;

	if (MHD_get_timeout(sv->mhd, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)timeout_ms)
		timeout_ms = (int)mt;
	if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	if (p[1].revents & POLLIN)
		on_signals(sv);
	MHD_run(sv->mhd);
	return 0;
}

static int serve_loop(struct server *sv)
{
	int ret = 0;

	while (!ret && !sched_done(sv->core)) {
		ret = poll_once(sv, sched_timeout_ms(sv->core));
		sched_tick(sv->core);
	}
	/* Answer whoever still waits (for a job that stays queued), then
	 * give the answers a moment to leave. */
	wake_waiters(sv, 0);
	for (int i = 0; i < 10 && !ret; i++)
		ret = poll_once(sv, 20);
	return ret;
}

static int start_http(struct server *sv, int fd, char *err, size_t errlen)
{
	sv->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
				   0, NULL, NULL, on_request, sv,
				   /* first, so that every message goes through it */
				   MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, sv,
				   MHD_OPTION_LISTEN_SOCKET, fd,
				   MHD_OPTION_NOTIFY_COMPLETED, on_completed, sv,
				   MHD_OPTION_CONNECTION_LIMIT, 256u,
				   MHD_OPTION_CONNECTION_TIMEOUT, 60u,
				   MHD_OPTION_END);
	if (!sv->mhd) {
		snprintf(err, errlen, "cannot start the HTTP server on %s", sv->cfg.socket);
		return -EIO;
	}
	return 0;
}

static void announce(const struct server *sv)
{
	const struct place_host *h = &sv->cfg.core.host;

	fprintf(stderr, "mote serve: listening on %s; %u CPUs x %g, %llu MiB (%llu reserved)"
		" x %g, %u booting at once; state in %s\n", sv->cfg.socket, h->cpus,
		h->cpu_ratio, (unsigned long long)h->mem_mib, (unsigned long long)h->reserve_mib,
		h->mem_ratio, h->max_booting, sv->cfg.core.state_dir);
}

/* Build in order, unwind in reverse. */
static int run(struct server *sv, char *err, size_t errlen)
{
	int fd, ret;

	sv->cfg.core.on_end = wake_waiters;
	sv->cfg.core.opaque = sv;
	sv->sigfd = watch_signals();
	if (sv->sigfd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -errno;
	}
	ret = sched_open(&sv->cfg.core, &sv->core, err, errlen);
	if (ret)
		goto out_sig;
	fd = ret = listen_socket(sv, err, errlen);
	if (ret < 0)
		goto out_core;
	ret = start_http(sv, fd, err, errlen);
	if (ret) {
		close(fd);
		goto out_sock;
	}
	announce(sv);
	ret = serve_loop(sv);
	if (ret)
		snprintf(err, errlen, "poll: %s", strerror(-ret));
	MHD_stop_daemon(sv->mhd);     /* closes the listening socket */
out_sock:
	unlink_socket(sv);
out_core:
	sched_close(sv->core);
out_sig:
	close(sv->sigfd);
	free(sv->w);
	return ret;
}

int server_main(int argc, char **argv)
{
	struct server *sv = calloc(1, sizeof(*sv));
	char err[1024] = "";
	int ret;

	if (!sv) {
		fprintf(stderr, "mote serve: out of memory\n");
		return 1;
	}
	ret = serve_parse(argc, argv, &sv->cfg, err, sizeof(err));
	if (ret || sv->cfg.help) {
		if (ret)
			fprintf(stderr, "%s\n", err);
		else
			sched_help(stdout);
		free(sv);
		return ret;
	}
	umask(077);     /* configs, logs and the database are the user's alone */
	ret = run(sv, err, sizeof(err));
	if (ret)
		fprintf(stderr, "mote serve: %s\n", err);
	free(sv);
	return ret ? 1 : 0;
}
