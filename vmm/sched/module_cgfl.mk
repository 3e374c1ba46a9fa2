LIB_SRCS += vmm/sched/flavor.c
