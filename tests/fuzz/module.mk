# Coverage-guided fuzzing (libFuzzer, Debian's clang) of what a guest or a
# config file controls. The project's sources are built again with clang,
# ASan, UBSan and coverage into $(FUZZ_BUILD), apart from the gcc build.
#
#   make fuzz            every target for FUZZ_S seconds, one at a time
#   make fuzz-replay     every corpus file once through its target (part
#                        of make check; in CI also FUZZ_CI_S seconds each)
#   make fuzz-merge      minimize each corpus together with what make fuzz
#                        found (-merge=1); commit tests/fuzz/corpus/ after
#   make fuzz-build      just the binaries: $(FUZZ_BUILD)/fuzz_<target>
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_S       ?= 120
FUZZ_CI_S    ?= 15
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g $(BASE_CFLAGS) $(FUZZ_SAN) -DMOTE_VERSION='"$(VERSION)"' \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# What guests and config files reach, and the arm64 Image header parser
# (a kernel file is input from people); not the KVM core, the API or the
# real backends (the targets bring fakes).
FUZZ_SRCS    := $(filter vmm/base/% vmm/config/% devices/% virtio/%,$(LIB_SRCS)) \
                boot/arm64/image.c boot/linux_err.c
FUZZ_SRCS    := $(filter-out virtio/backend/%,$(FUZZ_SRCS))
FUZZ_OBJS    := $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-replay fuzz-merge
fuzz-build: $(FUZZ_BINS)

# The library objects: instrumented for coverage, no libFuzzer main.
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libmote-fuzz.a: $(FUZZ_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libmote-fuzz.a
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_BUILD)/libmote-fuzz.a $(LDLIBS)

fuzz: $(FUZZ_BINS)
	$(Q)./tests/fuzz/run.sh fuzz $(FUZZ_S) $(FUZZ_BUILD) $(FUZZ_TARGETS)

# Deterministic: each corpus file runs once. CI=true adds a short fuzzing
# run per target (new inputs go to a scratch directory, not the corpus).
ifeq ($(CI),true)
FUZZ_REPLAY_S ?= $(FUZZ_CI_S)
else
FUZZ_REPLAY_S ?= 0
endif
fuzz-replay: $(FUZZ_BINS)
	$(Q)./tests/fuzz/run.sh replay $(FUZZ_REPLAY_S) $(FUZZ_BUILD) $(FUZZ_TARGETS)

fuzz-merge: $(FUZZ_BINS)
	$(Q)./tests/fuzz/run.sh merge 0 $(FUZZ_BUILD) $(FUZZ_TARGETS)
