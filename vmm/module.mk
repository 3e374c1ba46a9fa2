# vmm/ by layer, lowest first: base (the primitives devices/, virtio/ and
# boot/ may include), config, core (KVM, vCPUs, device manager), api
# (libmote), then the mote command. tools/check-layers.sh enforces it.
include vmm/base/module.mk
include vmm/config/module.mk
include vmm/core/module.mk
include vmm/api/module.mk
MAIN_SRCS += vmm/main.c
