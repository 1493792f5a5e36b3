/* tests/unit/test_model.c — whole networks: numerical gradient check of a small ResNet and of the
 * AlexNet-style net (every parameter tensor sampled), determinism (same seed + same threads =
 * identical bits), checkpoint round trip and refusal of corrupted/truncated checkpoints,
 * architecture bookkeeping (ResNet-20 MACs/params, depth validation). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/checkpoint.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "nn/parallel.h"
#include "tests/unit/gradcheck.h"
#include "tests/unit/testutil.h"

static Model make_model(const char *arch, int in_c, int hw, int classes, float width, int batch, int threads) {
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, arch, in_c, hw, hw, classes, width, &err), 0);
    Model m;
    assert_int_equal(model_create(&m, d, batch, threads, &err), 0);
    model_init_params(&m, 42);
    return m;
}

static double gradcheck_network(Model *m, int n, int threads, float h, int *skipped, int *checked) {
    nn_set_threads(threads);
    return gc_network(m, n, h, 5e-2, 12, 0, skipped, checked);
}

/* Tolerance 5e-2 (relative, floor 5% of the tensor's gradient RMS), h = 1e-3: the whole network in
 * float32 with BN in training mode; residual adds, projection shortcuts, GAP and FC all on the path.
 * Coordinates with a ReLU kink within h are skipped; at most 10% may be. */
static void test_resnet_gradcheck(void **state) {
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        Model m = make_model("resnet8", 2, 8, 3, 0.5f, 4, threads);
        int skipped = 0, checked = 0;
        double worst = gradcheck_network(&m, 4, threads, 1e-3f, &skipped, &checked);
        print_message("resnet8 (width 0.5, 8x8x2, %d threads): worst relative error %.3g, %d of %d on a kink\n", threads,
                      worst, skipped, checked);
        assert_true(worst < 5e-2);
        assert_true(skipped * 10 <= checked);
        model_free(&m);
    }
}

static void test_alexnet_gradcheck(void **state) {
    (void)state;
    Model m = make_model("alexnet", 3, 8, 4, 0.125f, 3, 1);
    int skipped = 0, checked = 0;
    double worst = gradcheck_network(&m, 3, 1, 1e-3f, &skipped, &checked);
    print_message("alexnet (width 1/8, 8x8x3): worst relative error %.3g, %d of %d on a kink\n", worst, skipped, checked);
    assert_true(worst < 5e-2);
    assert_true(skipped * 10 <= checked);
    model_free(&m);
}

/* A few SGD steps on fixed random data; returns a copy of all parameters. */
static float *train_steps(uint64_t seed, int threads, size_t *n_floats) {
    nn_set_threads(threads);
    Model m = make_model("resnet8", 1, 12, 4, 0.5f, 16, threads);
    model_init_params(&m, seed);
    Sgd opt;
    SgdConfig cfg = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 1, .decay_bn = 1};
    Err err;
    assert_int_equal(sgd_create(&opt, &m, &cfg, &err), 0);
    float *x = malloc(16 * 144 * 4);
    int labels[16];
    for (int step = 0; step < 4; step++) {
        gc_fill_normal(x, 16 * 144, 100 + step, 1.0f);
        for (int i = 0; i < 16; i++) labels[i] = (i + step) % 4;
        m.training = 1;
        model_zero_grad(&m);
        model_forward(&m, x, 16);
        model_loss(&m, labels, NULL);
        model_backward(&m);
        sgd_step(&opt, &m, 0.05f, NULL);
    }
    *n_floats = m.param_arena.size;
    float *copy = malloc(*n_floats * 4);
    memcpy(copy, m.param_arena.base, *n_floats * 4);
    sgd_free(&opt);
    free(x);
    model_free(&m);
    return copy;
}

static void test_determinism(void **state) {
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        size_t n1, n2, n3;
        float *a = train_steps(9, threads, &n1), *b = train_steps(9, threads, &n2), *c = train_steps(10, threads, &n3);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, n1 * 4);                 /* same seed, same threads: same bits */
        assert_true(memcmp(a, c, n1 * 4) != 0);            /* another seed: another model */
        free(a); free(b); free(c);
    }
}

