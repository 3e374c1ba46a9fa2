/*
 * libmote's VM half. A struct mote_vm is built (vm_create) when started
 * and run (vm_run) on a thread of its own, which blocks every signal so
 * the program's signal handling stays the program's. When the run ends
 * the thread releases the VM, fills in the result, writes the result file
 * and makes the done eventfd readable.
 *
 * A VM moves NEW -> STARTING -> LIVE -> ENDING -> ENDED (or STARTING ->
 * ENDED when it cannot be built). Stops asked for before LIVE are kept
 * and applied once the VM runs; after LIVE they are ignored.
 */
#include "vmm/api/mote.h"
#include "vmm/api/libmote_priv.h"
#include "vmm/base/efd.h"
#include "vmm/base/log.h"
#include "vmm/api/result.h"
#include "vmm/base/stop.h"
#include "vmm/core/seccomp.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The public reasons are the core's stop reasons, by value. */
_Static_assert((int)MOTE_REASON_NONE == STOP_NONE &&
	       (int)MOTE_REASON_GUEST_EXIT == STOP_GUEST_EXIT &&
	       (int)MOTE_REASON_POWEROFF == STOP_POWEROFF &&
	       (int)MOTE_REASON_REBOOT == STOP_REBOOT &&
	       (int)MOTE_REASON_TIMEOUT == STOP_TIMEOUT &&
	       (int)MOTE_REASON_SIGNAL == STOP_SIGNAL &&
	       (int)MOTE_REASON_ERROR == STOP_ERROR &&
	       (int)MOTE_REASON_STOPPED == STOP_REQUESTED,
	       "enum mote_reason must match enum stop_reason");
_Static_assert(MOTE_STATUS_NO_JOB_STATUS == VM_STATUS_NO_JOB_STATUS,
	       "the public status for a job that never reported is the core's");

enum vm_state { ST_NEW, ST_STARTING, ST_LIVE, ST_ENDING, ST_ENDED };

struct stop_req {
	enum stop_reason why;     /* STOP_NONE: none */
	int status;
	char msg[256];
};

struct mote_vm {
	struct mote_config *cfg;  /* a reference */
	struct vm vm;
	struct vm_io io;
	mote_console_fn console_fn;
	void *console_opaque;
	int done_fd;              /* eventfd, readable once ENDED */
	pthread_t thread;
	bool thread_running;      /* created and not yet joined */
	bool seccomp_caller;      /* filter mote_vm_start's caller too */
	sem_t go;                 /* the runner waits for the caller's filter */
	uint64_t start_ns;

	pthread_mutex_t lock;     /* guards what follows */
	enum vm_state state;
	struct stop_req pending;  /* a stop asked for before LIVE */
	struct mote_result res;   /* valid once ENDED */
};

const char *mote_reason_name(enum mote_reason reason)
{
	return stop_reason_name((enum stop_reason)reason);
}

