/*
 * libmote: the mote microVM monitor as a library. One KVM virtual machine
 * per struct mote_vm, booting a Linux kernel (bzImage or ELF) with an
 * initrd, a command line, virtio drives and tap interfaces, its serial
 * console wired to file descriptors or a callback.
 *
 *   #include <mote.h>      cc prog.c $(pkg-config --cflags --libs mote)
 *
 *   char err[512];
 *   struct mote_config *cfg = mote_config_new();
 *   mote_config_set_kernel(cfg, "vmlinuz");
 *   mote_config_set_initrd(cfg, "initrd.gz");
 *   struct mote_vm *vm = mote_vm_create(cfg, err, sizeof(err));
 *   mote_config_free(cfg);                  (the VM keeps a reference)
 *   int status = mote_vm_run(vm);           (blocks until the VM ends)
 *   mote_vm_free(vm);
 *
 * Errors. Functions returning int return 0 (or a documented non-negative
 * value) on success and a negative errno value on failure; mote_strerror()
 * describes it. Functions that take err/errlen also write one line (no
 * trailing newline, no "mote: " prefix) saying what was wrong; err may be
 * NULL when errlen is 0.
 *
 * Threads. A config or a VM may be used from one thread at a time, except
 * mote_vm_stop(), mote_vm_stop_signal(), mote_vm_fd() and mote_vm_result(),
 * which are safe from any thread while another starts or waits. Separate objects are independent:
 * a program may run several VMs at once. Not async-signal-safe.
 *
 * Signals. A running VM has one thread for its event loop plus one per
 * vCPU; they block every signal except SIGUSR1, which libmote sends to its
 * vCPU threads to make them leave the guest. mote_vm_start() therefore
 * installs a do-nothing SIGUSR1 handler (no SA_RESTART) for the process,
 * and fails with -EBUSY if the program already has its own SIGUSR1
 * handler. Nothing else is touched: SIGINT, SIGTERM and friends stay the
 * program's (the mote command turns them into mote_vm_stop_signal()), and
 * SIGPIPE is never raised by a write on libmote's threads (they block it).
 *
 * Diagnostics. With debug set, and for a few unexpected device errors,
 * libmote writes lines starting "mote: " to stderr.
 */
#ifndef MOTE_H
#define MOTE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MOTE_MUST_CHECK __attribute__((warn_unused_result))
#else
#define MOTE_MUST_CHECK
#endif

/* The library's version, e.g. "0.1.0". */
const char *mote_version(void);

/* A description of a negative errno value returned by a mote_ function
 * (a static string; "unknown error" for anything else). Thread-safe. */
const char *mote_strerror(int err);

/* s as mote's error lines show a user's string (a path, a flag's value,
 * a key name): control characters, escape sequences and invalid UTF-8
 * escaped as \n, \r, \t or \xNN, a backslash doubled, so that the line
 * stays one line; cut with "..." to fit len (at most 512 bytes are used).
 * Returns buf. */
