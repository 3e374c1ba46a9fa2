/*
 * `mote serve`: its command line, and the daemon itself (server.c).
 */
#ifndef MOTE_SCHED_SERVE_H
#define MOTE_SCHED_SERVE_H

#include "vmm/sched/core.h"
#include "vmm/sched/paths.h"

#include <stdbool.h>
#include <stddef.h>

/* Default host capacity ratios (see serve_opts.c for why). */
#define SERVE_CPU_RATIO 4.0
#define SERVE_MEM_RATIO 1.0
#define SERVE_RESERVE_MIB 512

struct serve_cfg {
	char socket[SCHED_SOCKET_MAX];
	struct sched_opts core;
	bool help;
};

/* Parse `mote serve [OPTIONS]` (argv[0] "mote", argv[1] "serve") and fill
 * in the defaults. 0, or 2 with "mote serve: ..." in err. */
int serve_parse(int argc, char **argv, struct serve_cfg *c, char *err, size_t errlen);

/* Run the daemon until SIGTERM/SIGINT/SIGHUP; the exit status. */
int server_main(int argc, char **argv);

/* The daemon's own program (serve_main.c), which `mote serve` execs with
 * its arguments unchanged (serve_exec.c), passing in SERVE_EXE_FD_ENV a
 * descriptor of the mote that did: what the daemon's VMs run. */
#define SERVE_PROGRAM "mote-serve"
#define SERVE_EXE_FD_ENV "MOTE_SERVE_EXE_FD"
/* Exec mote-serve; returns (1, with one line on stderr) only if it cannot. */
int serve_exec(int argc, char **argv);

#endif
