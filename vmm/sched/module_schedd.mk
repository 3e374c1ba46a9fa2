# mote serve and its client verbs: never in libmote (see the top
# Makefile's SCHED_SRCS). All of them make libmote-sched.a; build/mote and
# build/mote-serve each link what they use from it, and only mote-serve
# links libmicrohttpd and SQLite (server.c, state.c).
SCHED_SRCS += vmm/sched/client.c
SCHED_SRCS += vmm/sched/core.c
SCHED_SRCS += vmm/sched/http.c
SCHED_SRCS += vmm/sched/jobs.c
SCHED_SRCS += vmm/sched/open.c
SCHED_SRCS += vmm/sched/paths.c
SCHED_SRCS += vmm/sched/report.c
SCHED_SRCS += vmm/sched/serve_exec.c
SCHED_SRCS += vmm/sched/serve_opts.c
SCHED_SRCS += vmm/sched/server.c
SCHED_SRCS += vmm/sched/state.c
SCHED_SRCS += vmm/sched/submit.c
# mote-serve's main (outside the archive: the unit tests have their own).
SERVE_MAIN_SRCS += vmm/sched/serve_main.c