char *mote_result_to_json(const struct mote_result *res)
{
	return res ? result_json(res) : NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum vm_state get_state(struct mote_vm *m)
{
	pthread_mutex_lock(&m->lock);
	enum vm_state s = m->state;
	pthread_mutex_unlock(&m->lock);
	return s;
}

struct mote_vm *mote_vm_create(struct mote_config *cfg, char *err, size_t errlen)
{
	struct mote_vm *m;

	if (!cfg) {
		if (err && errlen)
			snprintf(err, errlen, "no config given");
		return NULL;
	}
	if (mote_config_validate(cfg, err, errlen))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m)
		m->done_fd = efd_new();
	if (!m || m->done_fd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", m ? strerror(errno) : "out of memory");
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	sem_init(&m->go, 0, 0);
	m->io = (struct vm_io){ .in_fd = -1, .out_fd = STDOUT_FILENO };
	libmote_config_ref(cfg);
	m->cfg = cfg;
	return m;
}

static void console_adapter(void *opaque, const uint8_t *buf, size_t len)
{
	struct mote_vm *m = opaque;

	m->console_fn(m->console_opaque, (const char *)buf, len);
}

int mote_vm_set_console_callback(struct mote_vm *m, mote_console_fn fn, void *opaque)
{
	if (!m)
		return -EINVAL;
	if (get_state(m) != ST_NEW)
		return -EBUSY;
	m->console_fn = fn;
	m->console_opaque = opaque;
	m->io.sink = fn ? console_adapter : NULL;
	m->io.sink_opaque = m;
	return 0;
}

static bool fd_ok(int fd)
{
	return fd == -1 || (fd >= 0 && fcntl(fd, F_GETFD) >= 0);
}

int mote_vm_set_console_fds(struct mote_vm *m, int in_fd, int out_fd)
{
	if (!m)
		return -EINVAL;
	if (!fd_ok(in_fd) || !fd_ok(out_fd))
		return -EBADF;
	if (get_state(m) != ST_NEW)
		return -EBUSY;
	m->io.in_fd = in_fd;
	m->io.out_fd = out_fd;
	return 0;
}

/* A message for reasons that come without one. */
static void default_message(struct mote_result *r)
{
	if (r->reason == MOTE_REASON_GUEST_EXIT)
		snprintf(r->message, sizeof(r->message), "guest exited with status %d",
			 r->status);
	else if (r->reason == MOTE_REASON_POWEROFF)
		snprintf(r->message, sizeof(r->message), "guest powered off");
	else if (r->reason == MOTE_REASON_REBOOT)
		snprintf(r->message, sizeof(r->message), "guest rebooted");
	else
		snprintf(r->message, sizeof(r->message), "%s", mote_reason_name(r->reason));
}

static int64_t ms_since(uint64_t start, uint64_t t)
{
	return t > start ? (int64_t)((t - start) / 1000000) : 0;
}

/* A step's time from the run's start; -1 when it never came. */
static int64_t mark_ms(const struct mote_vm *m, const uint64_t *marks, enum vm_mark k)
{
	return marks && marks[k] ? ms_since(m->start_ns, marks[k]) : -1;
}

static void fill_timeline(const struct mote_vm *m, const uint64_t *marks, int64_t cpu_us,
			  struct mote_result *res)
{
	struct mote_timeline *t = &res->timeline;

	t->vm_built_ms = mark_ms(m, marks, VM_MARK_BUILT);
	t->first_run_ms = mark_ms(m, marks, VM_MARK_FIRST_RUN);
	t->first_console_ms = mark_ms(m, marks, VM_MARK_FIRST_CONSOLE);
	t->kernel_init_ms = mark_ms(m, marks, VM_MARK_KERNEL_INIT);
	t->guest_ready_ms = mark_ms(m, marks, VM_MARK_GUEST_READY);
	t->job_start_ms = mark_ms(m, marks, VM_MARK_JOB_START);
	t->job_end_ms = mark_ms(m, marks, VM_MARK_JOB_END);
	t->startup_cpu_us = cpu_us;
	/* The guest's own word that it is up, else the kernel's line. */
	res->boot_ms = t->guest_ready_ms >= 0 ? t->guest_ready_ms : t->kernel_init_ms;
}

/* --debug: where the time went, one step per line. */
static void show_timeline(const struct mote_timeline *t)
{
	static const char *const names[] = {
		"VM built", "first KVM_RUN", "first console byte", "kernel runs /init",
		"guest ready (boot timer)", "job started", "job reported its status",
	};
	const int64_t at[] = {
		t->vm_built_ms, t->first_run_ms, t->first_console_ms, t->kernel_init_ms,
		t->guest_ready_ms, t->job_start_ms, t->job_end_ms,
	};

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		if (at[i] >= 0)
			log_debug("timeline: %-26s %6lld ms", names[i], (long long)at[i]);
		else
			log_debug("timeline: %-26s      -", names[i]);
	}
	if (t->startup_cpu_us >= 0)
		log_debug("timeline: mote's CPU time from exec to the first KVM_RUN: %lld.%03lld ms",
			  (long long)(t->startup_cpu_us / 1000),
			  (long long)(t->startup_cpu_us % 1000));
}

/* The run is over: record how, write the result file, wake waiters.
 * marks (NULL when the VM was never built) are the core's step times. */
static void record_end(struct mote_vm *m, const struct stop_req *how, const uint64_t *marks,
		       int64_t cpu_us, uint64_t end_ns)
{
	struct mote_result res = { .status = how->status, .boot_ms = -1 };
	const char *path = m->cfg->c.result_path;
	struct rusage ru;

	res.reason = (enum mote_reason)how->why;
	snprintf(res.message, sizeof(res.message), "%s", how->msg);
	if (!res.message[0])
		default_message(&res);
	fill_timeline(m, marks, cpu_us, &res);
	if (m->cfg->c.debug)
		show_timeline(&res.timeline);
	res.total_ms = ms_since(m->start_ns, end_ns);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		res.peak_rss_kib = ru.ru_maxrss;
	if (path) {
		char err[512];
		if (result_write(path, &res, err, sizeof(err)))
			log_err("cannot write the result file: %s", err);
	}
	pthread_mutex_lock(&m->lock);
	m->res = res;
	m->state = ST_ENDED;
	pthread_mutex_unlock(&m->lock);
	efd_signal(m->done_fd);
}

