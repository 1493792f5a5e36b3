/* tests/unit/test_synthetic.c — synthetic models (nn/synthetic.c): the same spec and seed give the
 * same weights and the same file (another seed other weights), the weights are the initial values of
 * a new Model; ResNet-18 at 224x224 has the shapes and MACs of the paper's network; subnets from
 * widths and from channel lists (the DAC 2020 four of experiments/paper-resnet.yaml at their MACs
 * ratios); every bad channel list and input shape is one line naming the subnet and slot; the
 * `synthetic` mark survives a checkpoint round trip, a description without it (an older file) reads
 * as not synthetic, and a trained model's description does not gain the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/checkpoint.h"
#include "nn/ckpt_file.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "nn/synthetic.h"
#include "tests/unit/testutil.h"

/* The four subnets of experiments/paper-resnet.yaml (ResNet-18 slots in `dynn info` order). */
static const char DAC2020[] = "32,24,24,64,48,48,128,96,96,256,192,192/40,40,40,96,64,64,192,128,128,384,256,256/"
                              "56,48,48,112,96,96,224,192,192,448,384,384/64,64,64,128,128,128,256,256,256,512,512,512";

static SyntheticSpec small_spec(void) {
    SyntheticSpec s = {.arch = "resnet8", .in_c = 3, .in_h = 12, .in_w = 12, .classes = 7, .width = 0.5f,
                       .widths = {0.5f, 1.0f}, .n_widths = 2, .seed = 11};
    return s;
}

static void test_deterministic(void **state) {
    (void)state;
    ModelDesc *d1 = calloc(1, sizeof *d1), *d2 = calloc(1, sizeof *d2);
    assert_non_null(d1);
    assert_non_null(d2);
    ModelWeights a, b;
    Err err;
    SyntheticSpec s = small_spec();
    assert_int_equal(synthetic_build(&s, d1, &a, &err), 0);
    assert_int_equal(synthetic_build(&s, d2, &b, &err), 0);
    size_t n = model_desc_param_floats(d1);
    assert_true(n > 1000);
    assert_memory_equal(a.data, b.data, n * sizeof(float));
    /* the initial values of a new Model of the same description and seed */
    Model m = {0};
    ModelDesc *copy = malloc(sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, d1, sizeof *copy);
    assert_int_equal(model_create(&m, copy, 2, 1, &err), 0);
    model_init_params(&m, s.seed);
    for (int i = 0; i < d1->n_params; i++) assert_memory_equal(m.param[i], a.param[i], d1->params[i].numel * sizeof(float));
    model_free(&m);
    /* random: conv weights are not constant, and another seed gives other values */
    int conv = model_find_param(d1, "conv1.weight");
    assert_true(conv >= 0);
    assert_true(a.param[conv][0] != a.param[conv][1]);
    model_weights_free(&b);
    s.seed = 12;
    assert_int_equal(synthetic_build(&s, d2, &b, &err), 0);
    assert_true(memcmp(a.data, b.data, n * sizeof(float)) != 0);
    model_weights_free(&a);
    model_weights_free(&b);
    free(d1);
    free(d2);
}

static void test_same_file_twice(void **state) {
    char *dir = *state, p1[512], p2[512];
    tu_path(p1, sizeof p1, dir, "a.dnn");
    tu_path(p2, sizeof p2, dir, "b.dnn");
    ModelDesc *d = calloc(1, sizeof *d);
    assert_non_null(d);
    Err err;
    SyntheticSpec s = small_spec();
    assert_int_equal(synthetic_save(&s, p1, d, &err), 0);
    assert_int_equal(synthetic_save(&s, p2, d, &err), 0);
    size_t n1 = 0, n2 = 0;
    unsigned char *f1 = tu_read_file(p1, &n1), *f2 = tu_read_file(p2, &n2);
    assert_non_null(f1);
    assert_non_null(f2);
    assert_int_equal(n1, n2);
    assert_memory_equal(f1, f2, n1);
    free(f1);
    free(f2);
    free(d);
}

