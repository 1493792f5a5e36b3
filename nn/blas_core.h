/* nn/blas_core.h — which OpenBLAS kernels (its "core") this process runs. OpenBLAS (DYNAMIC_ARCH)
 * chooses them when it loads, from the CPU model; a model newer than the library (Debian 12's 0.3.21
 * does not know Intel Emerald Rapids) gets a fallback far below the CPU: SSE3 "Prescott" kernels, 4x
 * slower sgemm on an AVX-512 machine. blas_core_ensure re-executes the process with OPENBLAS_CORETYPE
 * naming kernels of the CPU's vector level (SkylakeX for AVX-512, Haswell for AVX2+FMA) in that case;
 * a user's own OPENBLAS_CORETYPE is left alone. */
#ifndef DYNN_NN_BLAS_CORE_H
#define DYNN_NN_BLAS_CORE_H

/* OpenBLAS's name for the kernels it runs ("SkylakeX", "Haswell", "Prescott", "ARMV8", ...). */
const char *blas_core_name(void);
/* The core this CPU should run when OpenBLAS's own choice is below its vector level, else NULL. */
const char *blas_core_better(void);
/* Re-executes argv (this executable, /proc/self/exe) with OPENBLAS_CORETYPE=blas_core_better() when
 * there is one, OPENBLAS_CORETYPE is unset and this is not already the re-executed process; returns
 * when nothing is to be done or the exec failed (the process then runs on OpenBLAS's choice). */
void blas_core_ensure(char **argv);

#endif
