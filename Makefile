# mote build. Out-of-tree objects in build/, explicit object lists per
# module (each directory's module.mk), dependencies through pkg-config.
#   make            build/mote, build/mote-serve, libmote (.a, .so, mote.pc),
#                   build/embed-example
#   make install    PREFIX=/usr/local (DESTDIR honoured): mote, mote-serve, libmote, mote.h
#   make check      unit, host and integration tests (sandbox when /dev/kvm is unusable)
#   make demo       boot the default guest on this terminal
#   make bench      boot-time and overhead ratios against QEMU microvm
#   make sandbox-arm64-check  the arm64 sandbox (tools/sandbox --arch arm64) runs a KVM guest
#   make V=1        show the commands
#   make SAN=1      build with ASan and UBSan (build-san/)
#   make ARCH=arm64 mote for arm64 (build-arm64/, cross-built on x86: tools/arm64.mk)

# The target architecture: the host's unless given on the command line
# (make ARCH=arm64), as x86 (x86_64, amd64) or arm64 (aarch64). An ARCH
# from the environment is not ours (the kernel's build exports one, with
# its own values) and is ignored. The choice picks the architecture's half
# of vmm/core/arch.h: the files under vmm/core/$(MOTE_ARCH)/,
# boot/$(MOTE_ARCH)/ and devices/$(MOTE_ARCH)/.
arch_name = $(or $(if $(filter x86_64 x86 amd64,$(1)),x86),$(if $(filter aarch64 arm64,$(1)),arm64))
HOST_ARCH := $(call arch_name,$(shell uname -m))
ifneq ($(filter environment%,$(origin ARCH)),)
override ARCH := $(shell uname -m)
endif
ARCH ?= $(shell uname -m)
MOTE_ARCH := $(or $(call arch_name,$(ARCH)),\
                  $(error ARCH=$(ARCH): mote builds for x86 (x86_64, amd64) or arm64 (aarch64)))
# Another architecture than the host's: a cross build (tools/arm64.mk sets
# the compiler, the tools and the libraries for arm64 on x86).
CROSS   := $(if $(filter-out $(HOST_ARCH),$(MOTE_ARCH)),1)

CC      ?= cc
AR      := ar
OBJCOPY := objcopy
PKG_CONFIG := pkg-config
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(CROSS),1)
BUILD   ?= build-$(MOTE_ARCH)
SANFLAGS :=
else
BUILD   ?= build
SANFLAGS :=
endif

# x86's boot unpacks bzImages (gzip, xz, zstd, LZ4; xxHash for the cache);
# arm64 loads an uncompressed Image.
PKGS    := liburing jansson slirp libseccomp
ifeq ($(MOTE_ARCH),x86)
PKGS    += zlib liblzma libzstd liblz4 libxxhash
endif
# libfdt ships a pkg-config file only from dtc 1.7 (Debian 12 has 1.6.1).
FDT_LIBS = $(shell $(PKG_CONFIG) --libs libfdt 2>/dev/null || echo -lfdt)
# mote-serve, the daemon, needs libmicrohttpd and SQLite.
SERVE   := 1
ifeq ($(CROSS),1)
include tools/arm64.mk
endif
# The language, warnings, include root and dependency files every build of
# the sources shares: this one, the fuzz build (tests/fuzz/module.mk) and
# the arm64 cross build (tools/arm64.mk).
BASE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
               -D_GNU_SOURCE -I. -MD -MP
CFLAGS  ?= -O2 -g
CFLAGS  += $(BASE_CFLAGS) $(SANFLAGS) \
           $(shell $(PKG_CONFIG) --cflags $(PKGS) $(if $(SERVE),libmicrohttpd sqlite3) 2>/dev/null)
LDFLAGS += $(SANFLAGS)
FDT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libfdt 2>/dev/null)
FDT_LIBS   := $(FDT_LIBS)
CFLAGS  += $(FDT_CFLAGS)
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) $(FDT_LIBS) -lpthread
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

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
include virtio/backend/module.mk
include tests/unit/module.mk

# The scheduler (mote serve and its client verbs, vmm/sched/) is part of the
# mote and mote-serve commands only: the daemon needs libmicrohttpd and
# SQLite, which libmote and its embedders must not pull in. Its module
# files append to SCHED_SRCS; anything under vmm/sched/ put in LIB_SRCS is
# moved over, so libmote stays free of it whichever way a module file says
# it.
SCHED_SRCS :=
SERVE_MAIN_SRCS :=
include $(sort $(wildcard vmm/sched/module*.mk))
SCHED_SRCS := $(sort $(SCHED_SRCS) $(filter vmm/sched/%,$(LIB_SRCS)))
LIB_SRCS   := $(filter-out vmm/sched/%,$(LIB_SRCS))
SCHED_PKGS := libmicrohttpd sqlite3
SCHED_LIBS := $(if $(SERVE),$(shell $(PKG_CONFIG) --libs $(SCHED_PKGS) 2>/dev/null))
# Without the daemon (SERVE empty): the client verbs only; mote serve then
# says it finds no mote-serve.
DAEMON_SRCS := vmm/sched/server.c vmm/sched/state.c
ifeq ($(SERVE),)
SCHED_SRCS := $(filter-out $(DAEMON_SRCS),$(SCHED_SRCS))
endif

LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJS  := $(MAIN_SRCS:%.c=$(BUILD)/%.o)
SCHED_OBJS := $(SCHED_SRCS:%.c=$(BUILD)/%.o)
SERVE_MAIN_OBJS := $(SERVE_MAIN_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_TESTS:%.c=$(BUILD)/%)

.PHONY: all deps check unit-check integration-check demo bench clean guest sandbox-check \
	install FORCE
