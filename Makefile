# Makefile — builds the `dynn` binary, runs the tests, the default experiment, benchmarks.
#
# Threading (a deliberate choice, see docs/ARCHITECTURE.md): dynn links the OpenMP build of
# OpenBLAS (Debian libopenblas0-openmp), so sgemm and dynn's own `#pragma omp` loops share one
# libgomp thread pool. `--threads T` sets that pool's size once; nothing oversubscribes the cores.
# sgemm is only called from serial code (never inside an omp region), so each GEMM gets the pool.

PREFIX  ?= /usr/local
DESTDIR ?=
V       ?= 0

# Cross builds: `make TARGET=aarch64` builds build-aarch64/dynn, `make TARGET=armhf` build-armhf/dynn (32-bit
# ARM, armv7-a with NEON-VFPv4: the ODROID-XU3's Cortex-A15/A7), each with the Debian cross compiler against
# that architecture's multiarch libraries (`ci/deps.sh --cross` installs both); run them with qemu-user
# (qemu-aarch64, qemu-arm) or on a board. Only the build differs: the sources have no per-target switch
# beyond the vector width and register blocking of nn/conv3x3.c.
TARGET   ?=
MULTIARCH := x86_64-linux-gnu
PKGCONF   := pkg-config
CROSS_TARGETS := aarch64 armhf
ifeq ($(TARGET),aarch64)
CROSS_CC  := aarch64-linux-gnu-gcc
OPT      ?= -O3 -march=armv8-a
MULTIARCH := aarch64-linux-gnu
QEMU      := qemu-aarch64
else ifeq ($(TARGET),armhf)
# GCC lowers arithmetic on float vectors to scalar VFP code unless -funsafe-math-optimizations allows NEON
# (whose float arithmetic flushes denormals to zero); the -fno-/-f flags after it take back everything
# else that option implies (reassociation, reciprocals, signed zeros, traps), so results stay IEEE but
# for denormals in vector code. -mfpu=neon-vfpv4 gives the fused vfma.f32 that -ffp-contract=fast uses.
CROSS_CC  := arm-linux-gnueabihf-gcc
OPT      ?= -O3 -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -mtune=cortex-a15 \
            -funsafe-math-optimizations -fno-associative-math -fno-reciprocal-math -fsigned-zeros -ftrapping-math
MULTIARCH := arm-linux-gnueabihf
QEMU      := qemu-arm
else ifneq ($(TARGET),)
$(error unknown TARGET '$(TARGET)': the cross targets are: $(CROSS_TARGETS))
endif
ifneq ($(TARGET),)
BUILD     = build-$(TARGET)
CC        = $(CROSS_CC)
PKGCONF   := PKG_CONFIG_LIBDIR=/usr/lib/$(MULTIARCH)/pkgconfig:/usr/share/pkgconfig pkg-config
ifneq ($(filter test run bench sanitize valgrind,$(MAKECMDGOALS)),)
$(error TARGET=$(TARGET) only builds (all, unit, install): 'make test' runs the cross build under $(QEMU) in tests/e2e/test_cross_$(TARGET).sh)
endif
ifeq ($(filter clean,$(MAKECMDGOALS)),)
ifeq ($(shell command -v $(CC)),)
$(error $(CC) not found: run 'ci/deps.sh --cross' (as root) to install the $(TARGET) cross toolchain and $(MULTIARCH) libraries)
endif
endif
endif
BUILD   ?= build
CC      ?= gcc

OPENBLAS_PC := /usr/lib/$(MULTIARCH)/openblas-openmp/pkgconfig
PKGS        := yaml-0.1 libpcre2-8 sqlite3 zlib
PKG_CFLAGS  := $(shell $(PKGCONF) --cflags $(PKGS) 2>/dev/null) \
               $(shell PKG_CONFIG_PATH=$(OPENBLAS_PC) $(PKGCONF) --cflags openblas 2>/dev/null)
PKG_LIBS    := $(shell $(PKGCONF) --libs $(PKGS) 2>/dev/null) \
               $(shell PKG_CONFIG_PATH=$(OPENBLAS_PC) $(PKGCONF) --libs openblas 2>/dev/null)
BLAS_RPATH  := $(shell PKG_CONFIG_PATH=$(OPENBLAS_PC) $(PKGCONF) --variable=libdir openblas 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKGCONF) --libs cmocka 2>/dev/null)

