/* tests/unit/test_backend.c — the inference-backend seam (nn/backend.h) and what it stands on:
 * the cpu backend's logits equal the training Model's eval forward bit for bit, for every subnet of
 * small ResNets and the AlexNet-style net (switchable BN, separate weight sets), at 1 and 2 threads,
 * whatever ran before; an inference Model does not read what it did not write (its activation
 * buffers filled with NaN first); it needs a fraction of the training Model's memory; weights read
 * without a Model equal the saved parameters; the BN epsilon lives in the description (default not
 * written, another value written and used); unknown backends, subnets and batch sizes are refused.
 * The device backends (opencl on pocl, cuda on a GPU where there is one) give the CPU's logits within
 * 1e-4 for every subnet, and switch subnet without allocating or uploading; a malformed cuda device
 * spec is refused before anything loads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "nn/backend.h"
#include "nn/checkpoint.h"
#include "nn/ckpt_file.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "tests/unit/gradcheck.h"
#include "tests/unit/testutil.h"
#include "util/provenance.h"

#define MAX_BATCH 5

/* The cpu backend's device says which CPU ran: this machine's type (uname) and, where
 * /proc/cpuinfo names it, the CPU model. */
static void assert_device_names_this_cpu(const char *device) {
    struct utsname u;
    char model[61]; /* the backend names at most 60 characters of it */
    assert_int_equal(uname(&u), 0);
    provenance_cpu_model(model, sizeof model);
    if (!strstr(device, u.machine)) fail_msg("device '%s' does not name the machine type '%s'", device, u.machine);
    if (strcmp(model, "unknown") && !strstr(device, model)) fail_msg("device '%s' does not name the CPU '%s'", device, model);
}

/* A description with `n` uniform subnets (widths 1/n .. 1, the largest first in the list so that
 * index order is not MAC order), BN sets and weight sets as asked. */
static ModelDesc *make_desc(const char *arch, int in_c, int hw, int n, int bn_sets, int weight_sets) {
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, arch, in_c, hw, hw, 7, 0.25f, &err), 0);
    d->n_subnets = n;
    for (int i = 0; i < n; i++) {
        float w = (float)(n - i) / (float)n;
        snprintf(d->subnets[i].name, sizeof d->subnets[i].name, "w%d", i);
        for (int s = 0; s < d->n_slots; s++) {
            int c = (int)lroundf(w * (float)d->slot_max[s]);
            d->subnets[i].count[s] = c < 1 ? 1 : c;
        }
    }
    model_desc_set_sets(d, bn_sets, weight_sets);
    return d;
}

/* A training Model of d (owned) with random parameters, BN running statistics included. */
static void make_model(Model *m, ModelDesc *d, int threads, uint64_t seed) {
    Err err;
    assert_int_equal(model_create(m, d, MAX_BATCH, threads, &err), 0);
    model_init_params(m, seed);
    for (int p = 0; p < d->n_params; p++) {
        const ParamDesc *pd = &d->params[p];
        if (pd->kind == PARAM_BN_MEAN || pd->kind == PARAM_BN_BETA || pd->kind == PARAM_BN_GAMMA)
            gc_fill_normal(m->param[p], pd->numel, seed + 100 + (uint64_t)p, 0.3f);
        if (pd->kind == PARAM_BN_GAMMA)
            for (size_t k = 0; k < pd->numel; k++) m->param[p][k] += 1.0f;
        if (pd->kind == PARAM_BN_VAR)
            for (size_t k = 0; k < pd->numel; k++) m->param[p][k] = 0.5f + (float)(k % 7) * 0.1f;
    }
}

static void weights_of(const Model *m, ModelWeights *w) {
    Err err;
    assert_int_equal(model_weights_copy(m, w, &err), 0);
}

/* Every subnet, largest to smallest and back, at batches MAX_BATCH, 1 and 3: the backend's logits
 * are the training model's, bit for bit. Returns the number of forwards compared. */
