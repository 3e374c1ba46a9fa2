LIB_SRCS += vmm/sched/cgroup.c
LIB_SRCS += vmm/sched/flavor.c