const char *mote_str_shown(const char *s, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Configuration                                                      */
/* ------------------------------------------------------------------ */

/*
 * A VM's configuration. It starts from mote's defaults (1 vCPU, 256 MiB,
 * no initrd, the default kernel command line, no timeout) and is changed
 * by the setters below or filled from Firecracker-style JSON (the schema
 * of Firecracker's --config-file, plus a "mote" section; see the mote
 * documentation). Values are checked by mote_config_validate(), which
 * mote_vm_create() also runs; its messages name the equivalent mote
 * command-line flag ("--cpus 0: out of range 1..255") or, for values read
 * from JSON, the field ("vm.json: machine-config.vcpu_count: ...").
 *
 * Reference counted: mote_vm_create() takes a reference, so the config
 * may be freed at once. While a VM holds it, setters return -EBUSY.
 */
struct mote_config;

/* A config with the defaults; NULL when out of memory. */
struct mote_config *mote_config_new(void) MOTE_MUST_CHECK;

/* A config from JSON text (syntax, types and keys checked; values are
 * checked by mote_config_validate). NULL with the reason in err. */
struct mote_config *mote_config_from_json(const char *text, char *err, size_t errlen)
	MOTE_MUST_CHECK;

/* The same from a file; messages name it ("vm.json:3:17: ..."). Relative
 * paths inside are used as given (relative to the working directory). */
struct mote_config *mote_config_from_file(const char *path, char *err, size_t errlen)
	MOTE_MUST_CHECK;

/* Drop a reference (the VM keeps its own). NULL is ignored. */
void mote_config_free(struct mote_config *cfg);

/* The kernel image (required). Strings are copied. */
int mote_config_set_kernel(struct mote_config *cfg, const char *path);
/* The initial ramdisk; NULL for none. */
int mote_config_set_initrd(struct mote_config *cfg, const char *path);
/* The kernel command line; NULL for mote's default. console=ttyS0 is added
 * if it names no console=, root=/dev/vda if there is a root drive. */
int mote_config_set_cmdline(struct mote_config *cfg, const char *cmdline);
/* Number of vCPUs (1..255, and no more than the host's KVM allows). */
int mote_config_set_cpus(struct mote_config *cfg, unsigned cpus);
/* Guest RAM in MiB (at least 16). */
int mote_config_set_mem_mib(struct mote_config *cfg, uint64_t mib);

/* Flags for mote_config_add_drive(). */
#define MOTE_DRIVE_READ_ONLY  (1u << 0)  /* the guest cannot write it */
#define MOTE_DRIVE_ROOT       (1u << 1)  /* /dev/vda, the root file system */
#define MOTE_DRIVE_EPHEMERAL  (1u << 2)  /* guest writes are dropped at exit */

/* Add a virtio-blk drive backed by a file or block device. At most one
 * root drive; it becomes /dev/vda, the others follow in order. */
int mote_config_add_drive(struct mote_config *cfg, const char *path, unsigned flags);
/* Add a virtio-net interface on the existing host TAP device tap; mac may
 * be NULL (a stable one is generated). At most 16 drives and interfaces in
 * all: -ENOSPC. */
int mote_config_add_net(struct mote_config *cfg, const char *tap, const uint8_t mac[6]);
/* Add a virtio-net interface on user-mode networking (libslirp, no root
 * needed); mac may be NULL. hostfwd: NULL, or a NULL-terminated list of
 * forwards in --net's syntax ("tcp:127.0.0.1:8080-:80"); a bad one gives
 * -EINVAL and adds nothing. */
int mote_config_add_user_net(struct mote_config *cfg, const uint8_t mac[6],
			     const char *const *hostfwd);
/* The guest job: a NULL-terminated argv appended to the kernel command
 * line after "--" (the guest's init receives it); NULL for none. */
int mote_config_set_job(struct mote_config *cfg, const char *const *argv);
/* Stop the VM (reason "timeout", status 124) after this many seconds;
 * 0 for never. */
int mote_config_set_timeout(struct mote_config *cfg, double seconds);
/* Also copy the console to this file (at most 16 MiB unless the JSON's
 * "mote" section says otherwise); NULL for none. */
int mote_config_set_console_log(struct mote_config *cfg, const char *path);
/* Write the run's result there as JSON when the VM ends (see "Results");
 * NULL for none. */
int mote_config_set_result_file(struct mote_config *cfg, const char *path);
/* Debug messages on stderr (non-zero) or not (0, the default). */
int mote_config_set_debug(struct mote_config *cfg, int on);
/* Boot a bzImage unpacked once on the host and cached under
 * $XDG_CACHE_HOME/mote/kernels (non-zero, the default), or through the
 * kernel's own decompressor on every boot (0). */
int mote_config_set_kernel_cache(struct mote_config *cfg, int on);

/*
 * seccomp-bpf filters on libmote's own threads: each vCPU thread and the
 * VM's event-loop thread load an allow-list of the system calls (and
 * ioctl requests) they use, before the guest first runs.
 *   MOTE_SECCOMP_OFF  no filter: the default for libmote, because a filter
 *                     limits every call made on that thread, and the
 *                     console callback runs on them; the mote
 *                     command's default is ON
 *   MOTE_SECCOMP_ON   a call outside the list prints one line to stderr
 *                     and kills the whole process with SIGSYS; libmote
 *                     then installs a SIGSYS handler (mote_vm_start fails
 *                     with -EBUSY if the program has its own)
 *   MOTE_SECCOMP_LOG  allowed, but the kernel logs it (for making lists)
 * The program's own threads are never filtered (see also
 * mote_vm_set_seccomp_caller).
 */
enum mote_seccomp { MOTE_SECCOMP_OFF = 0, MOTE_SECCOMP_ON, MOTE_SECCOMP_LOG };
int mote_config_set_seccomp(struct mote_config *cfg, enum mote_seccomp mode);
enum mote_seccomp mote_config_seccomp(const struct mote_config *cfg);

/* What the config asks for: vCPUs and guest RAM in MiB (the defaults when
 * it does not say), for a caller that places VMs (mote serve). */
unsigned mote_config_cpus(const struct mote_config *cfg);
uint64_t mote_config_mem_mib(const struct mote_config *cfg);

/* Check the whole config as mote_vm_create() will: files exist and open,
 * numbers in range, ids unique... Opens no KVM device. 0 or -EINVAL (or
 * -ENOMEM) with one line in err. */
int mote_config_validate(const struct mote_config *cfg, char *err, size_t errlen)
	MOTE_MUST_CHECK;

/* ------------------------------------------------------------------ */
/* The mote command line                                              */
/* ------------------------------------------------------------------ */

enum mote_command {
	MOTE_COMMAND_RUN,       /* mote run [OPTIONS] [-- JOB...] */
	MOTE_COMMAND_VALIDATE,  /* mote validate FILE.json */
	MOTE_COMMAND_HELP,      /* mote --help */
	MOTE_COMMAND_VERSION,   /* mote --version */
};

/*
 * Parse mote's command line (argv[0] is the program's name) exactly as the
 * mote command does. For RUN and VALIDATE, *cfg is a validated config the
 * caller frees; otherwise *cfg is NULL. Returns 0, or the exit status the
 * mote command uses (2: usage or configuration error, 1: out of memory)
 * with the error line, "mote: " prefix included, in err.
 */
int mote_cli_parse(int argc, char **argv, enum mote_command *cmd,
		   struct mote_config **cfg, char *err, size_t errlen) MOTE_MUST_CHECK;

/* mote's usage screen. */
void mote_cli_help(FILE *f);

/* What mote validate prints for a config mote_cli_parse() accepted:
 * "FILE: ok", the file's name escaped as in error lines. */
void mote_cli_print_ok(FILE *f, const struct mote_config *cfg);

/* ------------------------------------------------------------------ */
/* Results                                                            */
/* ------------------------------------------------------------------ */

/* Why a VM ended. */
enum mote_reason {
	MOTE_REASON_NONE = 0,    /* "none": it has not ended */
	MOTE_REASON_GUEST_EXIT,  /* "guest-exit": the guest wrote its job's
				  * status to mote's exit port */
	MOTE_REASON_POWEROFF,    /* "poweroff": the guest powered off (ACPI) */
	MOTE_REASON_REBOOT,      /* "reboot": the guest rebooted (ends the VM) */
	MOTE_REASON_TIMEOUT,     /* "timeout": the configured timeout passed */
	MOTE_REASON_SIGNAL,      /* "signal": mote_vm_stop_signal() */
	MOTE_REASON_ERROR,       /* "error": mote failed; message says how */
	MOTE_REASON_STOPPED,     /* "stopped": mote_vm_stop() */
};

/* The status each reason gives, when it is not the guest's. A poweroff or
 * reboot (a kernel panic with panic=-1 and a triple fault included) gives
 * 0 when the VM had no job, and MOTE_STATUS_NO_JOB_STATUS when it had one
 * (mote_config_set_job, or "--" in the command line) that had not reported
 * its status through the exit device: a job that never finished is never
 * taken for one that passed. */
#define MOTE_STATUS_POWEROFF  0
#define MOTE_STATUS_REBOOT    0
#define MOTE_STATUS_NO_JOB_STATUS 125
#define MOTE_STATUS_TIMEOUT   124
#define MOTE_STATUS_ERROR     1
#define MOTE_STATUS_STOPPED   143   /* as if ended by SIGTERM */

/* When each step of a run happened, in ms from its start (see below);
 * -1: the run never got there. */
struct mote_timeline {
	int64_t vm_built_ms;       /* the VM was built: memory, devices, kernel */
	int64_t first_run_ms;      /* vCPU 0 first entered the guest */
	int64_t first_console_ms;  /* the first byte on the serial console */
	int64_t kernel_init_ms;    /* the kernel printed "Run /init as init process" */
	int64_t guest_ready_ms;    /* the guest's init wrote the boot timer */
	int64_t job_start_ms;      /* ... and again as its job started */
	int64_t job_end_ms;        /* the job's status reached the exit device */
	int64_t startup_cpu_us;    /* CPU time the process used from exec to
				    * the first KVM_RUN (mote's own start-up
				    * cost); -1: not measured */
};

/* How a run ended. */
struct mote_result {
	int status;              /* mote's exit status, 0..255: the job's own
				  * status for guest-exit, 128 + signal for
				  * signal, else MOTE_STATUS_* */
	enum mote_reason reason;
	char message[256];       /* one line, e.g. "guest exited with status 3",
				  * "timed out after 5 s", or the error */
	int64_t boot_ms;         /* start to the guest kernel starting init,
				  * see below; -1: not seen */
	int64_t total_ms;        /* start to the VM's end */
	int64_t peak_rss_kib;    /* the process's peak resident memory */
	struct mote_timeline timeline;
};

/*
 * The durations. "Start" is the call to mote_vm_start() (or _run), before
 * /dev/kvm is opened. "Boot" ends when the guest's init says it is up by
 * writing the boot timer (port 0x502, code 1; the default guest does), or
 * failing that when the guest kernel prints, on its serial console, that
 * it is starting the init process (Linux's "Run /init as init process"
 * line, at KERN_INFO). A guest that does neither (a "quiet" kernel and an
 * init of its own) gives boot_ms -1. The VM's end is when its vCPUs have
 * stopped. The timeline has every step; a guest's init writes code 2 to
 * the boot timer as its job starts. peak_rss_kib is getrusage()'s
 * ru_maxrss: the whole process's peak, guest RAM the guest touched
 * included.
 */

/* "guest-exit", "poweroff", ... as listed above. */
const char *mote_reason_name(enum mote_reason reason);

/*
 * The result as one line of JSON (malloc'd; NULL when out of memory):
 *   {"status": 3, "reason": "guest-exit", "message": "...", "boot_ms": 812,
 *    "total_ms": 1290, "peak_rss_kib": 48120, "mote_version": "0.2.0",
 *    "timeline": {"vm_built_ms": 4, "first_run_ms": 5, ...},
 *    "startup_cpu_us": 3100}
 * Times not reached are null. This is the result file's content.
 */
char *mote_result_to_json(const struct mote_result *res) MOTE_MUST_CHECK;

/* ------------------------------------------------------------------ */
/* Virtual machines                                                   */
/* ------------------------------------------------------------------ */

struct mote_vm;

/*
 * A VM for cfg (which is validated here; the VM keeps a reference). It is
 * built (/dev/kvm opened, RAM mapped, kernel loaded) when started. NULL
 * with the reason in err when the config is invalid or memory runs out.
 * A VM runs once.
 */
struct mote_vm *mote_vm_create(struct mote_config *cfg, char *err, size_t errlen)
	MOTE_MUST_CHECK;

/*
 * Console output, called with guest bytes in order, one call at a time,
 * from one of the VM's threads, about a millisecond after the guest wrote
 * them (or at once when 4 KiB have gathered). It must not block for long;
 * it may call mote_vm_stop() or mote_vm_stop_signal() but no other
 * function on this VM. With seccomp on, it runs under that thread's
 * filter: writing to an fd and locking are fine, opening files is not.
 */
typedef void (*mote_console_fn)(void *opaque, const char *data, size_t len);

/* Send console output to fn instead of an fd (NULL: back to the fd).
 * Before the VM starts, else -EBUSY. */
int mote_vm_set_console_callback(struct mote_vm *vm, mote_console_fn fn, void *opaque);

/*
 * The console's fds (not owned; -1 for none). Default: no input, output
 * to stdout. Input is read by the VM's event loop; a terminal is put in
 * raw mode while the VM runs and restored afterwards. Before the VM
 * starts, else -EBUSY.
 */
int mote_vm_set_console_fds(struct mote_vm *vm, int in_fd, int out_fd);

/*
 * With the config's seccomp ON or LOG, also filter the thread that calls
 * mote_vm_start(), from inside that call and before the guest runs: for a
 * caller like the mote command whose thread afterwards only waits for the
 * VM (poll on mote_vm_fd, read a signalfd), stops it, reads its result,
 * frees it, writes to stderr and exits. Anything else on that thread then
 * kills the process. Before mote_vm_start, else -EBUSY.
 */
int mote_vm_set_seccomp_caller(struct mote_vm *vm, int on);

/*
 * Build the VM and run it on threads of its own; returns at once. 0, or
 * -errno when it could not be built or started: the VM has then ended
 * with reason "error" (mote_vm_result() says why; the result file, if
 * any, is written). -EALREADY if it was started before.
 */
int mote_vm_start(struct mote_vm *vm) MOTE_MUST_CHECK;

/*
 * Wait for a started VM to end; returns its exit status (0..255, as in
 * struct mote_result), or -EINVAL if it was never started. By then the
 * VM's resources are released, its console output delivered and its
 * result file written.
 */
int mote_vm_wait(struct mote_vm *vm);

/* mote_vm_start() and mote_vm_wait(): the exit status (1 with reason
 * "error" if it could not start), or -EALREADY if started before. */
int mote_vm_run(struct mote_vm *vm);

/*
 * A file descriptor that becomes readable (and stays so) once the VM has
 * ended, for poll()/epoll loops; then mote_vm_wait() returns at once. Owned
 * by the VM: do not read or close it.
 */
int mote_vm_fd(const struct mote_vm *vm);

/* End the VM from any thread: reason "stopped", status 143. Ignored once
 * it has ended (the first reason wins). Before mote_vm_start(), the VM
 * ends as soon as it is started, without being built. */
void mote_vm_stop(struct mote_vm *vm);

/* The same, for a program passing on signal signo: reason "signal",
 * status 128 + signo. Call it from a thread, not a signal handler. */
void mote_vm_stop_signal(struct mote_vm *vm, int signo);

/* How the VM ended. 0, or -EBUSY while it has not (yet) ended. */
int mote_vm_result(const struct mote_vm *vm, struct mote_result *res);

/* Stop the VM if it runs, wait for it, and free it. NULL is ignored. */
void mote_vm_free(struct mote_vm *vm);

#ifdef __cplusplus
}
#endif

#endif