static int compare_all(Model *m, Backend *b, int threads) {
    const ModelDesc *d = m->d;
    float x[MAX_BATCH * 3 * 16 * 16];
    size_t in = (size_t)d->in_c * d->in_h * d->in_w;
    assert_true(in * MAX_BATCH <= sizeof x / sizeof *x);
    float *got = malloc(sizeof(float) * MAX_BATCH * d->classes);
    static const int batches[] = {MAX_BATCH, 1, 3};
    int compared = 0;
    Err err;
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < d->n_subnets; k++) {
            int s = pass ? d->n_subnets - 1 - k : k;
            for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++) {
                int n = batches[bi];
                gc_fill_normal(x, in * (size_t)n, 7 + (uint64_t)(s * 10 + n), 1.0f);
                nn_set_threads(threads);
                model_set_subnet(m, s);
                const float *want = model_forward(m, x, n);
                assert_int_equal(backend_set_subnet(b, s, &err), 0);
                assert_int_equal(backend_forward(b, x, n, got, &err), 0);
                for (int j = 0; j < n * d->classes; j++) assert_true(isfinite(want[j]));
                if (memcmp(want, got, sizeof(float) * (size_t)n * d->classes))
                    fail_msg("%s subnet %d batch %d threads %d: backend logits differ (%.9g vs %.9g)", d->arch, s, n,
                             threads, got[0], want[0]);
                compared++;
            }
        }
    free(got);
    return compared;
}

/* The models every backend is checked on: each architecture dynn builds and each kind of subnet. */
static const struct {
    const char *arch;
    int in_c, hw, subnets, bn_sets, weight_sets;
    int nonuniform; /* 1: every slot of the smaller subnets its own count, which no width gives */
} CASES[] = {
    {"resnet8", 1, 12, 3, 3, 1, 0},  /* switchable BN, shared weights; 1x1 shortcuts */
    {"resnet8", 2, 10, 2, 1, 2, 0},  /* separate weight sets */
    {"resnet20", 1, 8, 4, 1, 1, 0},  /* deeper CIFAR layout */
    {"resnet18", 3, 16, 2, 2, 1, 0}, /* stem max-pool, stride-2 3x3 convs */
    {"alexnet", 3, 12, 3, 3, 1, 0},  /* 5x5 convs, max-pools, linear layers */
    {"resnet20", 1, 8, 3, 3, 1, 1},  /* non-uniform */
};
#define N_CASES (sizeof CASES / sizeof *CASES)

/* A training Model of case c with random parameters (seed 3 + c) for `threads` threads. */
static void make_case_model(Model *m, size_t c, int threads) {
    make_model(m, make_desc(CASES[c].arch, CASES[c].in_c, CASES[c].hw, CASES[c].subnets, CASES[c].bn_sets,
                            CASES[c].weight_sets),
               threads, 3 + c);
    if (CASES[c].nonuniform)
        for (int i = 1; i < m->d->n_subnets; i++)
            for (int sl = 0; sl < m->d->n_slots; sl++) {
                Subnet *sn = &m->d->subnets[i];
                sn->count[sl] = sn->count[sl] > 1 + sl % 3 ? sn->count[sl] - sl % 3 : 1;
            }
}

static void test_cpu_backend_equals_model(void **state) {
    (void)state;
    for (size_t c = 0; c < N_CASES; c++)
        for (int threads = 1; threads <= 2; threads++) {
            Model m;
            make_case_model(&m, c, threads);
            ModelWeights w;
            weights_of(&m, &w);
            Backend *b;
            Err err;
            if (backend_open("cpu", m.d, &w, MAX_BATCH, threads, &b, &err)) fail_msg("%s", err.msg);
            model_weights_free(&w); /* the backend keeps its own copy */
            BackendInfo info;
            backend_info(b, &info);
            assert_string_equal(info.name, "cpu");
            assert_int_equal(info.threads, threads);
            assert_true(info.device[0] != '\0');
            assert_device_names_this_cpu(info.device);
            assert_int_equal(backend_max_batch(b), MAX_BATCH);
            int n = compare_all(&m, b, threads);
            print_message("%s (%d subnets), %d threads: %d forwards bit-identical\n", CASES[c].arch, CASES[c].subnets,
                          threads, n);
            backend_close(b);
            model_free(&m);
        }
}

