/*
 * The mote command, a thin client of libmote (vmm/api/mote.h): parse the
 * command line, run the VM with the console on stdin and stdout, turn
 * SIGINT, SIGTERM and SIGHUP into a stop, exit with the VM's status. The
 * scheduler's verbs (serve, submit, ps, ...) go to vmm/sched.
 */
#include "vmm/api/mote.h"
#include "vmm/sched/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* A CI job's runner may be killed; its microVM must not outlive it. */
static int follow_parent(void)
{
	pid_t parent = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		return -1;
	/* The parent may have died before prctl took effect. */
	return getppid() == parent ? 0 : -1;
}

/* The signals that stop the VM arrive through a signalfd. Blocked before
 * libmote starts any thread (its threads block every signal anyway). */
static int watch_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Until the VM ends, pass signals on as stops. */
static int wait_vm(struct mote_vm *vm, int sigfd)
{
	struct pollfd p[2] = { { .fd = mote_vm_fd(vm), .events = POLLIN },
			       { .fd = sigfd, .events = POLLIN } };
	struct signalfd_siginfo si;

	while (poll(p, 2, -1) >= 0 || errno == EINTR) {
		if (p[0].revents)
			break;
		if ((p[1].revents & POLLIN) && read(sigfd, &si, sizeof(si)) == sizeof(si))
			mote_vm_stop_signal(vm, (int)si.ssi_signo);
	}
	return mote_vm_wait(vm);
}

/* A closed stdin or stdout is no console fd, not an error. */
static int fd_or_none(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 ? fd : -1;
}

static int run(struct mote_config *cfg)
{
	struct mote_result res;
	struct mote_vm *vm;
	char err[512];
	int sigfd = watch_signals(), status;

	if (sigfd < 0) {
		perror("mote: signalfd");
		return 1;
	}
	vm = mote_vm_create(cfg, err, sizeof(err));
	if (!vm) {
		fprintf(stderr, "mote: %s\n", err);
		close(sigfd);
		return 1;
	}
	if (mote_vm_set_console_fds(vm, fd_or_none(STDIN_FILENO), fd_or_none(STDOUT_FILENO)))
		fprintf(stderr, "mote: cannot use stdin and stdout for the console\n");
	/* From mote_vm_start on, this thread only waits and reports: it is
	 * filtered too (unless --seccomp=off). */
	if (mote_vm_set_seccomp_caller(vm, 1))
		fprintf(stderr, "mote: cannot filter the main thread\n");
	if (follow_parent() < 0) {
		fprintf(stderr, "mote: parent process already exited; not starting\n");
		mote_vm_stop_signal(vm, SIGTERM);   /* still reported in the result */
	}
	status = mote_vm_start(vm) == 0 ? wait_vm(vm, sigfd) : mote_vm_wait(vm);
	if (mote_vm_result(vm, &res) == 0 && res.reason == MOTE_REASON_ERROR)
		fprintf(stderr, "mote: %s\n", res.message);
	mote_vm_free(vm);
	close(sigfd);
	return status < 0 ? 1 : status;
}

int main(int argc, char **argv)
{
	struct mote_config *cfg;
	enum mote_command cmd;
	char err[512] = "";
	int status;

	if (argc > 1 && sched_is_verb(argv[1]))
		return sched_main(argc, argv);
	status = mote_cli_parse(argc, argv, &cmd, &cfg, err, sizeof(err));
	if (status) {
		fprintf(stderr, "%s\n", err);
	} else if (cmd == MOTE_COMMAND_HELP) {
		mote_cli_help(stdout);
		sched_help(stdout);
	} else if (cmd == MOTE_COMMAND_VERSION) {
		printf("mote %s\n", mote_version());
	} else if (cmd == MOTE_COMMAND_VALIDATE) {
		mote_cli_print_ok(stdout, cfg);
	} else {
		status = run(cfg);
	}
	mote_config_free(cfg);
	return status;
}