# OpenCL (the `opencl` inference backend, nn/backend_opencl.c): built where pkg-config finds both the
# OpenCL loader and CLBlast (`ci/deps.sh` installs them, with pocl as the CPU device the tests use);
# OPENCL=0 builds without it.
OPENCL   ?= $(if $(shell $(PKGCONF) --exists OpenCL clblast 2>/dev/null && echo 1),1,0)
ifeq ($(OPENCL),1)
PKG_CFLAGS += -DDYNN_HAVE_OPENCL $(shell $(PKGCONF) --cflags OpenCL clblast 2>/dev/null)
PKG_LIBS   += $(shell $(PKGCONF) --libs OpenCL clblast 2>/dev/null)
endif

# CUDA (the `cuda` inference backend, nn/backend_cuda.c): built where CUDA_HOME (default /usr/local/cuda) has
# nvcc and the cuDNN and cuBLAS headers; CUDA=0 builds without it, and so does a machine without the toolkit.
# nvcc compiles nn/cuda_kernels.cu into a fatbin for CUDA_ARCHS (SASS for each, PTX for the last), embedded
# in the binary (bin2c). dynn links none of the CUDA libraries: the driver, cuDNN and cuBLAS are dlopen'ed
# when the backend opens, so the binary runs where they are missing. Native builds only (not TARGET=...).
CUDA_HOME  ?= /usr/local/cuda
CUDA_ARCHS ?= 75 80 86 89 90
NVCC       ?= $(CUDA_HOME)/bin/nvcc
ifneq ($(TARGET),)
CUDA ?= 0
ifeq ($(CUDA),1)
$(error CUDA=1 is for native builds: a cross build (TARGET=$(TARGET)) has no cuda backend)
endif
else
CUDA ?= $(if $(and $(wildcard $(NVCC)),$(wildcard $(CUDA_HOME)/include/cudnn.h),$(wildcard $(CUDA_HOME)/include/cublas_v2.h)),1,0)
endif
ifeq ($(CUDA),1)
PKG_CFLAGS += -DDYNN_HAVE_CUDA -isystem $(CUDA_HOME)/include
endif