static void test_resnet18_224_shapes(void **state) {
    (void)state;
    ModelDesc *d = calloc(1, sizeof *d);
    assert_non_null(d);
    Err err;
    SyntheticSpec s = {.arch = "resnet18", .in_c = 3, .in_h = 224, .in_w = 224, .classes = 1000, .width = 1.0f,
                       .channels = DAC2020, .seed = 1};
    assert_int_equal(synthetic_desc(&s, d, &err), 0);
    assert_int_equal(d->synthetic, 1);
    assert_int_equal(d->n_slots, 12);
    assert_int_equal(d->n_subnets, 4);
    assert_int_equal(d->bn_sets, 4);
    assert_int_equal(d->weight_sets, 1);
    assert_string_equal(model_desc_get_meta(d, "train.method"), "synthetic");
    /* conv1 7x7 stride 2 gives 112x112; the classifier reads 512 features into 1000 classes */
    const OpDesc *conv1 = &d->ops[0];
    assert_int_equal(d->tensors[conv1->out].h, 112);
    assert_int_equal(d->tensors[conv1->out].w, 112);
    int fc = model_find_param(d, "fc.weight");
    assert_true(fc >= 0);
    assert_int_equal(d->params[fc].dims[0], 1000);
    assert_int_equal(d->params[fc].dims[1], 512);
    /* the full network: 1.814 GMACs per image, as torchvision's resnet18 */
    const int *full = d->subnets[model_largest_subnet(d)].count;
    assert_true(fabs(model_subnet_macs(d, full) - 1814073344.0) < 1.0);
    /* the subnets in MACs order, named in the order given, at the ratios of the DAC 2020 GPU latencies
     * (13.4 / 24.6 / 41.3 / 62.1 ms = 0.216 / 0.396 / 0.665 / 1) within 0.01 */
    static const double ratio[4] = {13.4 / 62.1, 24.6 / 62.1, 41.3 / 62.1, 1.0};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i + 1);
        assert_string_equal(d->subnets[i].name, name);
        double r = model_subnet_macs(d, d->subnets[i].count) / model_subnet_macs(d, full);
        if (fabs(r - ratio[i]) > 0.01) fail_msg("subnet %s: MACs ratio %.4f, the paper's latency ratio %.4f", name, r, ratio[i]);
    }
    assert_int_equal(d->subnets[0].count[0], 32);
    assert_int_equal(d->subnets[3].count[11], 512);
    free(d);
}

static void test_widths(void **state) {
    (void)state;
    ModelDesc *d = calloc(1, sizeof *d);
    assert_non_null(d);
    Err err;
    SyntheticSpec s = {.arch = "resnet20", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10, .width = 1.0f,
                       .widths = {1.0f, 0.25f, 0.5f}, .n_widths = 3, .seed = 1};
    assert_int_equal(synthetic_desc(&s, d, &err), 0);
    assert_int_equal(d->n_subnets, 3);
    assert_string_equal(d->subnets[0].name, "w0.25");
    assert_string_equal(d->subnets[2].name, "w1.00");
    for (int k = 0; k < d->n_slots; k++) {
        assert_int_equal(d->subnets[0].count[k], d->slot_max[k] / 4);
        assert_int_equal(d->subnets[1].count[k], d->slot_max[k] / 2);
        assert_int_equal(d->subnets[2].count[k], d->slot_max[k]);
    }
    free(d);
}

