# libmote: the public API (vmm/api/mote.h) over the VMM core, and the
# result file. Part of LIB_SRCS like the rest of the core.
LIB_SRCS += vmm/api/libmote.c vmm/api/libmote_config.c vmm/api/result.c