# Kernel sets (nn/kernel_set.h): nn/conv3x3.c is compiled once per set with the set's instruction set,
# and the binary picks one at run time from the CPU's features (DYNN_KERNELS forces one). x86-64 has
# three; the rest of dynn is built for the x86-64 baseline, so that one binary runs on every x86-64
# machine (OPT="-O3 -march=native" builds the rest for this machine instead: faster by little, portable
# no more). Other targets have one set, built with the target's flags.
KSET_ARCH := $(if $(TARGET),$(TARGET),$(shell uname -m))
ifeq ($(KSET_ARCH),x86_64)
KSETS             := avx512 avx2 sse2
KSET_FLAGS_avx512 := -march=x86-64-v4 -mtune=generic
KSET_FLAGS_avx2   := -march=x86-64-v3 -mtune=generic
KSET_FLAGS_sse2   := -march=x86-64 -mtune=generic
KSET_OPT          := -O3
OPT      ?= -O3 -march=x86-64 -mtune=generic
else
KSETS    := native
endif
OPT      ?= -O3 -march=native
CFLAGS   ?= $(OPT) -g
# OpenMP: GCC's libgomp, the runtime the OpenMP OpenBLAS uses. (The clang fuzz build passes
# -fopenmp=libgomp: clang then links libgomp and runs the `#pragma omp` loops serially.)
OMPFLAG  ?= -fopenmp
CFLAGS   += -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -ffp-contract=fast $(OMPFLAG) -Wall -Wextra -Werror -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
comma    := ,
LDFLAGS  += $(OMPFLAG) $(if $(BLAS_RPATH),-Wl$(comma)-rpath$(comma)$(BLAS_RPATH)) $(EXTRA_LDFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -lpthread -ldl

GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY  := $(shell test -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" && echo 1 || echo 0)
DYNN_VERSION := 0.1.0

# Every .c under these folders is part of libdynn; main.c is the binary's entry point.
SRC_DIRS := util nn pipeline stages db platforms reports cli
# The files built once per kernel set (nn/kernel_set.h), each as $(BUILD)/nn/NAME-SET.o.
KSET_UNITS := conv3x3 winograd3x3 bn_kernels
KSET_SRC := $(KSET_UNITS:%=nn/%.c)
LIB_SRC  := $(filter-out $(KSET_SRC),$(sort $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c $(d)/*/*.c))))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(foreach u,$(KSET_UNITS),$(KSETS:%=$(BUILD)/nn/$(u)-%.o))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The fake NVML (tests/fake/fake_nvml.c) the GPU clock tests load instead of the driver's libnvidia-ml.so.1.
FAKE_NVML := $(BUILD)/tests/fake/libnvidia-ml.so.1
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

ifeq ($(V),0)
Q := @
endif

.PHONY: all deps deps-cross test unit run reproduce bench sanitize valgrind install clean fuzz fuzz-build
# The ./dynn link always points at the host build.
all: $(BUILD)/dynn $(if $(TARGET),,dynn)

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
	@echo '$(CC) $(CFLAGS) KSET_OPT=$(KSET_OPT)$(if $(filter 1,$(CUDA)), CUDA_ARCHS=$(CUDA_ARCHS))' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/%.o: %.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC  $<")
	$(Q)$(CC) $(CFLAGS) -I$(BUILD) -MMD -MP -c $< -o $@

# One object per kernel set, from the same source (nn/kernel_set.c chooses between them at run time).
# Always optimized (KSET_OPT after the build's OPT): GCC forms FMAs only from -O2, and the AVX-512 set's
# assembly blocks always fuse, so at -O1 (make sanitize) its C blocks would round differently and a
# result would depend on which block, hence which thread split, computed it.
define KSET_RULE
$$(KSETS:%=$$(BUILD)/nn/$(1)-%.o): $$(BUILD)/nn/$(1)-%.o: nn/$(1).c $$(BUILD)/flags
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC  $$< ($$*)")
	$$(Q)$$(CC) $$(CFLAGS) $$(KSET_FLAGS_$$*) $$(KSET_OPT) -DDYNN_KSET=$$* -I$$(BUILD) -MMD -MP -c $$< -o $$@
endef
$(foreach u,$(KSET_UNITS),$(eval $(call KSET_RULE,$(u))))

$(BUILD)/util/version.o: $(BUILD)/buildinfo.h
$(BUILD)/db/schema_sql.o: db/schema.sql   # embedded with .incbin, invisible to -MMD

ifeq ($(CUDA),1)
# The cuda backend's kernels: a fatbin, embedded in backend_cuda.o with .incbin (its path and the
# architectures come in a generated header).
$(BUILD)/nn/cuda_kernels.fatbin: nn/cuda_kernels.cu $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NVCC $<")
	$(Q)$(NVCC) -fatbin -O3 $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
	  -gencode arch=compute_$(lastword $(CUDA_ARCHS)),code=compute_$(lastword $(CUDA_ARCHS)) $< -o $@

$(BUILD)/nn/cuda_kernels_fatbin.h: $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(Q)printf '#define DYNN_CUDA_ARCHS "%s"\n#define DYNN_CUDA_FATBIN "%s"\n' '$(CUDA_ARCHS)' '$(BUILD)/nn/cuda_kernels.fatbin' > $@

$(BUILD)/nn/backend_cuda.o: $(BUILD)/nn/cuda_kernels_fatbin.h $(BUILD)/nn/cuda_kernels.fatbin
endif

$(BUILD)/libdynn.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/dynn: $(BUILD)/main.o $(BUILD)/libdynn.a
	@$(if $(Q),echo "  LD  $@")
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdynn.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC  $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/libdynn.a $(CMOCKA_LIBS) $(LDLIBS) -o $@

$(FAKE_NVML): tests/fake/fake_nvml.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC  $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -fPIC -shared $< -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libdynn.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/libdynn.a $(LDLIBS) -o $@

deps:
	@./ci/deps.sh

deps-cross:
	@./ci/deps.sh --cross

unit: $(UNIT_BIN) $(FAKE_NVML)

# `make test`: deps (with the cross group: two tests run the aarch64 and armhf builds under qemu), build (the fuzz
# targets too: tests/e2e/test_fuzz_corpus.sh runs each over its corpus; on x86-64 the x86-64-v3 build
# build-v3/dynn, which valgrind can run: tests/e2e/test_ci_regression.sh counts instructions with it),
# then every unit test binary and every end-to-end script.
# The builds inside test, run and reproduce take a job per CPU (a fresh clone's build: 27 s serial, 13 s
# on 2 cores of an AMD EPYC Zen 4), unless make was given -j itself (its jobserver then shares the jobs).
SUBMAKE_JOBS = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))

test: deps-cross
	$(Q)$(MAKE) --no-print-directory $(SUBMAKE_JOBS) all unit
	$(Q)$(if $(filter x86_64,$(shell uname -m)),$(MAKE) --no-print-directory $(SUBMAKE_JOBS) BUILD=build-v3 OPT="-O3 -march=x86-64-v3" build-v3/dynn)
	$(Q)$(MAKE) --no-print-directory $(SUBMAKE_JOBS) fuzz-build
	$(Q)BUILD=$(BUILD) ./tests/run.sh

run: deps
	$(Q)$(MAKE) --no-print-directory $(SUBMAKE_JOBS) all
	$(Q)./ci/run-default.sh

# The paper-scale experiments (hours; CIFAR-10 and boards given by CIFAR10=DIR ODROID=HOST JETSON=HOST).
reproduce: deps
	$(Q)$(MAKE) --no-print-directory $(SUBMAKE_JOBS) all
	$(Q)./ci/reproduce.sh

bench:
	$(Q)DYNN_DEPS_EXTRA=1 ./ci/deps.sh
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) ./bench/run.sh

# ASan + UBSan build in its own folder, then the same tests.
sanitize: deps-cross
	$(Q)$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" all unit
	$(Q)BUILD=build-san DYNN_SANITIZE=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ./tests/run.sh

# Unit tests under valgrind: a build without -march=native (valgrind 3.19 cannot decode AVX-512).
valgrind: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-vg OPT="-O1 -march=x86-64-v3" all unit
	$(Q)BUILD=build-vg DYNN_VALGRIND=1 OPENBLAS_CORETYPE=Haswell ./tests/run.sh

# Fuzzing: libFuzzer targets fuzz/fuzz_NAME.c, built with clang (Debian clang-14, libclang-rt-14-dev)
# with ASan and UBSan (any UB aborts) against a clang build of libdynn in build-fuzz: OpenMP pragmas
# are ignored there (-fopenmp=libgomp links GCC's runtime, the one OpenBLAS uses), so a variable only
# an omp clause uses looks unused (-Wno-unused-*). `make fuzz` runs each target for FUZZ_SECONDS
# (default 600), one after another (or only FUZZ_TARGETS="ckpt desc"), from its seeds in fuzz/corpus/NAME
# (read-only: new inputs go to build-fuzz/corpus/NAME, findings to build-fuzz/findings/NAME-*) with
# fuzz/NAME.dict when there is one. Allocations are capped (FUZZ_LIMITS), so an unbounded one is a
# finding. tests/e2e/test_fuzz_corpus.sh runs every target once over its corpus.
FUZZ_CC      ?= clang-14
FUZZ_BUILD   := build-fuzz
FUZZ_OPT     := -O1 -g -fno-omit-frame-pointer -march=native -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_ALL     := $(sort $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 600
FUZZ_LIMITS  := -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=30
# inputs up to 16 KiB for these (a checkpoint, 5 CIFAR records), 64 KiB for a training snapshot (the
# smallest model's is 42 KiB), 4 KiB for the others
FUZZ_BIGGER  := ckpt cifar

fuzz-build: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OMPFLAG=-fopenmp=libgomp \
	  EXTRA_CFLAGS="-Wno-unused-parameter -Wno-unused-variable" \
	  OPT="$(FUZZ_OPT) -fsanitize=fuzzer-no-link" EXTRA_LDFLAGS="-fsanitize=address,undefined" \
	  $(FUZZ_ALL:%=$(FUZZ_BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(BUILD)/libdynn.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD  $@")
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) $< $(BUILD)/libdynn.a $(LDLIBS) -o $@

fuzz: fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/findings && \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s" && \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_LIMITS) \
	    -max_len=$$(case " $(FUZZ_BIGGER) " in *" $$t "*) echo 16384;; *) [ $$t = snapshot ] && echo 65536 || echo 4096;; esac) \
	    $$( [ -f fuzz/$$t.dict ] && echo -dict=fuzz/$$t.dict ) -artifact_prefix=$(FUZZ_BUILD)/findings/$$t- \
	    -print_final_stats=1 $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t < /dev/null || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/dynn/experiments
	install -m 755 $(BUILD)/dynn $(DESTDIR)$(PREFIX)/bin/dynn
	cp -r experiments/. $(DESTDIR)$(PREFIX)/share/dynn/experiments/

clean:
	rm -rf build build-san build-vg build-v3 $(CROSS_TARGETS:%=build-%) build-fuzz dynn

-include $(LIB_OBJ:.o=.d) $(BUILD)/main.d