/* An inference Model's activation buffers (shared between tensors) filled with NaN before every
 * forward: it still computes the training Model's logits, so it reads only what it wrote. */
static void test_inference_model_reads_only_what_it_wrote(void **state) {
    (void)state;
    nn_set_threads(2);
    const char *archs[] = {"resnet8", "alexnet"};
    for (size_t a = 0; a < 2; a++) {
        Model m, inf;
        make_model(&m, make_desc(archs[a], 3, 12, 2, 2, 1), 2, 11);
        ModelDesc *copy = malloc(sizeof *copy);
        memcpy(copy, m.d, sizeof *copy);
        Err err;
        assert_int_equal(model_create_for(&inf, copy, MODEL_INFERENCE, MAX_BATCH, 2, &err), 0);
        assert_null(inf.grad_arena.base);
        for (int p = 0; p < m.d->n_params; p++) {
            assert_null(inf.grad[p]);
            memcpy(inf.param[p], m.param[p], sizeof(float) * m.d->params[p].numel);
        }
        float x[MAX_BATCH * 3 * 12 * 12];
        gc_fill_normal(x, sizeof x / sizeof *x, 5, 1.0f);
        for (int s = 0; s < m.d->n_subnets; s++) {
            for (size_t k = 0; k < inf.act_arena.size; k++) inf.act_arena.base[k] = NAN;
            model_set_subnet(&m, s);
            model_set_subnet(&inf, s);
            const float *want = model_forward(&m, x, MAX_BATCH), *got = model_forward(&inf, x, MAX_BATCH);
            assert_memory_equal(want, got, sizeof(float) * MAX_BATCH * m.d->classes);
        }
        model_free(&inf);
        model_free(&m);
    }
}

/* No gradients, no training buffers, shared activation buffers: ResNet-20 on 28x28 at batch 128
 * needs under a tenth of the training Model's memory, and its need grows with the batch. */
static void test_inference_memory(void **state) {
    (void)state;
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, "resnet20", 1, 28, 28, 10, 1.0f, &err), 0);
    size_t train = model_memory_bytes(d, 128, 2), inf = model_memory_bytes_for(d, MODEL_INFERENCE, 128, 2),
           inf1 = model_memory_bytes_for(d, MODEL_INFERENCE, 1, 2);
    print_message("resnet20 28x28, batch 128: training %.1f MiB, inference %.1f MiB (batch 1: %.2f MiB)\n",
                  train / 1048576.0, inf / 1048576.0, inf1 / 1048576.0);
    assert_true(inf > 0 && inf * 10 < train);
    assert_true(inf1 < inf);
    assert_int_equal(model_memory_bytes(d, 128, 2), model_memory_bytes_for(d, MODEL_TRAINING, 128, 2));
    free(d);
}

/* checkpoint_read_weights: the saved parameters, the description and the tensors' CRC, no Model. */
static void test_read_weights(void **state) {
    char path[512];
    tu_path(path, sizeof path, *state, "m.dnn");
    Model m;
    make_model(&m, make_desc("resnet8", 1, 12, 2, 2, 1), 1, 21);
    Err err;
    assert_int_equal(checkpoint_save(&m, path, &err), 0);
    ModelDesc *d = calloc(1, sizeof *d), *d2 = calloc(1, sizeof *d2);
    ModelWeights w;
    unsigned long crc = 0, crc2 = 1;
    assert_int_equal(checkpoint_read_weights(path, d, &w, &crc, &err), 0);
    assert_int_equal(checkpoint_read_desc(path, d2, &crc2, &err), 0);
    assert_int_equal(crc, crc2);
    assert_int_equal(d->n_params, m.d->n_params);
    assert_int_equal(d->n_subnets, 2);
    for (int p = 0; p < d->n_params; p++)
        assert_memory_equal(w.param[p], m.param[p], sizeof(float) * d->params[p].numel);
    assert_true(model_weights_param(&w, d, 1, 1) == w.param[1] + (d->params[1].sets > 1 ? d->params[1].set_numel : 0));
    model_weights_free(&w);
    /* a damaged file: refused, nothing allocated */
    tu_write_file(path, "DYNNCKPT", 8);
    assert_int_equal(checkpoint_read_weights(path, d, &w, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "m.dnn"));
    assert_null(w.data);
    free(d);
    free(d2);
    model_free(&m);
}

