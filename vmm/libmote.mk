# libmote: the public API (vmm/mote.h) over the VMM core, and the result
# file. Part of LIB_SRCS like the rest of the core.
LIB_SRCS += vmm/libmote.c vmm/libmote_config.c vmm/result.c
