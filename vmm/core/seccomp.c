/*
 * The allow-lists and their loading (see seccomp.h). The lists come from
 * strace -f of mote runs (disks, ephemeral stores, TAP and user-mode
 * networking, console logs, timeouts, signals, two vCPUs, --debug) and
 * the integration tests under --seccomp=log (the scheduler's children
 * too), plus the error paths read in the code (a reset's drain, a
 * stalled console): what each kind of thread calls once the VM is built, and nothing that only setup needs (open of /dev/kvm, KVM_CREATE_*,
 * io_uring_setup, clone...).
 *
 * The SIGSYS handler and the thread's kind are the only process-wide and
 * per-thread state here: a signal handler gets no opaque pointer, so what
 * it reports must be where it can find it.
 */
#include "vmm/core/seccomp.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Which list the calling thread loaded; -1: none. Initial-exec, so the
 * handler reads it without a call that could allocate. */
static __thread int thread_kind __attribute__((tls_model("initial-exec"))) = -1;

static const char *const kind_names[SECCOMP_NKINDS] = {
	[SECCOMP_VCPU] = "vcpu",
	[SECCOMP_LOOP] = "event-loop",
	[SECCOMP_WAITER] = "main",
};

const char *seccomp_thread_name(enum seccomp_thread kind)
{
	return kind < SECCOMP_NKINDS ? kind_names[kind] : "unknown";
}

/*
 * The calls glibc makes for poll(), epoll_wait(), rename() and unlink():
 * x86-64 has the old system calls, arm64 (the generic syscall table) only
 * their successors; and the register dump's ioctls.
 */
#if defined(__x86_64__)
#define SYS_POLL        SCMP_SYS(poll)
#define SYS_EPOLL_WAIT  SCMP_SYS(epoll_wait)
#define SYS_RENAME      SCMP_SYS(rename)
#define SYS_UNLINK      SCMP_SYS(unlink)
#define DUMP_IOCTLS     KVM_GET_REGS, KVM_GET_SREGS
#elif defined(__aarch64__)
#define SYS_POLL        SCMP_SYS(ppoll)
#define SYS_EPOLL_WAIT  SCMP_SYS(epoll_pwait)
#define SYS_RENAME      SCMP_SYS(renameat)
#define SYS_UNLINK      SCMP_SYS(unlinkat)
#define DUMP_IOCTLS     KVM_GET_ONE_REG
#else
#error "seccomp.c: no system call list for this architecture"
#endif

/* What every mote thread may do: return from signals, lock, free memory,
 * leave, and write (to report, to eventfds). mmap and mprotect come with
 * a condition below: never executable memory. */
static const int common_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(futex),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(madvise), SCMP_SYS(munmap),
	SCMP_SYS(brk), SCMP_SYS(clock_gettime), SCMP_SYS(getpid),
	SCMP_SYS(clock_nanosleep),   /* a disk drain's pause between failed waits */
};

/*
 * A vCPU thread: KVM_RUN, and the device work a guest's port and MMIO
 * accesses do on it: console bytes (buffered, the flush timer armed),
 * eventfds, and the virtio status writes that activate or reset a device
 * (a TAP's offloads, the event loop's fd set, waiting for a disk's
 * requests in flight).
 */
static const int vcpu_calls[] = {
	SCMP_SYS(ioctl), SCMP_SYS(timerfd_settime), SCMP_SYS(epoll_ctl),
	SCMP_SYS(io_uring_enter),
	SYS_POLL,         /* a full console buffer written on a stalled stdout */
};
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, TUNSETOFFLOAD,
};

/*
 * The event loop (libmote's runner thread): epoll, the backends (io_uring
 * for disks, the TAP, libslirp's sockets), the console and its log, the
 * timeout, then stopping the vCPUs, releasing the VM (the tty restored)
 * and writing the result file.
 */
static const int loop_calls[] = {
	SCMP_SYS(ioctl), SYS_EPOLL_WAIT, SCMP_SYS(epoll_ctl), SYS_POLL,
	SCMP_SYS(io_uring_enter), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(timerfd_settime), SCMP_SYS(tgkill), SCMP_SYS(getrusage),
	SCMP_SYS(openat), SYS_RENAME, SYS_UNLINK, SCMP_SYS(newfstatat),
	SCMP_SYS(fcntl),
	/* libslirp: a guest's connections become host sockets, a forward's
	 * listening socket (bound before the filters) accepts */
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(sendto),
	SCMP_SYS(recvfrom), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(shutdown),
};
static const unsigned long loop_ioctls[] = {
	TUNSETOFFLOAD,
	TCGETS, TCSETS,                /* the terminal restored: glibc's
					* tcsetattr reads before it sets */
	FIONREAD,                      /* libslirp sizes a UDP datagram */
	DUMP_IOCTLS,                   /* --debug's register dump */
};

/* The mote command's main thread once the VM is started: it waits for
 * the VM's end or a signal, asks for a stop, and reports. */
static const int waiter_calls[] = {
	SYS_POLL,
};

