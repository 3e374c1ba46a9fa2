# mote build. Out-of-tree objects in build/, explicit object lists per
# module (each directory's module.mk), dependencies through pkg-config.
#   make            build/mote
#   make check      unit + integration tests (sandbox when /dev/kvm is unusable)
#   make demo       boot the default guest on this terminal
#   make bench      boot-time and overhead ratios against QEMU microvm
#   make V=1        show the commands
#   make SAN=1      build with ASan and UBSan (build-san/)

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS :=
endif

PKGS    := liburing jansson
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -D_GNU_SOURCE -I. $(SANFLAGS) -MD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Each module.mk appends to LIB_SRCS (the VMM core, shared by mote, libmote
# and the unit tests), and to UNIT_TESTS (tests/unit/*.c, one binary each).
LIB_SRCS   :=
MAIN_SRCS  :=
UNIT_TESTS :=
include vmm/module.mk
include boot/module.mk
include devices/module.mk
include virtio/module.mk
include tests/unit/module.mk

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJS := $(MAIN_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_TESTS:%.c=$(BUILD)/%)

.PHONY: all deps check unit-check integration-check demo bench clean guest sandbox-check
all: $(BUILD)/mote

deps:
	$(Q)./tools/install-deps.sh

$(BUILD)/libmote.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/mote: $(MAIN_OBJS) $(BUILD)/libmote.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -DMOTE_VERSION='"$(VERSION)"' -c -o $@ $<

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libmote.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

unit-check: $(UNIT_BINS)
	$(Q)./tools/run-unit-tests.sh $(UNIT_BINS)

include tools/module.mk

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
