# Makefile — builds the `dynn` binary, runs the tests, the default experiment, benchmarks.
#
# Threading (a deliberate choice, see docs/ARCHITECTURE.md): dynn links the OpenMP build of
# OpenBLAS (Debian libopenblas0-openmp), so sgemm and dynn's own `#pragma omp` loops share one
# libgomp thread pool. `--threads T` sets that pool's size once; nothing oversubscribes the cores.
# sgemm is only called from serial code (never inside an omp region), so each GEMM gets the pool.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= gcc
V       ?= 0

OPENBLAS_PC := /usr/lib/x86_64-linux-gnu/openblas-openmp/pkgconfig
PKGS        := yaml-0.1 libpcre2-8 sqlite3 zlib
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
               $(shell PKG_CONFIG_PATH=$(OPENBLAS_PC) pkg-config --cflags openblas 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
               $(shell PKG_CONFIG_PATH=$(OPENBLAS_PC) pkg-config --libs openblas 2>/dev/null)
BLAS_RPATH  := $(shell PKG_CONFIG_PATH=$(OPENBLAS_PC) pkg-config --variable=libdir openblas 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

OPT      ?= -O3 -march=native
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -ffp-contract=fast -fopenmp -Wall -Wextra -Werror -I. $(PKG_CFLAGS)
comma    := ,
LDFLAGS  += -fopenmp $(if $(BLAS_RPATH),-Wl$(comma)-rpath$(comma)$(BLAS_RPATH)) $(EXTRA_LDFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -lpthread -ldl

GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY  := $(shell test -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" && echo 1 || echo 0)
DYNN_VERSION := 0.1.0

# Every .c under these folders is part of libdynn; main.c is the binary's entry point.
SRC_DIRS := util nn pipeline stages db platforms reports cli
LIB_SRC  := $(sort $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c $(d)/*/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

ifeq ($(V),0)
Q := @
endif

.PHONY: all deps test unit run bench sanitize valgrind install clean
all: $(BUILD)/dynn dynn

dynn: $(BUILD)/dynn
	$(Q)ln -sf $(BUILD)/dynn dynn

$(BUILD)/buildinfo.h: FORCE
	@mkdir -p $(BUILD)
	@printf '#define DYNN_GIT_COMMIT "%s"\n#define DYNN_GIT_DIRTY %s\n#define DYNN_VERSION "%s"\n#define DYNN_CFLAGS "%s"\n#define DYNN_CC "%s"\n' \
	  '$(GIT_COMMIT)' '$(GIT_DIRTY)' '$(DYNN_VERSION)' '$(strip $(OPT))' '$(shell $(CC) -dumpfullversion 2>/dev/null) $(CC)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

# Objects rebuild when the compiler flags change.
$(BUILD)/flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/%.o: %.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC  $<")
	$(Q)$(CC) $(CFLAGS) -I$(BUILD) -MMD -MP -c $< -o $@

$(BUILD)/cli/version.o: $(BUILD)/buildinfo.h
$(BUILD)/db/schema_sql.o: db/schema.sql   # embedded with .incbin, invisible to -MMD

$(BUILD)/libdynn.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/dynn: $(BUILD)/main.o $(BUILD)/libdynn.a
	@$(if $(Q),echo "  LD  $@")
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdynn.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC  $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/libdynn.a $(CMOCKA_LIBS) $(LDLIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libdynn.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/libdynn.a $(LDLIBS) -o $@

deps:
	@./ci/deps.sh

unit: $(UNIT_BIN)

# `make test`: deps, build, then every unit test binary and every end-to-end script.
test: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)BUILD=$(BUILD) ./tests/run.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./ci/run-default.sh

bench:
	$(Q)DYNN_DEPS_EXTRA=1 ./ci/deps.sh
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) ./bench/run.sh

# ASan + UBSan build in its own folder, then the same tests.
sanitize: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" all unit
	$(Q)BUILD=build-san DYNN_SANITIZE=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ./tests/run.sh

# Unit tests under valgrind: a build without -march=native (valgrind 3.19 cannot decode AVX-512).
valgrind: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-vg OPT="-O1 -march=x86-64-v3" all unit
	$(Q)BUILD=build-vg DYNN_VALGRIND=1 OPENBLAS_CORETYPE=Haswell ./tests/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/dynn/experiments
	install -m 755 $(BUILD)/dynn $(DESTDIR)$(PREFIX)/bin/dynn
	cp -r experiments/. $(DESTDIR)$(PREFIX)/share/dynn/experiments/

clean:
	rm -rf build build-san build-vg dynn

-include $(LIB_OBJ:.o=.d) $(BUILD)/main.d
