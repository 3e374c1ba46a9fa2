/*
 * mote-serve, the scheduler daemon's program: `mote serve ARGS` execs it
 * with the same arguments (serve_exec.c), so argv[0] and argv[1] are still
 * "mote" and "serve", and it speaks as `mote serve`.
 */
#include "vmm/sched/serve.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "serve") != 0) {
		fprintf(stderr, SERVE_PROGRAM ": run it as `mote serve [OPTIONS]`\n");
		return 2;
	}
	return server_main(argc, argv);
}