/* Every bad list: -1, one line, the words that say what and where; the description unchanged. */
static void test_bad_channel_lists(void **state) {
    (void)state;
    ModelDesc *d = calloc(1, sizeof *d);
    assert_non_null(d);
    Err err;
    assert_int_equal(model_desc_build(d, "resnet14", 1, 28, 28, 10, 1.0f, &err), 0);
    assert_int_equal(d->n_slots, 9); /* per stage: the stream, then the two blocks' inner convs */
    char many[4096] = "";
    for (int i = 0; i < 33; i++) {
        char one[64];
        snprintf(one, sizeof one, "%s%d,%d,16,32,32,32,64,64,64", i ? "/" : "", 16 - i % 16, 16 - i / 16);
        strcat(many, one);
    }
    const struct {
        const char *text, *want;
    } cases[] = {
        {"", "--channels: empty"},
        {"16,16,16,32,32,32,64,64", "--channels: subnet 1 has 8 channel counts; resnet14 has 9 slots"},
        {"16,16,16,32,32,32,64,64,64,64", "subnet 1 has 10 channel counts"},
        {"16,16,16,32,32,32,64,64,64/8,8,8,16,16,16,32,32", "--channels: subnet 2 has 8 channel counts"},
        {"16,16,16,32,33,32,64,64,64", "--channels: subnet 1, slot 5 (layer2.0.conv1): 33 channels, allowed 1..32"},
        {"16,16,16,32,0,32,64,64,64", "subnet 1, slot 5 (layer2.0.conv1): 0 channels, allowed 1..32"},
        {"16,16,16,32,-3,32,64,64,64", "subnet 1: '-3' is not a channel count"},
        {"16,16,x,32,32,32,64,64,64", "subnet 1: 'x' is not a channel count"},
        {"16,16,1.5,32,32,32,64,64,64", "subnet 1: '1.5' is not a channel count"},
        {"16,,16,32,32,32,64,64,64", "subnet 1: empty channel count"},
        {"16,16,16,32,32,32,64,64,64,", "subnet 1: empty channel count"},
        {"16,16,16,32,32,32,64,64,64/", "ends with '/'"},
        {"16,16,16,32,32,32,64,64,64//8,8,8,16,16,16,32,32,32", "subnet 2: empty channel count"},
        {"8,8,8,16,16,16,32,32,32/16,16,16,32,32,32,64,64,64/8,8,8,16,16,16,32,32,32",
         "--channels: subnets 1 and 3 have the same channel counts"},
        {"99999999999999999999,16,16,32,32,32,64,64,64", "is not a channel count"},
        {many, "more than 32 subnets"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int before = d->n_subnets;
        err.msg[0] = '\0';
        if (synthetic_channels(d, cases[i].text, "--channels", &err) != -1) fail_msg("case %zu '%s' accepted", i, cases[i].text);
        if (!strstr(err.msg, cases[i].want)) fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].want);
        assert_null(strchr(err.msg, '\n'));
        assert_int_equal(d->n_subnets, before);
        assert_string_equal(d->subnets[0].name, "full");
    }
    /* and a good one replaces the subnets, ordered by MACs, named in the order given */
    assert_int_equal(synthetic_channels(d, "16,16,16,32,32,32,64,64,64/8,8,8,16,16,16,32,32,32", "--channels", &err), 0);
    assert_int_equal(d->n_subnets, 2);
    assert_string_equal(d->subnets[0].name, "c2");
    assert_string_equal(d->subnets[1].name, "c1");
    free(d);
}

static void test_parse_input(void **state) {
    (void)state;
    int c, h, w;
    Err err;
    assert_int_equal(synthetic_parse_input("224", "--input", &c, &h, &w, &err), 0);
    assert_true(c == 3 && h == 224 && w == 224);
    assert_int_equal(synthetic_parse_input("160x224", "--input", &c, &h, &w, &err), 0);
    assert_true(c == 3 && h == 160 && w == 224);
    assert_int_equal(synthetic_parse_input("1x28x28", "--input", &c, &h, &w, &err), 0);
    assert_true(c == 1 && h == 28 && w == 28);
    static const char *const bad[] = {"", "x", "224x", "x224", "3x224x224x1", "a", "-5", "0", "5x32x32", "16385",
                                      "1234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        if (synthetic_parse_input(bad[i], "--input", &c, &h, &w, &err) != -1) fail_msg("'%s' accepted", bad[i]);
        if (strncmp(err.msg, "--input: '", 10)) fail_msg("'%s': message '%s'", bad[i], err.msg);
        assert_null(strchr(err.msg, '\n'));
    }
}