/* The BN epsilon is the description's: 1e-5 by default and then not written (so checkpoints keep
 * their bytes); another value is written, read back, and used by both executors. */
static void test_bn_eps_in_description(void **state) {
    char path[512];
    tu_path(path, sizeof path, *state, "e.dnn");
    Model m;
    make_model(&m, make_desc("resnet8", 1, 12, 1, 1, 1), 1, 31);
    assert_true(m.d->bn_eps == MODEL_BN_EPS && MODEL_BN_EPS == 1e-5f);
    Err err;
    CkptFile f;
    assert_int_equal(checkpoint_save(&m, path, &err), 0);
    assert_int_equal(ckpt_read(path, &f, &err), 0);
    assert_null(strstr(f.meta, "bn_eps"));
    ckpt_free(&f);
    float x[2 * 144], before[14];
    gc_fill_normal(x, 2 * 144, 9, 1.0f);
    nn_set_threads(1);
    memcpy(before, model_forward(&m, x, 2), sizeof before);
    m.d->bn_eps = 0.25f;
    assert_int_equal(checkpoint_save(&m, path, &err), 0);
    assert_int_equal(ckpt_read(path, &f, &err), 0);
    assert_non_null(strstr(f.meta, "\nbn_eps 0.25\n"));
    ckpt_free(&f);
    const float *after = model_forward(&m, x, 2);
    assert_true(memcmp(before, after, sizeof before) != 0); /* the model uses it */
    ModelDesc *d = calloc(1, sizeof *d);
    ModelWeights w;
    assert_int_equal(checkpoint_read_weights(path, d, &w, NULL, &err), 0);
    assert_true(d->bn_eps == 0.25f);
    Backend *b;
    float got[14];
    assert_int_equal(backend_open(NULL, d, &w, 2, 1, &b, &err), 0);
    assert_int_equal(backend_forward(b, x, 2, got, &err), 0);
    assert_memory_equal(got, after, sizeof got);
    backend_close(b);
    model_weights_free(&w);
    free(d);
    model_free(&m);
}

static void test_backend_refusals(void **state) {
    (void)state;
    Err err;
    size_t n;
    const BackendType *const *types = backend_types(&n);
    assert_true(n >= 1);
    assert_string_equal(types[0]->name, BACKEND_DEFAULT);
    assert_ptr_equal(backend_find("cpu", &err), &backend_type_cpu);
#ifdef DYNN_HAVE_OPENCL
#define BUILT_IN_OPENCL ", opencl"
#else
#define BUILT_IN_OPENCL ""
#endif
#ifdef DYNN_HAVE_CUDA
#define BUILT_IN_CUDA ", cuda"
#else
#define BUILT_IN_CUDA ""
#endif
#define BUILT_IN "cpu" BUILT_IN_OPENCL BUILT_IN_CUDA
    assert_null(backend_find("fpga", &err));
    assert_string_equal(err.msg, "backend 'fpga' is not built into this dynn (built in: " BUILT_IN ")");
    assert_null(backend_find("cpuu", &err));
    assert_string_equal(err.msg, "backend 'cpuu' is not built into this dynn (did you mean 'cpu'?) (built in: " BUILT_IN ")");
    assert_null(backend_find("fpga:0", &err));
    assert_string_equal(err.msg, "backend 'fpga' is not built into this dynn (built in: " BUILT_IN ")");
#ifdef DYNN_HAVE_CUDA
    assert_ptr_equal(backend_find("cuda:0", &err), &backend_type_cuda);
#else
    assert_null(backend_find("cuda", &err));
    assert_string_equal(err.msg, "backend 'cuda' is not built into this dynn (built in: " BUILT_IN ")");
#endif
    Model m;
    make_model(&m, make_desc("resnet8", 1, 12, 2, 1, 1), 1, 41);
    ModelWeights w;
    weights_of(&m, &w);
    Backend *b = (Backend *)&err;
    assert_int_equal(backend_open("fpga", m.d, &w, 2, 1, &b, &err), -1);
    assert_null(b);
    assert_non_null(strstr(err.msg, "backend 'fpga' is not built into this dynn"));
    b = (Backend *)&err;
    assert_int_equal(backend_open("cpu:1", m.d, &w, 2, 1, &b, &err), -1);
    assert_null(b);
    assert_string_equal(err.msg, "backend cpu: no device '1' (the cpu backend runs on this process's CPUs)");
    assert_int_equal(backend_open("cpu", m.d, &w, 2, 1, &b, &err), 0);
    assert_int_equal(backend_set_subnet(b, 2, &err), -1);
    assert_string_equal(err.msg, "backend cpu: no subnet 2 (the model has 2)");
    assert_int_equal(backend_set_subnet(b, -1, &err), -1);
    float x[3 * 144] = {0}, y[3 * 7];
    assert_int_equal(backend_forward(b, x, 3, y, &err), -1);
    assert_string_equal(err.msg, "backend cpu: batch 3 is outside 1..2 (the batch it was opened for)");
    assert_int_equal(backend_forward(b, x, 0, y, &err), -1);
    assert_int_equal(backend_forward(b, x, 2, y, &err), 0);
    backend_close(b);
    backend_close(NULL);
    model_weights_free(&w);
    model_free(&m);
}