static void *runner(void *opaque)
{
	struct mote_vm *m = opaque;
	struct stop_req how;

	/* A name for ps, /proc and the audit log ("vm-loop"), as vCPUs have. */
	pthread_setname_np(pthread_self(), "vm-loop");
	while (sem_wait(&m->go) < 0)
		;   /* EINTR only, and every signal is blocked here anyway */
	vm_run(&m->vm);
	uint64_t end_ns = now_ns();
	pthread_mutex_lock(&m->lock);
	m->state = ST_ENDING;
	pthread_mutex_unlock(&m->lock);
	how.why = m->vm.st.reason;
	how.status = m->vm.st.status;
	snprintf(how.msg, sizeof(how.msg), "%s", m->vm.st.message);
	uint64_t marks[VM_NMARKS];
	for (int k = 0; k < VM_NMARKS; k++)
		marks[k] = __atomic_load_n(&m->vm.marks[k], __ATOMIC_RELAXED);
	int64_t cpu_us = m->vm.startup_cpu_us;
	/* Released before the result appears, so that by then the console
	 * output is delivered, the console log closed, the drives flushed. */
	vm_release(&m->vm);
	record_end(m, &how, marks, cpu_us, end_ns);
	return NULL;
}

/* A run that ends before the VM is built (or after it failed to be). */
static int end_early(struct mote_vm *m, enum stop_reason why, int status, const char *msg,
		     int r)
{
	struct stop_req how = { .why = why, .status = status };

	snprintf(how.msg, sizeof(how.msg), "%s", msg);
	record_end(m, &how, NULL, -1, now_ns());
	return r;
}

/* Below 2 MiB, so that no transparent huge page backs it (as the vCPU
 * threads', vmm/core/vcpu.c); the event loop and its backends need far
 * less. */
#define RUNNER_STACK_SIZE (1u << 20)

/* The VM's own thread starts with every signal blocked, and so do the
 * vCPU threads it creates (they unblock only the kick signal). */
static int spawn(struct mote_vm *m)
{
	pthread_attr_t attr;
	sigset_t all;
	int r;

	sigfillset(&all);
	r = pthread_attr_init(&attr);
	if (r)
		return -r;
	r = pthread_attr_setsigmask_np(&attr, &all);
	if (!r)
		r = pthread_attr_setstacksize(&attr, RUNNER_STACK_SIZE);
	if (!r)
		r = pthread_create(&m->thread, &attr, runner, m);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	m->thread_running = true;
	return 0;
}

/* From now on stops go to the VM; one asked for earlier goes now. */
static void go_live(struct mote_vm *m)
{
	pthread_mutex_lock(&m->lock);
	m->state = ST_LIVE;
	if (m->pending.why != STOP_NONE)
		vm_request_stop(&m->vm, m->pending.why, m->pending.status, m->pending.msg);
	pthread_mutex_unlock(&m->lock);
}

static bool take_pending(struct mote_vm *m, struct stop_req *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->pending;
	pthread_mutex_unlock(&m->lock);
	return out->why != STOP_NONE;
}

static void request_stop(struct mote_vm *m, enum stop_reason why, int status,
			 const char *msg);

/* The caller's filter (mote_vm_set_seccomp_caller), before the runner
 * may start the guest. A failure stops the VM, which still runs its
 * course and reports why. */
static void filter_caller(struct mote_vm *m)
{
	int r = 0;
	char msg[128];

	if (m->seccomp_caller)
		r = seccomp_apply(SECCOMP_WAITER, m->cfg->c.seccomp);
	if (r) {
		snprintf(msg, sizeof(msg), "loading the seccomp filter of the calling "
			 "thread: %s", strerror(-r));
		request_stop(m, STOP_ERROR, 1, msg);
	}
	sem_post(&m->go);
}

