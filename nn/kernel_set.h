/* nn/kernel_set.h — which compiled set of compute kernels this process runs. On x86-64 the direct 3x3
 * convolutions (nn/conv3x3.c, nn/winograd3x3.c) and a BN's plane passes (nn/bn_kernels.c) are built
 * once per instruction set (avx512: x86-64-v4, avx2: x86-64-v3,
 * sse2: the x86-64 baseline) and one binary runs on every x86-64 machine: the set is chosen once, at the
 * first convolution or at kernel_set_init, as the best one the CPU supports, or the one DYNN_KERNELS
 * names. Other targets (aarch64, armv7) have one set, their own. The rest of dynn is built for the
 * baseline (OpenBLAS chooses its own kernels at run time, see nn/blas_core.h). */
#ifndef DYNN_NN_KERNEL_SET_H
#define DYNN_NN_KERNEL_SET_H

#include "nn/conv3x3.h"
#include "util/err.h"

/* The environment variable that forces a set: a set's name, or "auto" (the default). */
#define KERNEL_SET_ENV "DYNN_KERNELS"

/* The environment variable that picks the 3x3 stride-1 forward's algorithm: "direct" (nn/conv3x3.c),
 * "winograd" (nn/winograd3x3.c, wherever it can run), or "auto" (the default: Winograd where it measured
 * faster, see conv3x3.c's winograd_chosen). A forced choice shows in kernel_set_build_id. */
#define CONV_ALGO_ENV "DYNN_CONV3X3"
enum { KERNEL_CONV_AUTO, KERNEL_CONV_DIRECT, KERNEL_CONV_WINOGRAD };
/* The algorithm choice (KERNEL_CONV_*), made with the set's. */
int kernel_set_conv_algo(void);
/* The choice for people: "direct", "winograd", or "auto (...)". */
const char *kernel_set_conv_algo_name(void);

/* Chooses the set (DYNN_KERNELS, else the best the CPU supports); idempotent. Error: DYNN_CONV3X3 names no algorithm, DYNN_KERNELS
 * names no set of this build, or one this CPU cannot run. A process that never calls it gets the same
 * choice at its first convolution (and exits with the message when DYNN_KERNELS is wrong). */
int kernel_set_init(Err *err);
/* The chosen set (choosing it now if need be). */
const Conv3x3Kernels *kernel_set(void);

/* The x86-64 micro-architecture level this CPU runs (and its OS saves the registers of): 4 (x86-64-v4's
 * AVX-512 subsets), 3 (AVX2, FMA, BMI1/2), else 1; 0 on other architectures. The one place dynn asks
 * the CPU what it has (the kernel sets here, OpenBLAS's core in nn/blas_core.c). */
int kernel_set_x86_level(void);

/* The sets of this build, best first: count, and the i-th (its table), and whether this CPU runs it. */
int kernel_set_count(void);
const Conv3x3Kernels *kernel_set_at(int i);
int kernel_set_supported(int i);
/* Why the set was chosen: "auto: the best this CPU supports" or "DYNN_KERNELS=avx2". */
const char *kernel_set_reason(void);
/* What a computed result depends on: the build (util/version.h's dynn_build_id) and the kernels that
 * ran, this set's and OpenBLAS's ("0.1.0+abc -O3 ... kernels=avx2 blas=Haswell"): the pipeline's
 * cache keys and every run's provenance use it, so a result of one set is never reused for another. */
const char *kernel_set_build_id(void);

#endif