/* Every subnet of every case through a device backend (opencl: pocl in make test; cuda: a GPU where
 * there is one) against the CPU training model's eval forward: max |difference| / max |logit| below
 * 1e-4 and the same predicted class for every image, at batches MAX_BATCH, 1 and 3, switching
 * subnets in both directions; switching subnet and running forward allocate nothing on the device
 * and upload only the input. Skipped, saying why, when the open fails with one of `no_device` (the
 * machine has no such device). Unused in a build with neither OpenCL nor CUDA (the cross builds). */
static __attribute__((unused)) void check_device_backend(const char *backend, const char *const *no_device) {
    int compared = 0;
    for (size_t c = 0; c < N_CASES; c++) {
        Model m;
        make_case_model(&m, c, 1);
        ModelWeights w;
        weights_of(&m, &w);
        Backend *b;
        Err err;
        if (backend_open(backend, m.d, &w, MAX_BATCH, 1, &b, &err)) {
            for (const char *const *why = no_device; *why; why++)
                if (strstr(err.msg, *why)) {
                    print_message("SKIP: %s\n", err.msg);
                    model_weights_free(&w);
                    model_free(&m);
                    skip();
                }
            fail_msg("%s", err.msg);
        }
        model_weights_free(&w);
        BackendInfo info;
        backend_info(b, &info);
        int compared_here = 0;
        assert_string_equal(info.name, backend);
        assert_true(info.device[0] != '\0');
        const long long allocations = info.allocations, uploads = info.uploads;
        assert_true(allocations > 0 && uploads > 0); /* the parameters, the folded BN */
        const ModelDesc *d = m.d;
        float x[MAX_BATCH * 3 * 16 * 16], got[MAX_BATCH * 7];
        size_t in = (size_t)d->in_c * d->in_h * d->in_w;
        static const int batches[] = {MAX_BATCH, 1, 3};
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < d->n_subnets; k++) {
                int s = pass ? d->n_subnets - 1 - k : k;
                for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++) {
                    int n = batches[bi];
                    gc_fill_normal(x, in * (size_t)n, 7 + (uint64_t)(s * 10 + n), 1.0f);
                    model_set_subnet(&m, s);
                    const float *want = model_forward(&m, x, n);
                    assert_int_equal(backend_set_subnet(b, s, &err), 0);
                    if (backend_forward(b, x, n, got, &err)) fail_msg("%s", err.msg);
                    assert_true(backend_device_ms(b) > 0.0);
                    float max_logit = 0.0f, max_diff = 0.0f;
                    for (int j = 0; j < n * d->classes; j++) {
                        assert_true(isfinite(got[j]));
                        max_logit = fmaxf(max_logit, fabsf(want[j]));
                        max_diff = fmaxf(max_diff, fabsf(want[j] - got[j]));
                    }
                    if (max_diff > 1e-4f * max_logit)
                        fail_msg("%s subnet %d batch %d: max |%s - cpu| = %g, max |logit| = %g", d->arch, s, n, backend,
                                 (double)max_diff, (double)max_logit);
                    for (int img = 0; img < n; img++) {
                        int a = 0, g = 0;
                        for (int j = 1; j < d->classes; j++) {
                            if (want[img * d->classes + j] > want[img * d->classes + a]) a = j;
                            if (got[img * d->classes + j] > got[img * d->classes + g]) g = j;
                        }
                        if (a != g)
                            fail_msg("%s subnet %d batch %d image %d: class %d on %s, %d on cpu", d->arch, s, n, img, g,
                                     backend, a);
                    }
                    compared++;
                    compared_here++;
                }
            }
        /* switching subnet and running forward: no device allocation, one upload per forward (the input) */
        backend_info(b, &info);
        assert_int_equal(info.allocations, allocations);
        assert_int_equal(info.uploads, uploads + compared_here);
        print_message("%s (%d subnets) on %s: every forward within 1e-4 of the CPU; %lld device buffers, all "
                      "allocated at open\n", d->arch, d->n_subnets, info.device, info.allocations);
        backend_close(b);
        model_free(&m);
    }
    assert_true(compared > 0);
}

