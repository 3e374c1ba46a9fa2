/* The mote command: parse, build the VM, run it, return the guest's status. */
#include "vmm/cli.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
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

static int run(const struct vm_config *cfg)
{
	struct vm vm;
	char err[512];

	vm_block_signals();
	if (follow_parent() < 0) {
		log_err("parent process already exited; not starting");
		return 1;
	}
	if (vm_create(&vm, cfg, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	int status = vm_run(&vm);
	vm_release(&vm);
	return status;
}

int main(int argc, char **argv)
{
	struct cli_cmd cmd;
	char err[512] = "";
	int status = cli_parse(argc, argv, 0, &cmd, err, sizeof(err));

	if (status) {
		fprintf(stderr, "%s\n", err);
	} else if (cmd.command == CLI_HELP) {
		cli_print_help(stdout, 0);
	} else if (cmd.command == CLI_VERSION) {
		cli_print_version(stdout);
	} else if (cmd.command == CLI_VALIDATE) {
		cli_print_ok(stdout, &cmd);
	} else {
		status = run(&cmd.config);
	}
	cli_release(&cmd);
	return status;
}
