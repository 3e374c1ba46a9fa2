/*
 * The scheduler's entry points for the mote command: `mote serve` (the
 * daemon) and its client verbs (submit, ps, wait, logs, kill, drain,
 * flavors).
 */
#ifndef MOTE_SCHED_SCHED_H
#define MOTE_SCHED_SCHED_H

#include <stdbool.h>
#include <stdio.h>

/* Is argv[1] one of the scheduler's verbs? */
bool sched_is_verb(const char *verb);
/* Run the verb in argv[1]; returns the exit status. */
int sched_main(int argc, char **argv);
/* The verbs' part of mote --help. */
void sched_help(FILE *f);

#endif