static void test_opencl_backend_close_to_model(void **state) {
    (void)state;
#ifndef DYNN_HAVE_OPENCL
    print_message("SKIP: this dynn is built without OpenCL (pkg-config found no OpenCL + CLBlast: ci/deps.sh)\n");
    skip();
#else
    if (getenv("DYNN_VALGRIND")) { /* pocl compiles kernels with LLVM at run time: hours under valgrind */
        print_message("SKIP: under valgrind (pocl's run-time LLVM compilation takes hours there; make test and make "
                      "sanitize run this test)\n");
        skip();
    }
    static const char *const no_device[] = {"no OpenCL platform", NULL};
    check_device_backend("opencl", no_device);
#endif
}

/* The same check through the cuda backend, where this machine has an NVIDIA GPU and its driver. */
static void test_cuda_backend_close_to_model(void **state) {
    (void)state;
#ifndef DYNN_HAVE_CUDA
    print_message("SKIP: this dynn is built without CUDA (no nvcc, cudnn.h and cublas_v2.h under CUDA_HOME, or CUDA=0)\n");
    skip();
#else
    static const char *const no_device[] = {"no CUDA driver", "no CUDA GPU", NULL};
    check_device_backend("cuda", no_device);
#endif
}

/* Malformed cuda device specs are refused before anything is loaded, GPU or not. */
static void test_cuda_device_spec(void **state) {
    (void)state;
#ifndef DYNN_HAVE_CUDA
    print_message("SKIP: this dynn is built without CUDA\n");
    skip();
#else
    Model m;
    make_model(&m, make_desc("resnet8", 1, 12, 2, 1, 1), 1, 43);
    ModelWeights w;
    weights_of(&m, &w);
    static const char *const bad[] = {"cuda:x", "cuda:-1", "cuda:0:1", "cuda:1x", "cuda:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        Backend *b = (Backend *)&w;
        Err err;
        assert_int_equal(backend_open(bad[i], m.d, &w, 2, 1, &b, &err), -1);
        assert_null(b);
        char want[128];
        snprintf(want, sizeof want, "cuda device '%s': expected a device index (cuda:N), as 'dynn devices' lists them",
                 bad[i] + 5);
        assert_string_equal(err.msg, want);
    }
    model_weights_free(&w);
    model_free(&m);
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_backend_equals_model),
        cmocka_unit_test(test_opencl_backend_close_to_model),
        cmocka_unit_test(test_cuda_backend_close_to_model),
        cmocka_unit_test(test_cuda_device_spec),
        cmocka_unit_test(test_inference_model_reads_only_what_it_wrote),
        cmocka_unit_test(test_inference_memory),
        cmocka_unit_test_setup_teardown(test_read_weights, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_bn_eps_in_description, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test(test_backend_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
