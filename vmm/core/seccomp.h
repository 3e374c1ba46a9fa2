/*
 * seccomp-bpf allow-lists, one per kind of mote thread. Each thread loads
 * its own filter on itself (no TSYNC: the threads' needs differ, and an
 * embedding program's threads are not mote's to filter), after the VM is
 * built and before a vCPU first enters the guest.
 *
 * With CONFIG_SECCOMP_ON a system call outside the thread's list traps:
 * the SIGSYS handler (seccomp_prepare) writes one line to stderr naming
 * the thread kind and the call's number, then ends the process by SIGSYS
 * (status 159 in a shell). Every filter makes rt_sigaction on SIGSYS kill
 * the process outright, so the handler cannot be replaced; the handler
 * uses that same rule to die. With CONFIG_SECCOMP_LOG the call goes
 * through and the kernel logs it (the audit log, or dmesg).
 */
#ifndef MOTE_SECCOMP_H
#define MOTE_SECCOMP_H

#include "vmm/config/config.h"

enum seccomp_thread {
	SECCOMP_VCPU,     /* a vCPU thread: KVM_RUN and the devices it drives */
	SECCOMP_LOOP,     /* the thread in vm_run: event loop, backends, stop,
			   * release (libmote's runner thread) */
	SECCOMP_WAITER,   /* the mote command's main thread once the VM runs:
			   * waits, forwards signals, reports */
	SECCOMP_NKINDS,
};

/* "vcpu", "event-loop", "main". */
const char *seccomp_thread_name(enum seccomp_thread kind);

/*
 * Before any filter (ON or LOG), once per process (again is harmless):
 * read what glibc loads lazily (the time zone), and install the SIGSYS
 * reporter. -EBUSY when the program already has its own SIGSYS handler,
 * which mote will not replace.
 */
int seccomp_prepare(void) __attribute__((warn_unused_result));

/*
 * Load kind's filter on the calling thread (a no-op for OFF). Sets
 * no_new_privs for the thread. 0 or -errno; nothing loaded on error.
 */
int seccomp_apply(enum seccomp_thread kind, enum config_seccomp mode)
	__attribute__((warn_unused_result));

/* How many system calls kind's list allows (for tests and the README). */
unsigned seccomp_list_size(enum seccomp_thread kind);

#endif
