/* nn/kernel_set.c — the choice of kernel set (kernel_set.h) and the conv3x3_* entry points of
 * conv3x3.h, which run the chosen set's kernels. */
#include "nn/kernel_set.h"

#include "nn/blas_core.h"
#include "util/version.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct SetEntry {
    const Conv3x3Kernels *k;
    int (*cpu_runs)(void);
} SetEntry;

int kernel_set_x86_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    /* GCC's checks include the OS's XSAVE state for the AVX and AVX-512 registers */
    const int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
                   __builtin_cpu_supports("bmi2");
    const int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512vl");
    return v4 ? 4 : v3 ? 3 : 1;
#else
    return 0;
#endif
}

static int cpu_any(void) { return 1; }
#if defined(__x86_64__)
extern const Conv3x3Kernels conv3x3_kernels_avx512, conv3x3_kernels_avx2, conv3x3_kernels_sse2;
static int cpu_v4(void) { return kernel_set_x86_level() >= 4; }
static int cpu_v3(void) { return kernel_set_x86_level() >= 3; }
static const SetEntry sets[] = {
    {&conv3x3_kernels_avx512, cpu_v4},
    {&conv3x3_kernels_avx2, cpu_v3},
    {&conv3x3_kernels_sse2, cpu_any},
};
#else
extern const Conv3x3Kernels conv3x3_kernels_native;
static const SetEntry sets[] = {{&conv3x3_kernels_native, cpu_any}};
#endif
enum { SET_COUNT = sizeof sets / sizeof sets[0] };

static const Conv3x3Kernels *chosen;
static char reason[128];
static Err choice_err;
static int choice_rc;
static pthread_once_t choice_once = PTHREAD_ONCE_INIT;

int kernel_set_count(void) { return SET_COUNT; }
const Conv3x3Kernels *kernel_set_at(int i) { return i >= 0 && i < SET_COUNT ? sets[i].k : NULL; }
int kernel_set_supported(int i) { return i >= 0 && i < SET_COUNT && sets[i].cpu_runs(); }

static void names(char *out, size_t size, int supported_only) {
    out[0] = '\0';
    for (int i = 0; i < SET_COUNT; i++)
        if (!supported_only || sets[i].cpu_runs())
            snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? ", " : "", sets[i].k->name);
}

static int conv_algo = KERNEL_CONV_AUTO;

/* CONV_ALGO_ENV: auto (unset), direct or winograd; 0 or an error. */
static int choose_conv_algo(void) {
    const char *a = getenv(CONV_ALGO_ENV);
    if (!a || !*a || !strcmp(a, "auto")) conv_algo = KERNEL_CONV_AUTO;
    else if (!strcmp(a, "direct")) conv_algo = KERNEL_CONV_DIRECT;
    else if (!strcmp(a, "winograd")) conv_algo = KERNEL_CONV_WINOGRAD;
    else
        return err_set(&choice_err, "%s=%.40s: no such 3x3 convolution algorithm: set it to direct, winograd or auto",
                       CONV_ALGO_ENV, a);
    return 0;
}

static void choose_set(void);

static void choose(void) {
    choice_rc = choose_conv_algo();
    if (!choice_rc) choose_set();
}

int kernel_set_conv_algo(void) {
    kernel_set();
    return conv_algo;
}

const char *kernel_set_conv_algo_name(void) {
    static const char *const names[] = {"auto (Winograd where it measured faster, else direct)", "direct", "winograd"};
    return names[kernel_set_conv_algo()];
}

static void choose_set(void) {
    const char *want = getenv(KERNEL_SET_ENV);
    if (!want || !*want || !strcmp(want, "auto")) {
        for (int i = 0; i < SET_COUNT && !chosen; i++)
            if (sets[i].cpu_runs()) chosen = sets[i].k;
        snprintf(reason, sizeof reason, "auto: the best this CPU supports");
        return;
    }
    char list[128];
    for (int i = 0; i < SET_COUNT; i++) {
        if (strcmp(want, sets[i].k->name)) continue;
        if (!sets[i].cpu_runs()) {
            names(list, sizeof list, 1);
            choice_rc = err_set(&choice_err, "%s=%s: this CPU cannot run the %s kernels (%s): set it to one of: %s, or auto",
                                KERNEL_SET_ENV, want, want, sets[i].k->isa, list);
            return;
        }
        chosen = sets[i].k;
        snprintf(reason, sizeof reason, "%s=%s", KERNEL_SET_ENV, want);
        return;
    }
    names(list, sizeof list, 0);
    choice_rc = err_set(&choice_err, "%s=%.40s: no such kernel set in this build: set it to one of: %s, or auto",
                        KERNEL_SET_ENV, want, list);
}

int kernel_set_init(Err *err) {
    pthread_once(&choice_once, choose);
    if (choice_rc && err) *err = choice_err;
    return choice_rc;
}

const Conv3x3Kernels *kernel_set(void) {
    pthread_once(&choice_once, choose);
    if (choice_rc) { /* only a program that skipped kernel_set_init gets here with a bad DYNN_KERNELS */
        fprintf(stderr, "dynn: %s\n", choice_err.msg);
        exit(2);
    }
    return chosen;
}

const char *kernel_set_reason(void) {
    kernel_set();
    return reason;
}

static char build_id[384];
static pthread_once_t build_id_once = PTHREAD_ONCE_INIT;

static void fill_build_id(void) {
    static const char *const algo[] = {"", " conv=direct", " conv=winograd"};
    snprintf(build_id, sizeof build_id, "%s kernels=%s%s blas=%s", dynn_build_id(), kernel_set()->name,
             algo[kernel_set_conv_algo()], blas_core_name());
}

const char *kernel_set_build_id(void) {
    pthread_once(&build_id_once, fill_build_id);
    return build_id;
}

int conv3x3_direct_applies(const ConvShape *s) {
    return s->k == 3 && s->pad == 1 && (s->stride == 1 || s->stride == 2);
}

int conv3x3_backward_applies(const ConvShape *s) { return s->k == 3 && s->pad == 1 && s->stride == 1; }

size_t conv3x3_workspace_floats(const ConvShape *s, int threads) { return kernel_set()->workspace_floats(s, threads); }
size_t conv3x3_padded_plane_floats(int h, int w) { return kernel_set()->padded_plane_floats(h, w); }
int conv3x3_padded_origin(int h, int w) { return kernel_set()->padded_origin(h, w); }

void conv3x3_forward(float *out, const float *in, const float *weight, const ConvShape *s, float *ws) {
    kernel_set()->forward(out, in, weight, s, ws);
}

void conv3x3_forward_affine(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                            const float *scale, const float *shift, int relu) {
    kernel_set()->forward_affine(out, in, weight, s, ws, scale, shift, relu);
}

void conv3x3_forward_sums(float *out, const float *in, const float *weight, const ConvShape *s, float *ws,
                          float *sums) {
    kernel_set()->forward_sums(out, in, weight, s, ws, sums);
}

void conv3x3_backward_data_bn(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                              int accumulate, const Conv3x3BnGrad *bn) {
    kernel_set()->backward_data_bn(dinp, dout, weight, s, ws, accumulate, bn);
}

void conv3x3_backward_data(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws,
                           int accumulate) {
    kernel_set()->backward_data_bn(dinp, dout, weight, s, ws, accumulate, NULL);
}

void conv3x3_backward_weight(float *dweight, const float *dout, const float *in, const ConvShape *s, float *ws) {
    kernel_set()->backward_weight(dweight, dout, in, s, ws);
}