static int setup_signals(struct mote_vm *m)
{
	int r = vm_setup_kick_signal();

	if (r == -EBUSY)
		return end_early(m, STOP_ERROR, 1, "SIGUSR1 has a handler in this program; "
				 "libmote needs it to stop vCPUs", r);
	if (r)
		return end_early(m, STOP_ERROR, 1, "cannot install the SIGUSR1 handler", r);
	if (m->cfg->c.seccomp == CONFIG_SECCOMP_OFF)
		return 0;
	r = seccomp_prepare();
	if (r == -EBUSY)
		return end_early(m, STOP_ERROR, 1, "SIGSYS has a handler in this program; "
				 "libmote's seccomp mode needs its own", r);
	if (r)
		return end_early(m, STOP_ERROR, 1, "cannot install the SIGSYS handler", r);
	return 0;
}

static int build_and_spawn(struct mote_vm *m)
{
	char err[512];
	int r = setup_signals(m);

	if (r)
		return r;
	r = vm_create(&m->vm, &m->cfg->c, &m->io, err, sizeof(err));
	if (r)
		return end_early(m, STOP_ERROR, 1, err, r);
	go_live(m);
	r = spawn(m);
	if (r) {
		pthread_mutex_lock(&m->lock);
		m->state = ST_ENDING;
		pthread_mutex_unlock(&m->lock);
		vm_release(&m->vm);
		snprintf(err, sizeof(err), "cannot create the VM's thread: %s", strerror(-r));
		return end_early(m, STOP_ERROR, 1, err, r);
	}
	filter_caller(m);
	return 0;
}

int mote_vm_start(struct mote_vm *m)
{
	struct stop_req early;

	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	enum vm_state s = m->state;
	if (s == ST_NEW)
		m->state = ST_STARTING;
	pthread_mutex_unlock(&m->lock);
	if (s != ST_NEW)
		return -EALREADY;
	m->start_ns = now_ns();
	if (take_pending(m, &early))
		return end_early(m, early.why, early.status, early.msg, 0);
	return build_and_spawn(m);
}

int mote_vm_wait(struct mote_vm *m)
{
	if (!m)
		return -EINVAL;
	if (m->thread_running) {
		pthread_join(m->thread, NULL);
		m->thread_running = false;
	}
	if (get_state(m) != ST_ENDED)
		return -EINVAL;
	return m->res.status;
}

int mote_vm_run(struct mote_vm *m)
{
	int r = mote_vm_start(m);

	if (r == -EALREADY || r == -EINVAL)
		return r;
	return mote_vm_wait(m);
}

int mote_vm_set_seccomp_caller(struct mote_vm *m, int on)
{
	if (!m)
		return -EINVAL;
	if (get_state(m) != ST_NEW)
		return -EBUSY;
	m->seccomp_caller = on != 0;
	return 0;
}

int mote_vm_fd(const struct mote_vm *m)
{
	return m ? m->done_fd : -EINVAL;
}

static void request_stop(struct mote_vm *m, enum stop_reason why, int status,
			 const char *msg)
{
	pthread_mutex_lock(&m->lock);
	if (m->state == ST_LIVE) {
		vm_request_stop(&m->vm, why, status, msg);
	} else if (m->state < ST_LIVE && m->pending.why == STOP_NONE) {
		m->pending.why = why;
		m->pending.status = status;
		snprintf(m->pending.msg, sizeof(m->pending.msg), "%s", msg);
	}
	pthread_mutex_unlock(&m->lock);
}

void mote_vm_stop(struct mote_vm *m)
{
	if (m)
		request_stop(m, STOP_REQUESTED, MOTE_STATUS_STOPPED,
			     "stopped by mote_vm_stop()");
}

void mote_vm_stop_signal(struct mote_vm *m, int signo)
{
	const char *name = signo > 0 ? sigabbrev_np(signo) : NULL;
	char msg[64];

	if (!m)
		return;
	if (name)
		snprintf(msg, sizeof(msg), "stopped by SIG%s", name);
	else
		snprintf(msg, sizeof(msg), "stopped by signal %d", signo);
	request_stop(m, STOP_SIGNAL, 128 + (signo > 0 && signo < 128 ? signo : 0), msg);
}

int mote_vm_result(const struct mote_vm *cm, struct mote_result *res)
{
	/* The lock is not part of the VM's observable state. */
	struct mote_vm *m = (struct mote_vm *)cm;
	int r = -EBUSY;

	if (!m || !res)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (m->state == ST_ENDED) {
		*res = m->res;
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

void mote_vm_free(struct mote_vm *m)
{
	if (!m)
		return;
	if (m->thread_running) {
		mote_vm_stop(m);
		mote_vm_wait(m);
	}
	close(m->done_fd);
	sem_destroy(&m->go);
	pthread_mutex_destroy(&m->lock);
	mote_config_free(m->cfg);
	free(m);
}
