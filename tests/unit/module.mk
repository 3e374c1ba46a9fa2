# One Check binary per file; each links against the VMM core. The tests of
# an architecture's half of vmm/core/arch.h (test_arch_<arch>.c) only in
# that architecture's build.
UNIT_TESTS += $(filter-out tests/unit/test_arch_%,$(sort $(wildcard tests/unit/test_*.c))) \
              tests/unit/test_arch_$(MOTE_ARCH).c