static void test_checkpoint_round_trip_and_corruption(void **state) {
    (void)state;
    nn_set_threads(1);
    char *dir = tu_tmpdir(), path[512], bad[512];
    tu_path(path, sizeof path, dir, "m.dnn");
    Model m = make_model("resnet8", 1, 12, 5, 0.5f, 4, 1);
    m.d->norm_mean[0] = 0.25f;
    m.d->norm_std[0] = 0.5f;
    model_desc_set_meta(m.d, "train.epochs", "%d", 3);
    /* make running statistics non-trivial */
    float x[4 * 144];
    int labels[4] = {0, 1, 2, 3};
    gc_fill_normal(x, 4 * 144, 3, 1.0f);
    m.training = 1;
    model_forward(&m, x, 4);
    m.training = 0;
    float logits[20];
    memcpy(logits, model_forward(&m, x, 4), sizeof logits);
    Err err;
    assert_int_equal(checkpoint_save(&m, path, &err), 0);
    Model r;
    assert_int_equal(checkpoint_load(path, &r, 4, 1, &err), 0);
    assert_string_equal(r.d->arch, "resnet8");
    assert_int_equal(r.d->n_params, m.d->n_params);
    assert_memory_equal(r.param_arena.base, m.param_arena.base, m.param_arena.size * 4);
    assert_true(r.d->norm_mean[0] == 0.25f && r.d->norm_std[0] == 0.5f);
    assert_string_equal(model_desc_get_meta(r.d, "train.epochs"), "3");
    assert_memory_equal(model_forward(&r, x, 4), logits, sizeof logits); /* same logits, bit for bit */
    (void)labels;
    model_free(&r);
    /* corrupt one byte in the middle of the tensor data: refused, naming a tensor */
    size_t len;
    unsigned char *bytes = tu_read_file(path, &len);
    assert_non_null(bytes);
    tu_path(bad, sizeof bad, dir, "bad.dnn");
    bytes[len / 2] ^= 0x40;
    tu_write_file(bad, bytes, len);
    assert_int_equal(checkpoint_load(bad, &r, 4, 1, &err), -1);
    assert_non_null(strstr(err.msg, "bad.dnn"));
    assert_non_null(strstr(err.msg, "CRC"));
    bytes[len / 2] ^= 0x40;
    /* truncated anywhere: refused */
    size_t cuts[4] = {4, 40, len / 3, len - 3};
    for (int i = 0; i < 4; i++) {
        tu_write_file(bad, bytes, cuts[i]);
        assert_int_equal(checkpoint_load(bad, &r, 4, 1, &err), -1);
        assert_non_null(strstr(err.msg, "bad.dnn"));
    }
    free(bytes);
    model_free(&m);
    tu_rmtree(dir);
    free(dir);
}

static void test_architectures(void **state) {
    (void)state;
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    /* ResNet-20 on CIFAR-10 (32x32x3): 0.27 M params and 40.8 M MACs (He et al. 2016) */
    assert_int_equal(model_desc_build(d, "resnet20", 3, 32, 32, 10, 1.0f, &err), 0);
    double params = model_subnet_params(d, d->subnets[0].count), macs = model_subnet_macs(d, d->subnets[0].count);
    print_message("resnet20 cifar: %.0f params, %.2f MMACs\n", params, macs / 1e6);
    assert_true(params > 0.26e6 && params < 0.28e6);
    assert_true(macs > 40.0e6 && macs < 41.5e6);
    /* ResNet-18 on ImageNet (224x224x3): 11.7 M params, 1.82 G MACs */
    assert_int_equal(model_desc_build(d, "resnet18", 3, 224, 224, 1000, 1.0f, &err), 0);
    params = model_subnet_params(d, d->subnets[0].count);
    macs = model_subnet_macs(d, d->subnets[0].count);
    print_message("resnet18 imagenet: %.0f params, %.3f GMACs\n", params, macs / 1e9);
    assert_true(params > 11.6e6 && params < 11.8e6);
    assert_true(macs > 1.80e9 && macs < 1.83e9);
    /* ResNet-110 has 54 blocks: builds within the limits */
    assert_int_equal(model_desc_build(d, "resnet110", 3, 32, 32, 10, 1.0f, &err), 0);
    /* bad names and depths */
    assert_int_equal(model_desc_build(d, "resnet21", 3, 32, 32, 10, 1.0f, &err), -1);
    assert_non_null(strstr(err.msg, "6n+2"));
    assert_int_equal(model_desc_build(d, "vgg16", 3, 32, 32, 10, 1.0f, &err), -1);
    assert_non_null(strstr(err.msg, "unknown model"));
    assert_int_equal(model_desc_build(d, "alexnet", 3, 4, 4, 10, 1.0f, &err), -1);
    assert_non_null(strstr(err.msg, "8x8"));
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_architectures),
        cmocka_unit_test(test_resnet_gradcheck),
        cmocka_unit_test(test_alexnet_gradcheck),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_checkpoint_round_trip_and_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