all: $(BUILD)/mote $(if $(SERVE),$(BUILD)/mote-serve) $(BUILD)/libmote.so $(BUILD)/mote.pc \
	$(BUILD)/embed-example

deps:
	$(Q)./tools/install-deps.sh

# ---- libmote: static and shared, one public header (vmm/api/mote.h) ----
# Every core object is position-independent so the same objects make both.
# The shared library exports only mote_* (vmm/api/libmote.map), and so does
# the static one (below).
LIB_SOMAJOR := 1
LIB_SONAME  := libmote.so.$(LIB_SOMAJOR)
LIB_SHARED  := $(BUILD)/libmote.so.$(VERSION)

$(LIB_OBJS): CFLAGS += -fPIC
# Objects from before -fPIC was added are rebuilt once, when this appears.
$(LIB_OBJS): $(BUILD)/.pic
$(BUILD)/.pic:
	@mkdir -p $(dir $@)
	$(Q)touch $@

# Everything, for the unit tests, which reach internal modules.
$(BUILD)/libmote-internal.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# The public static library: one relocatable object in which every symbol
# but mote_* is local, so no internal name can clash with the embedding
# program's.
$(BUILD)/libmote.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)$(LD) -r -o $(BUILD)/libmote.o $^ && \
		$(OBJCOPY) -w --keep-global-symbol='mote_*' $(BUILD)/libmote.o && \
		rm -f $@ && $(AR) rcs $@ $(BUILD)/libmote.o

$(LIB_SHARED): $(LIB_OBJS) vmm/api/libmote.map
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=vmm/api/libmote.map -Wl,-z,defs -o $@ $(LIB_OBJS) $(LDLIBS)

$(BUILD)/libmote.so: $(LIB_SHARED)
	$(Q)ln -sf $(notdir $(LIB_SHARED)) $(BUILD)/$(LIB_SONAME)
	$(Q)ln -sf $(LIB_SONAME) $@

# The mote command is a client of the public API only; linked statically so
# that build/mote runs from anywhere without the shared library. Its
# scheduler part is the client verbs, taken from libmote-sched.a, and
# `mote serve`, which execs mote-serve (vmm/sched/serve_exec.c): linked
# without SCHED_LIBS, so that every mote run does not map and initialize
# libmicrohttpd, gnutls and SQLite; were the daemon's code pulled in, this
# link would fail (tests/host/t_serve_split.sh checks the result).
$(BUILD)/mote: $(MAIN_OBJS) $(BUILD)/libmote-sched.a $(BUILD)/libmote.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The daemon, mote serve, with the libraries only it needs.
$(BUILD)/mote-serve: $(SERVE_MAIN_OBJS) $(BUILD)/libmote-sched.a $(BUILD)/libmote.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SCHED_LIBS) $(LDLIBS)

# The scheduler for both commands and for the unit tests (an archive: each
# pulls in only what it uses).
$(BUILD)/libmote-sched.a: $(SCHED_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
# mote looks for mote-serve beside itself, then in ../libexec/mote.
SERVEDIR   := $(BINDIR)/../libexec/mote

# Regenerated on every run (PREFIX may differ), rewritten only if changed.
$(BUILD)/mote.pc: FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
		'Name: mote' \
		'Description: KVM microVM monitor as a library (libmote)' \
		'Version: $(VERSION)' \
		'Requires.private: $(PKGS)' \
		'Cflags: -I$${includedir}' \
		'Libs: -L$${libdir} -lmote' \
		'Libs.private: $(FDT_LIBS) -lpthread' >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else echo "  GEN     $@"; mv $@.tmp $@; fi

# An embedding example, linked against the shared library like a program
# outside the tree would be (found next to it through $$ORIGIN).
$(BUILD)/embed-example: tools/embed-example.c $(BUILD)/libmote.so
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Ivmm/api $(LDFLAGS) -o $@ $< -L$(BUILD) -lmote \
		-Wl,-rpath,'$$ORIGIN'

install: $(BUILD)/mote $(BUILD)/mote-serve $(BUILD)/libmote.a $(BUILD)/libmote.so $(BUILD)/mote.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SERVEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)
	install -m 0755 $(BUILD)/mote $(DESTDIR)$(BINDIR)/mote
	install -m 0755 $(BUILD)/mote-serve $(DESTDIR)$(SERVEDIR)/mote-serve
	install -m 0644 $(BUILD)/libmote.a $(DESTDIR)$(LIBDIR)/libmote.a
	install -m 0755 $(LIB_SHARED) $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SHARED))
	ln -sf $(notdir $(LIB_SHARED)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libmote.so
	install -m 0644 vmm/api/mote.h $(DESTDIR)$(INCLUDEDIR)/mote.h
	install -m 0644 $(BUILD)/mote.pc $(DESTDIR)$(LIBDIR)/pkgconfig/mote.pc

FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -DMOTE_VERSION='"$(VERSION)"' -c -o $@ $<

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libmote-sched.a $(BUILD)/libmote-internal.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(SCHED_LIBS) $(LDLIBS)

# test_linux loads the default guest's kernel, which make builds (guest,
# tools/module.mk): a missing kernel fails that test, never skips it. A
# cross build runs its own (tools/arm64.mk).
ifneq ($(CROSS),1)
unit-check: $(UNIT_BINS) guest
	$(Q)MOTE_TEST_KERNEL=$(GUEST_DIR)/vmlinuz ./tools/run-unit-tests.sh $(UNIT_BINS)
endif

include tools/module.mk
include tests/fuzz/module.mk
include tools/arm64.mk
include tools/sandbox-arm64.mk

clean:
	rm -rf build build-san build-arm64

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