static void test_checkpoint_round_trip(void **state) {
    char *dir = *state, path[512];
    tu_path(path, sizeof path, dir, "s.dnn");
    ModelDesc *d = calloc(1, sizeof *d), *back = calloc(1, sizeof *back);
    assert_non_null(d);
    assert_non_null(back);
    Err err;
    SyntheticSpec s = small_spec();
    assert_int_equal(synthetic_save(&s, path, d, &err), 0);
    ModelWeights w;
    assert_int_equal(checkpoint_read_weights(path, back, &w, NULL, &err), 0);
    assert_int_equal(back->synthetic, 1);
    assert_int_equal(back->n_subnets, d->n_subnets);
    for (int i = 0; i < d->n_subnets; i++) {
        assert_string_equal(back->subnets[i].name, d->subnets[i].name);
        assert_memory_equal(back->subnets[i].count, d->subnets[i].count, sizeof(int) * (size_t)d->n_slots);
    }
    ModelWeights again;
    assert_int_equal(synthetic_build(&s, d, &again, &err), 0);
    assert_memory_equal(w.data, again.data, model_desc_param_floats(d) * sizeof(float));
    model_weights_free(&w);
    model_weights_free(&again);
    /* the line is in the description; without it (an older file, a trained model) not synthetic */
    CkptFile f;
    assert_int_equal(ckpt_read(path, &f, &err), 0);
    assert_non_null(strstr(f.meta, "\nsynthetic 1\n"));
    char *old = malloc(f.meta_len + 1);
    assert_non_null(old);
    char *at = strstr(f.meta, "synthetic 1\n");
    size_t head = (size_t)(at - f.meta), tail = f.meta_len - head - strlen("synthetic 1\n");
    memcpy(old, f.meta, head);
    memcpy(old + head, at + strlen("synthetic 1\n"), tail);
    assert_int_equal(checkpoint_parse_desc("old.dnn", old, head + tail, back, &err), 0);
    assert_int_equal(back->synthetic, 0);
    /* strict: 0 and 1 only, once */
    char *text = malloc(f.meta_len + 32);
    assert_non_null(text);
    static const char *const bad[] = {"synthetic 2\n", "synthetic yes\n", "synthetic 1\nsynthetic 1\n", "synthetic\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memcpy(text, f.meta, head);
        size_t len = head + (size_t)sprintf(text + head, "%s", bad[i]);
        memcpy(text + len, at + strlen("synthetic 1\n"), tail);
        if (checkpoint_parse_desc("bad.dnn", text, len + tail, back, &err) != -1) fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err.msg, "bad.dnn: model description line"));
    }
    free(text);
    free(old);
    ckpt_free(&f);
    /* a trained (ordinary) model's description has no synthetic line */
    Model m = {0};
    ModelDesc *plain = calloc(1, sizeof *plain);
    assert_non_null(plain);
    assert_int_equal(model_desc_build(plain, "resnet8", 1, 12, 12, 5, 0.5f, &err), 0);
    assert_int_equal(model_create(&m, plain, 2, 1, &err), 0);
    model_init_params(&m, 1);
    assert_int_equal(checkpoint_save(&m, path, &err), 0);
    model_free(&m);
    assert_int_equal(ckpt_read(path, &f, &err), 0);
    assert_null(strstr(f.meta, "synthetic"));
    ckpt_free(&f);
    assert_int_equal(checkpoint_read_desc(path, back, NULL, &err), 0);
    assert_int_equal(back->synthetic, 0);
    free(d);
    free(back);
}

int main(void) {
    nn_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test_setup_teardown(test_same_file_twice, tu_setup_tmpdir, tu_teardown_tmpdir),
        cmocka_unit_test(test_resnet18_224_shapes),
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_bad_channel_lists),
        cmocka_unit_test(test_parse_input),
        cmocka_unit_test_setup_teardown(test_checkpoint_round_trip, tu_setup_tmpdir, tu_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
