# mote serve: the scheduler, a client of the public API (vmm/api/mote.h).
LIB_SRCS += vmm/sched/placement.c
