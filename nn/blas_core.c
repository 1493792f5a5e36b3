/* nn/blas_core.c — OpenBLAS's kernel choice, and the re-exec that corrects it (blas_core.h). */
#include "nn/blas_core.h"
#include "nn/kernel_set.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLAS_CORE_REEXEC_ENV "DYNN_BLAS_CORE_REEXEC"

const char *blas_core_name(void) {
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}

#if defined(__x86_64__)
/* OpenBLAS cores with AVX2+FMA kernels or better (its x86-64 names). */
static int core_has_avx2(const char *core) {
    static const char *const cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
        if (!strcmp(core, cores[i])) return 1;
    return 0;
}
#endif

const char *blas_core_better(void) {
#if defined(__x86_64__)
    const int level = kernel_set_x86_level();
    if (level < 3 || core_has_avx2(blas_core_name())) return NULL;
    return level >= 4 ? "SkylakeX" : "Haswell";
#else
    return NULL;
#endif
}

void blas_core_ensure(char **argv) {
    const char *better = blas_core_better();
    if (!better || getenv("OPENBLAS_CORETYPE") || getenv(BLAS_CORE_REEXEC_ENV)) return;
    if (setenv("OPENBLAS_CORETYPE", better, 1) || setenv(BLAS_CORE_REEXEC_ENV, "1", 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on with OpenBLAS's own choice */
}