struct kind_list {
	const int *calls;
	unsigned ncalls;
	const unsigned long *ioctls;
	unsigned nioctls;
};

#define LIST(a) (a), (unsigned)(sizeof(a) / sizeof((a)[0]))
static const struct kind_list lists[SECCOMP_NKINDS] = {
	[SECCOMP_VCPU] = { LIST(vcpu_calls), LIST(vcpu_ioctls) },
	[SECCOMP_LOOP] = { LIST(loop_calls), LIST(loop_ioctls) },
	[SECCOMP_WAITER] = { LIST(waiter_calls), NULL, 0 },
};

unsigned seccomp_list_size(enum seccomp_thread kind)
{
	if (kind >= SECCOMP_NKINDS)
		return 0;
	/* + mmap and mprotect, which come with a condition */
	return (unsigned)(sizeof(common_calls) / sizeof(common_calls[0])) +
	       lists[kind].ncalls + 2;
}

static int allow_all(scmp_filter_ctx ctx, const int *calls, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (calls[i] == SCMP_SYS(ioctl))
			continue;   /* only the requests listed: see allow_ioctls */
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
		if (r)
			return r;
	}
	return 0;
}

/* The request is an unsigned int in the kernel: compare the low half. */
static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, reqs[i]));
		if (r)
			return r;
	}
	return 0;
}

/* Memory, never executable; and SIGSYS's handler stays ours: replacing
 * it (or the handler's own way out) ends the process. */
static int add_conditional(scmp_filter_ctx ctx, enum config_seccomp mode)
{
	int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!r && mode == CONFIG_SECCOMP_ON)
		r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(rt_sigaction), 1,
				     SCMP_A0(SCMP_CMP_EQ, SIGSYS));
	return r;
}

static bool lists_call(const struct kind_list *l, int call)
{
	for (unsigned i = 0; i < l->ncalls; i++)
		if (l->calls[i] == call)
			return true;
	return false;
}

/* glibc's malloc opens /proc/sys/vm/overcommit_memory the first time a
 * thread's heap shrinks, on whichever thread that is, and copes when the
 * open fails. So where open is not listed it fails with EACCES instead of
 * ending the process: the file is still never opened. (log only logs.) */
static int refuse_open(scmp_filter_ctx ctx, const struct kind_list *l, enum config_seccomp mode)
{
	if (mode != CONFIG_SECCOMP_ON || lists_call(l, SCMP_SYS(openat)))
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
}

static int build(scmp_filter_ctx ctx, enum seccomp_thread kind, enum config_seccomp mode)
{
	const struct kind_list *l = &lists[kind];
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				 mode == CONFIG_SECCOMP_ON ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG);

	if (!r)
		r = allow_all(ctx, common_calls, sizeof(common_calls) / sizeof(common_calls[0]));
	if (!r)
		r = allow_all(ctx, l->calls, l->ncalls);
	if (!r)
		r = allow_ioctls(ctx, l->ioctls, l->nioctls);
	if (!r)
		r = add_conditional(ctx, mode);
	if (!r)
		r = refuse_open(ctx, l, mode);
	return r;
}

int seccomp_apply(enum seccomp_thread kind, enum config_seccomp mode)
{
	scmp_filter_ctx ctx;
	int r;

	if (mode == CONFIG_SECCOMP_OFF)
		return 0;
	if (kind >= SECCOMP_NKINDS)
		return -EINVAL;
	ctx = seccomp_init(mode == CONFIG_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	r = build(ctx, kind, mode);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r)
		return r < 0 ? r : -EINVAL;
	thread_kind = (int)kind;
	return 0;
}

/* ---- the SIGSYS reporter: async-signal-safe calls only ---- */

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_uint(char *buf, size_t at, size_t cap, unsigned long v)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(digits));
	while (n && at + 1 < cap)
		buf[at++] = digits[--n];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	char line[192];
	size_t n = 0;
	int kind = thread_kind;

	n = put(line, n, sizeof(line), "mote: seccomp: the ");
	n = put(line, n, sizeof(line), kind >= 0 ? kind_names[kind] : "(unfiltered)");
	n = put(line, n, sizeof(line), " thread made system call ");
	n = put_uint(line, n, sizeof(line), (unsigned long)(unsigned)si->si_syscall);
	n = put(line, n, sizeof(line), ", which its filter does not allow; "
		"mote ends with SIGSYS\n");
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere else to say it */
	}
	/* On a filtered thread this call is what kills the process (the
	 * filters' rt_sigaction rule). Elsewhere it restores the default,
	 * and the signal raised, pending until this handler returns, ends
	 * the process the same way. */
	sigaction(SIGSYS, &dfl, NULL);
	raise(SIGSYS);
}

int seccomp_prepare(void)
{
	struct sigaction old, sa;

	/* glibc reads the time zone on first use, even for gmtime_r (the
	 * RTC): read it now, while open is allowed. */
	tzset();
	if (sigaction(SIGSYS, NULL, &old) < 0)
		return -errno;
	if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_sigsys)
		return 0;
	if ((old.sa_flags & SA_SIGINFO) ||
	    (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
		return -EBUSY;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}
