# mote serve and its client verbs: linked into build/mote only (see the
# top Makefile's SCHED_SRCS), never into libmote.
SCHED_SRCS += vmm/sched/client.c
SCHED_SRCS += vmm/sched/core.c
SCHED_SRCS += vmm/sched/http.c
SCHED_SRCS += vmm/sched/jobs.c
SCHED_SRCS += vmm/sched/open.c
SCHED_SRCS += vmm/sched/paths.c
SCHED_SRCS += vmm/sched/report.c
SCHED_SRCS += vmm/sched/serve_opts.c
SCHED_SRCS += vmm/sched/server.c
SCHED_SRCS += vmm/sched/state.c
SCHED_SRCS += vmm/sched/submit.c
