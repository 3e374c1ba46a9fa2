/*
 * mote's command line: which command, and for "run" and "validate" a
 * validated struct vm_config. Opens no KVM device; the caller passes the
 * vCPU limit it learnt (or 0). Usage:
 *
 *   mote run [OPTIONS] [-- JOB ARGS...]
 *   mote validate FILE.json
 *   mote --help | -h
 *   mote --version
 */
#ifndef MOTE_CLI_H
#define MOTE_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "vmm/config/config.h"

/* Exit status for a usage or configuration error. */
#define CLI_EXIT_USAGE 2

enum cli_command {
	CLI_RUN,
	CLI_VALIDATE,   /* print "<file>: ok" (cli_print_ok) and exit 0 */
	CLI_HELP,       /* cli_print_help(stdout), exit 0 */
	CLI_VERSION,    /* cli_print_version(stdout), exit 0 */
};

struct cli_cmd {
	enum cli_command command;
	struct vm_config config;   /* CLI_RUN, CLI_VALIDATE: validated */
};

/*
 * Parse argv (argv[0] is the program). --config FILE is loaded first,
 * then every other flag overrides it, then config_validate() runs with
 * max_cpus (0: CONFIG_MAX_CPUS). Returns 0, or the exit status to use
 * (CLI_EXIT_USAGE, or 1 when out of memory) with the whole error line in
 * err, "mote: ..." prefix included: print it as is, plus a newline.
 * out->config must be released with cli_release() either way.
 */
int cli_parse(int argc, char **argv, unsigned max_cpus, struct cli_cmd *out,
	      char *err, size_t errlen)
	__attribute__((warn_unused_result));
void cli_release(struct cli_cmd *cmd);

/* The usage screen: every flag with its default. */
void cli_print_help(FILE *f, unsigned max_cpus);
/* "mote VERSION". */
void cli_print_version(FILE *f);
/* "<file>: ok", for a validate command that succeeded. */
void cli_print_ok(FILE *f, const struct vm_config *c);

#endif
