/* tests/unit/test_dynamic.c — the dynamic part of the engine: subnets are prefix views of one
 * weight set, switching allocates nothing, per-subnet BN statistics are independent, channel
 * permutation preserves the function, a whole network at a non-uniform width passes a gradient
 * check, incremental training leaves earlier subnets bit-identical, and bad subnet specs fail. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/data.h"
#include "nn/methods.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "nn/subnet.h"
#include "tests/unit/blob_dataset.h"
#include "tests/unit/gradcheck.h"

/* A model of arch for `threads` threads (its scratch is sized for them at creation). */
static Model make_dynamic_threads(const char *arch, int hw, float width, int batch, TrainMethod method, int threads) {
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, arch, 1, hw, hw, 10, width, &err), 0);
    DynamicConfig dc;
    dynamic_config_defaults(&dc);
    dc.method = method;
    assert_int_equal(method_prepare_desc(d, &dc, &err), 0);
    Model m;
    assert_int_equal(model_create(&m, d, batch, threads, &err), 0);
    model_init_params(&m, 5);
    return m;
}

static Model make_dynamic(const char *arch, int hw, float width, int batch, TrainMethod method) {
    return make_dynamic_threads(arch, hw, width, batch, method, 1);
}

static float *logits_of(Model *m, int subnet, const float *x, int n) {
    model_set_subnet(m, subnet);
    const float *z = model_forward(m, x, n);
    float *copy = malloc(sizeof(float) * (size_t)n * m->d->classes);
    memcpy(copy, z, sizeof(float) * (size_t)n * m->d->classes);
    return copy;
}

/* The first conv of the stage-1 stream: weight [16][1][3][3]. */
static int first_conv_weight(const ModelDesc *d) { return d->ops[0].weight; }

static void test_subnets_share_a_prefix_of_the_weights(void **state) {
    (void)state;
    nn_set_threads(1);
    Model m = make_dynamic("resnet8", 12, 1.0f, 4, METHOD_UNIFORM);
    const ModelDesc *d = m.d;
    assert_int_equal(d->n_subnets, 4);
    assert_string_equal(d->subnets[0].name, "w0.25"); /* ordered by MACs */
    assert_string_equal(d->subnets[3].name, "w1.00");
    int p = first_conv_weight(d);
    /* every subnet reads the very same buffer: a view, not a copy */
    for (int i = 0; i < d->n_subnets; i++) {
        model_set_subnet(&m, i);
        assert_ptr_equal(model_param(&m, p), m.param[p]);
    }
    float x[4 * 144];
    gc_fill_normal(x, 4 * 144, 1, 1.0f);
    float *small0 = logits_of(&m, 0, x, 4), *big0 = logits_of(&m, 3, x, 4);
    /* a weight of channel 15 (outside w0.25's 4 channels) changes only the larger subnet */
    m.param[p][15 * 9 + 4] += 0.5f;
    float *small1 = logits_of(&m, 0, x, 4), *big1 = logits_of(&m, 3, x, 4);
    assert_memory_equal(small0, small1, sizeof(float) * 40);
    assert_true(memcmp(big0, big1, sizeof(float) * 40) != 0);
    /* a weight of channel 0 (inside the prefix) changes the small subnet too */
    m.param[p][4] += 0.5f;
    float *small2 = logits_of(&m, 0, x, 4);
    assert_true(memcmp(small1, small2, sizeof(float) * 40) != 0);
    free(small0); free(big0); free(small1); free(big1); free(small2);
    model_free(&m);
}

static void test_switching_allocates_nothing(void **state) {
    (void)state;
    nn_set_threads(2);
    Model m = make_dynamic_threads("resnet8", 12, 1.0f, 4, METHOD_UNIFORM, 2);
    float x[4 * 144];
    gc_fill_normal(x, 4 * 144, 2, 1.0f);
    for (int i = 0; i < m.d->n_subnets; i++) { /* warm-up: the OpenMP pool starts on first use */
        model_set_subnet(&m, i);
        model_forward(&m, x, 4);
    }
    struct mallinfo2 before = mallinfo2();
    for (int k = 0; k < 200; k++) {
        model_set_subnet(&m, k % m.d->n_subnets);
        model_forward(&m, x, 4);
    }
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(before.uordblks, after.uordblks); /* bytes in use */
    assert_int_equal(before.hblks, after.hblks);       /* mmap'd blocks */
    model_free(&m);
    nn_set_threads(1);
}

static void test_bn_statistics_are_per_subnet(void **state) {
    (void)state;
    nn_set_threads(1);
    Model m = make_dynamic("resnet8", 12, 1.0f, 8, METHOD_UNIFORM);
    const ModelDesc *d = m.d;
    assert_int_equal(d->bn_sets, 4);
    int bn = -1;
    for (int i = 0; i < d->n_ops && bn < 0; i++)
        if (d->ops[i].kind == OP_BN) bn = i;
    int mean = d->ops[bn].mean;
    size_t set = d->params[mean].set_numel;
    float *before = malloc(sizeof(float) * d->params[mean].numel);
    memcpy(before, m.param[mean], sizeof(float) * d->params[mean].numel);
    float x[8 * 144];
    gc_fill_normal(x, 8 * 144, 3, 2.0f);
    for (int i = 0; i < 8 * 144; i++) x[i] += 1.0f; /* non-zero mean so the statistics move */
    model_set_subnet(&m, 1);
    m.training = 1;
    model_forward(&m, x, 8);
    for (int s = 0; s < 4; s++) {
        int changed = memcmp(before + s * set, m.param[mean] + s * set, sizeof(float) * set) != 0;
        assert_int_equal(changed, s == 1); /* only the running subnet's set moved */
    }
    free(before);
    model_free(&m);
}

static void test_permutation_preserves_the_function(void **state) {
    (void)state;
    nn_set_threads(1);
    Model m = make_dynamic("resnet8", 12, 1.0f, 4, METHOD_PLAIN);
    float x[4 * 144];
    gc_fill_normal(x, 4 * 144, 4, 1.0f);
    /* make BN statistics non-trivial first */
    m.training = 1;
    model_forward(&m, x, 4);
    m.training = 0;
    float *z0 = logits_of(&m, 0, x, 4);
    model_sort_channels_by_importance(&m, NULL);
    float *z1 = logits_of(&m, 0, x, 4);
    for (int i = 0; i < 40; i++) assert_float_equal(z0[i], z1[i], 1e-4f * (1.0f + fabsf(z0[i])));
    /* and the first slot is now sorted by decreasing importance */
    float score[64];
    slot_channel_importance(&m, 0, score);
    for (int c = 1; c < m.d->slot_max[0]; c++) assert_true(score[c - 1] >= score[c]);
    free(z0); free(z1);
    model_free(&m);
}

/* Inference folds each BN into the conv before it; the logits must not change by a bit. */
static void test_inference_fusion_is_exact(void **state) {
    (void)state;
    nn_set_threads(2);
    Model m = make_dynamic_threads("resnet8", 12, 1.0f, 8, METHOD_UNIFORM, 2);
    float x[8 * 144];
    gc_fill_normal(x, 8 * 144, 6, 1.0f);
    m.training = 1; /* non-trivial running statistics and a few steps' worth of BN state */
    for (int i = 0; i < m.d->n_subnets; i++) {
        model_set_subnet(&m, i);
        model_forward(&m, x, 8);
    }
    m.training = 0;
    for (int i = 0; i < m.d->n_subnets; i++) {
        m.no_fusion = 0;
        float *fused = logits_of(&m, i, x, 8);
        m.no_fusion = 1;
        float *plain = logits_of(&m, i, x, 8);
        assert_memory_equal(fused, plain, sizeof(float) * 80);
        free(fused);
        free(plain);
    }
    model_free(&m);
    nn_set_threads(1);
}

/* The planner stores the residual streams in padded planes (the network input and the 1x1 maps stay
 * compact); a training step gives the same logits and gradients as with every tensor compact, and as
 * with every op run on its own (no BN statistics from the conv epilogue, no BN + add pass), to the
 * rounding of the BN statistics. */
static void test_padded_layout_matches_compact(void **state) {
    (void)state;
    nn_set_threads(2);
    Model m = make_dynamic_threads("resnet8", 12, 1.0f, 6, METHOD_UNIFORM, 2);
    int padded = 0;
    for (int t = 0; t < m.d->n_tensors; t++) padded += m.padded[t];
    assert_false(m.padded[m.d->input]);
    assert_false(m.padded[m.d->logits]);
    assert_true(padded >= m.d->n_tensors / 2);
    uint8_t plan[MODEL_MAX_TENSORS];
    memcpy(plan, m.padded, sizeof plan);
    float x[6 * 144];
    int labels[6] = {1, 2, 3, 4, 5, 6};
    gc_fill_normal(x, 6 * 144, 9, 1.0f);
    size_t nparam = m.grad_arena.size;
    float *grads[3], *logits[3];
    m.training = 1;
    m.bn_stats_frozen = 1;
    for (int k = 0; k < 3; k++) { /* padded and fused, compact and fused, padded and unfused */
        if (k == 1) memset(m.padded, 0, sizeof m.padded);
        if (k == 2) {
            memcpy(m.padded, plan, sizeof plan);
            m.no_fusion = 1;
        }
        model_set_subnet(&m, 1); /* a slimmed subnet */
        model_zero_grad(&m);
        logits[k] = malloc(sizeof(float) * 60);
        memcpy(logits[k], model_forward(&m, x, 6), sizeof(float) * 60);
        model_loss(&m, labels, NULL);
        model_backward(&m);
        grads[k] = malloc(sizeof(float) * nparam);
        memcpy(grads[k], m.grad_arena.base, sizeof(float) * nparam);
    }
    double norm = 0.0;
    for (size_t i = 0; i < nparam; i++) norm += (double)grads[2][i] * grads[2][i];
    float scale = (float)sqrt(norm / (double)nparam);
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 60; i++) assert_float_equal(logits[k][i], logits[2][i], 1e-4f * (1.0f + fabsf(logits[2][i])));
        for (size_t i = 0; i < nparam; i++)
            assert_float_equal(grads[k][i], grads[2][i], 1e-3f * (scale + fabsf(grads[2][i])));
    }
    int fused = 0;
    for (int i = 0; i < m.d->n_ops; i++) fused += m.fuse_add[i];
    assert_int_equal(fused, 3); /* resnet8: one block per stage */
    for (int k = 0; k < 3; k++) {
        free(grads[k]);
        free(logits[k]);
    }
    model_free(&m);
    nn_set_threads(1);
}

/* Whole-network gradient check at a non-uniform subnet (every slot at a different ratio). */
static void test_gradcheck_at_nonuniform_width(void **state) {
    (void)state;
    nn_set_threads(1);
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, "resnet8", 2, 8, 8, 3, 0.5f, &err), 0);
    int counts[MODEL_MAX_SLOTS];
    for (int s = 0; s < d->n_slots; s++) counts[s] = d->slot_max[s] * (s % 3 + 1) / 4 + 1; /* 1/4, 2/4, 3/4 + 1 */
    d->n_subnets = 0;
    assert_int_equal(subnet_add(d, "odd", counts, &err), 0);
    Model m;
    assert_int_equal(model_create(&m, d, 4, 1, &err), 0);
    model_init_params(&m, 8);
    int skipped = 0, checked = 0;
    /* weights only: coordinates outside the active block have zero gradient on both sides */
    double worst = gc_network(&m, 4, 1e-3f, 5e-2, 24, 1, &skipped, &checked);
    print_message("resnet8 at a non-uniform subnet: worst relative error %.3g, %d of %d on a kink\n", worst, skipped,
                  checked);
    assert_true(worst < 5e-2);
    assert_true(skipped * 10 <= checked);
    model_free(&m);
}

/* Incremental training of group 2 (index 1): group 1 frozen (its BN in inference mode, no input
 * gradient), weights block lower-triangular. The gradient of every new-group weight row must still
 * match central differences of L = sum G * logits: freezing may only drop gradients nothing trains. */
static void test_gradcheck_incremental_new_group(void **state) {
    (void)state;
    nn_set_threads(1);
    Model m = make_dynamic("resnet8", 8, 1.0f, 4, METHOD_INCREMENTAL);
    const ModelDesc *d = m.d;
    const int G = d->n_subnets, g = 1;
    incremental_zero_upper_blocks(&m, G); /* as train_incremental sets up */
    int frozen[MODEL_MAX_SLOTS];
    for (int s = 0; s < d->n_slots; s++) frozen[s] = d->slot_max[s] / G * g;
    m.bn_frozen = frozen;
    m.bn_stats_frozen = 1; /* the frozen channels' running statistics stay what group 1 left */
    model_set_subnet(&m, g);
    const int n = 4;
    size_t in_n = (size_t)n * d->in_c * d->in_h * d->in_w, zn = (size_t)n * d->classes;
    GcNet c = {&m, malloc(in_n * 4), malloc(zn * 4), n};
    gc_fill_normal(c.x, in_n, 7, 1.0f);
    gc_fill_normal(c.G, zn, 8, 1.0f);
    m.training = 1;
    model_zero_grad(&m);
    gc_net_loss(&c);
    memcpy(model_dlogits(&m), c.G, zn * 4);
    model_backward(&m);
    double worst = 0.0;
    int skipped = 0, checked = 0;
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        if (o->kind != OP_CONV) continue;
        const ParamDesc *p = &d->params[o->weight];
        int in_slot = d->tensors[o->in0].slot, out_slot = d->tensors[o->out].slot;
        size_t row = p->set_numel / (size_t)p->dims[0];
        /* a row's active columns (groups <= g) are its leading ones */
        size_t active = in_slot < 0 ? row : row / (size_t)d->tensors[o->in0].c * (size_t)d->subnets[g].count[in_slot];
        for (int r = d->slot_max[out_slot] / G * g; r < d->slot_max[out_slot] / G * (g + 1); r++) {
            double e = gc_check_kinked(p->name, m.param[o->weight] + (size_t)r * row,
                                       m.grad[o->weight] + (size_t)r * row, active, 2, 1e-3f, 5e-2, gc_net_loss, &c,
                                       (uint64_t)(i * 64 + r), &skipped);
            checked += 2;
            if (e > worst) worst = e;
        }
    }
    print_message("incremental group 2: %d new-group weights, worst relative error %.3g, %d on a kink\n", checked,
                  worst, skipped);
    assert_true(worst < 5e-2);
    assert_true(skipped * 4 <= checked);
    m.bn_frozen = NULL;
    free(c.x);
    free(c.G);
    model_free(&m);
}

/* Incremental: after each stage, every earlier subnet's logits must be bit-identical. */
typedef struct Snapshots {
    float *x;
    int n;
    float *logits[8][8]; /* [after stage][subnet] */
} Snapshots;

static void snapshot(Model *m, int stage, void *ctx) {
    Snapshots *s = ctx;
    int saved = m->subnet;
    for (int g = 0; g <= stage; g++) s->logits[stage][g] = logits_of(m, g, s->x, s->n);
    model_set_subnet(m, saved);
}

/* Incremental, plain and with each distillation source (self: the frozen subnet's logits; a teacher
 * network, here with another input normalization): after each stage every earlier subnet's logits
 * are bit-identical, and the frozen subnet's logits that self-distillation reads from a larger
 * subnet's forward are that subnet's own. */
/* resnet8 at width 0.5 on 12x12 one-channel images, prepared for incremental with 4 groups, batch 64,
 * 2 threads, parameters from seed 3 (what the incremental tests train). */
static void make_incremental_resnet8(Model *m, DynamicConfig *dc) {
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, "resnet8", 1, 12, 12, 10, 0.5f, &err), 0);
    dynamic_config_defaults(dc);
    dc->method = METHOD_INCREMENTAL;
    dc->groups = 4;
    assert_int_equal(method_prepare_desc(d, dc, &err), 0);
    assert_int_equal(model_create(m, d, 64, 2, &err), 0);
    model_init_params(m, 3);
    for (int c = 0; c < 2; c++) m->d->norm_mean[c] = 0.3f, m->d->norm_std[c] = 0.3f;
}

enum { VARIANT_PLAIN, VARIANT_SELF, VARIANT_TEACHER };

static void incremental_variant_keeps_earlier_subnets(int variant) {
    nn_set_threads(2);
    Dataset train;
    blob_dataset(&train, 256, 12, 1);
    Err err;
    DynamicConfig dc;
    Model m, teacher = {0};
    make_incremental_resnet8(&m, &dc);
    if (variant == VARIANT_SELF) dc.self_distill = 1;
    if (variant == VARIANT_TEACHER) {
        ModelDesc *td = calloc(1, sizeof *td);
        assert_int_equal(model_desc_build(td, "resnet8", 1, 12, 12, 10, 0.5f, &err), 0);
        assert_int_equal(model_create(&teacher, td, 64, 2, &err), 0);
        model_init_params(&teacher, 11);
        teacher.d->norm_mean[0] = 0.25f, teacher.d->norm_std[0] = 0.35f;
        teacher.training = 0;
        dc.teacher = &teacher;
    }
    Snapshots snaps = {malloc(sizeof(float) * 16 * 144), 16, {{0}}};
    gc_fill_normal(snaps.x, 16 * 144, 9, 1.0f);
    dc.after_stage = snapshot;
    dc.after_stage_ctx = &snaps;
    TrainConfig cfg;
    train_config_defaults(&cfg);
    cfg.epochs = 4; /* one epoch per group */
    cfg.batch = 32;
    MethodReport rep;
    assert_int_equal(method_train(&m, &train, NULL, &cfg, &dc, &rep, &err), 0);
    for (int stage = 1; stage < 4; stage++)
        for (int g = 0; g < stage; g++)
            assert_memory_equal(snaps.logits[g][g], snaps.logits[stage][g], sizeof(float) * 16 * 10);
    /* and training did change the model: the newest subnet differs from the previous one */
    assert_true(memcmp(snaps.logits[3][3], snaps.logits[3][2], sizeof(float) * 160) != 0);
    /* the nested logits (what self-distillation learns from) equal the subnet's own forward */
    m.training = 0;
    float nested[160];
    for (int g = 0; g < 3; g++) {
        model_set_subnet(&m, g + 1);
        model_forward(&m, snaps.x, 16);
        assert_int_equal(model_nested_logits(&m, g, nested), 0);
        float *own = logits_of(&m, g, snaps.x, 16);
        for (int i = 0; i < 160; i++) assert_float_equal(nested[i], own[i], 1e-4f * (1.0f + fabsf(own[i])));
        free(own);
    }
    model_set_subnet(&m, 1);
    assert_int_equal(model_nested_logits(&m, 3, nested), -1); /* not nested in the current subnet */
    for (int a = 0; a < 8; a++)
        for (int b = 0; b < 8; b++) free(snaps.logits[a][b]);
    free(snaps.x);
    dataset_free(&train);
    model_free(&m);
    if (teacher.d) model_free(&teacher);
    nn_set_threads(1);
}

static void test_incremental_keeps_earlier_subnets_bit_identical(void **state) {
    (void)state;
    incremental_variant_keeps_earlier_subnets(VARIANT_PLAIN);
}

static void test_self_distillation_keeps_earlier_subnets_bit_identical(void **state) {
    (void)state;
    incremental_variant_keeps_earlier_subnets(VARIANT_SELF);
}

static void test_teacher_distillation_keeps_earlier_subnets_bit_identical(void **state) {
    (void)state;
    incremental_variant_keeps_earlier_subnets(VARIANT_TEACHER);
}

/* --joint: every group trains from the start, and the upper blocks stay zero (subnets nest: a group
 * never reads a later one); a teacher for other classes or inputs is refused before any training. */
static void test_joint_and_teacher_checks(void **state) {
    (void)state;
    nn_set_threads(2);
    Dataset train;
    blob_dataset(&train, 128, 12, 2);
    Err err;
    DynamicConfig dc;
    Model m;
    make_incremental_resnet8(&m, &dc);
    TrainConfig cfg;
    train_config_defaults(&cfg);
    cfg.epochs = 4;
    cfg.batch = 32;
    MethodReport rep;
    /* a teacher with 5 classes */
    ModelDesc *td = calloc(1, sizeof *td);
    assert_int_equal(model_desc_build(td, "resnet8", 1, 12, 12, 5, 0.5f, &err), 0);
    Model teacher;
    assert_int_equal(model_create(&teacher, td, 64, 2, &err), 0);
    float *before = malloc(sizeof(float) * m.d->params[0].numel);
    memcpy(before, m.param[0], sizeof(float) * m.d->params[0].numel);
    dc.teacher = &teacher;
    assert_int_equal(method_train(&m, &train, NULL, &cfg, &dc, &rep, &err), -1);
    assert_non_null(strstr(err.msg, "teacher: it takes 1x12x12 images into 5 classes"));
    dc.teacher = NULL;
    incremental_zero_upper_blocks(&m, 4);
    assert_memory_equal(before, m.param[0], sizeof(float) * m.d->params[0].numel); /* nothing trained */
    /* joint */
    dc.joint = 1;
    double flops0 = m.train_flops;
    assert_int_equal(method_train(&m, &train, NULL, &cfg, &dc, &rep, &err), 0);
    assert_true(rep.epochs == 1); /* E/G epochs, every group each iteration */
    /* each iteration ran all four subnets: forward + backward of each (2 + 4) x MACs per image */
    double per_image = 0.0;
    for (int g = 0; g < 4; g++) per_image += 6.0 * model_subnet_macs(m.d, m.d->subnets[g].count);
    assert_true(fabs((m.train_flops - flops0) - per_image * 128) < 1e-6 * per_image * 128);
    for (int p = 0; p < m.d->n_params; p++) {
        if (!m.d->params[p].trainable) continue;
        float *copy = malloc(sizeof(float) * m.d->params[p].numel);
        memcpy(copy, m.param[p], sizeof(float) * m.d->params[p].numel);
        incremental_zero_upper_blocks(&m, 4);
        assert_memory_equal(copy, m.param[p], sizeof(float) * m.d->params[p].numel);
        free(copy);
    }
    /* every group's weights moved: the first conv's last group differs from its initial values */
    assert_true(memcmp(before, m.param[0], sizeof(float) * m.d->params[0].numel) != 0);
    free(before);
    dataset_free(&train);
    model_free(&teacher);
    model_free(&m);
    nn_set_threads(1);
}

static void test_bad_subnet_specs(void **state) {
    (void)state;
    float r[MODEL_MAX_SUBNETS];
    int n;
    Err err;
    assert_int_equal(parse_ratio_list("0.25,1.5", "--widths", r, &n, &err), -1);
    assert_non_null(strstr(err.msg, "--widths: 1.5 is outside (0, 1]"));
    assert_int_equal(parse_ratio_list("0,0.5", "--widths", r, &n, &err), -1);
    assert_non_null(strstr(err.msg, "outside (0, 1]"));
    assert_int_equal(parse_ratio_list("", "--widths", r, &n, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(parse_ratio_list("0.5,,1", "--flops", r, &n, &err), -1);
    assert_int_equal(parse_ratio_list("0.5,0.5", "--flops", r, &n, &err), -1);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(parse_ratio_list("0.25,0.5,1", "--widths", r, &n, &err), 0);
    assert_int_equal(n, 3);
    TrainMethod m;
    assert_int_equal(method_parse("slimmable", &m, &err), -1);
    assert_non_null(strstr(err.msg, "unknown method 'slimmable'"));
    ModelDesc *d = calloc(1, sizeof *d);
    assert_int_equal(model_desc_build(d, "resnet20", 1, 28, 28, 10, 1.0f, &err), 0);
    assert_int_equal(subnets_groups(d, 3, &err), -1); /* 16 channels do not split into 3 */
    assert_non_null(strstr(err.msg, "not divisible"));
    DynamicConfig dc;
    dynamic_config_defaults(&dc);
    dc.method = METHOD_NONUNIFORM_MULTI;
    dc.n_ratios = 2;
    dc.ratios[0] = 0.25f;
    dc.ratios[1] = 0.5f;
    assert_int_equal(method_prepare_desc(d, &dc, &err), -1);
    assert_non_null(strstr(err.msg, "must include 1"));
    /* a target under the channel floor is refused before any training, naming the option */
    dc.ratios[0] = 0.01f;
    dc.ratios[1] = 1.0f;
    dc.min_channels = 0.5f;
    assert_int_equal(method_prepare_desc(d, &dc, &err), -1);
    assert_non_null(strstr(err.msg, "--flops 0.01"));
    assert_non_null(strstr(err.msg, "--min-channels"));
    dc.min_channels = 0.0f; /* without the floor, 1% of resnet20's MACs is reachable */
    assert_int_equal(method_prepare_desc(d, &dc, &err), 0);
    /* a MACs target below the 1-channel-per-slot network cannot be met */
    Model model;
    assert_int_equal(model_desc_build(d, "resnet8", 1, 12, 12, 10, 1.0f, &err), 0);
    assert_int_equal(model_create(&model, d, 4, 1, &err), 0);
    model_init_params(&model, 1);
    float x[4 * 144];
    int labels[4] = {0, 1, 2, 3}, out[MODEL_MAX_SLOTS];
    gc_fill_normal(x, 4 * 144, 1, 1.0f);
    assert_int_equal(subnet_greedy_slim(&model, model.d->slot_max, 10.0, 0.0f, SLIM_COARSE_DIV_DEFAULT, x, labels, 4, out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cannot be met"));
    /* a reachable target is met, and every slot stays within bounds */
    double full = model_subnet_macs(model.d, model.d->slot_max);
    assert_int_equal(subnet_greedy_slim(&model, model.d->slot_max, 0.3 * full, 0.0f, SLIM_COARSE_DIV_DEFAULT, x, labels, 4, out, NULL, &err), 0);
    assert_true(model_subnet_macs(model.d, out) <= 0.3 * full);
    for (int s = 0; s < model.d->n_slots; s++) assert_true(out[s] >= 1 && out[s] <= model.d->slot_max[s]);
    /* with a floor of half the channels, no slot goes below it, and a target under it is refused */
    assert_int_equal(subnet_greedy_slim(&model, model.d->slot_max, 0.3 * full, 0.5f, SLIM_COARSE_DIV_DEFAULT, x, labels, 4, out, NULL, &err), 0);
    assert_true(model_subnet_macs(model.d, out) <= 0.3 * full);
    for (int s = 0; s < model.d->n_slots; s++) assert_true(2 * out[s] >= model.d->slot_max[s]);
    assert_int_equal(subnet_greedy_slim(&model, model.d->slot_max, 0.1 * full, 0.5f, SLIM_COARSE_DIV_DEFAULT, x, labels, 4, out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "--min-channels"));
    /* the floor never raises a slot above `from`: the result stays nested in it */
    int from[MODEL_MAX_SLOTS];
    memcpy(from, model.d->slot_max, sizeof(int) * (size_t)model.d->n_slots);
    from[0] = 1;
    assert_int_equal(subnet_greedy_slim(&model, from, 0.3 * full, 0.5f, SLIM_COARSE_DIV_DEFAULT, x, labels, 4, out, NULL, &err), 0);
    for (int s = 0; s < model.d->n_slots; s++) assert_true(out[s] <= from[s]);
    model_free(&model);
}

/* How far below the target a slimmed subnet `out` may end: less than the MACs one fine step of some
 * slot adds back (the step that crossed the target was at most that). */
static double largest_fine_step_macs(const ModelDesc *d, const int *out) {
    double base = model_subnet_macs(d, out), largest = 0.0;
    int up[MODEL_MAX_SLOTS];
    for (int s = 0; s < d->n_slots; s++) {
        memcpy(up, out, sizeof(int) * (size_t)d->n_slots);
        int step = d->slot_max[s] / SLIM_FINE_DIV;
        up[s] += step < 1 ? 1 : step;
        if (up[s] > d->slot_max[s]) up[s] = d->slot_max[s];
        double add = model_subnet_macs(d, up) - base;
        if (add > largest) largest = add;
    }
    return largest;
}

/* Greedy slimming steps coarsely while far from the target and finely near it: fewer steps and trial
 * forwards than fine steps alone, the result as close to the target (within one fine step); with
 * coarse steps off it is the fine search of before (the counts it chose then). */
static void test_greedy_slimming_coarse_then_fine(void **state) {
    (void)state;
    Err err = {{0}};
    ModelDesc *d = calloc(1, sizeof *d);
    Model model;
    assert_int_equal(model_desc_build(d, "resnet8", 1, 12, 12, 10, 1.0f, &err), 0);
    assert_int_equal(model_create(&model, d, 8, 1, &err), 0);
    model_init_params(&model, 3);
    float x[8 * 144];
    int labels[8] = {0, 1, 2, 3, 4, 5, 6, 7}, fine[MODEL_MAX_SLOTS], mixed[MODEL_MAX_SLOTS];
    gc_fill_normal(x, 8 * 144, 2, 1.0f);
    const double full = model_subnet_macs(d, d->slot_max), target = 0.2 * full;
    SlimStats fine_cost = {0}, mixed_cost = {0};
    assert_int_equal(subnet_greedy_slim(&model, d->slot_max, target, 0.0f, 0, x, labels, 8, fine, &fine_cost, &err), 0);
    assert_int_equal(subnet_greedy_slim(&model, d->slot_max, target, 0.0f, 8, x, labels, 8, mixed, &mixed_cost, &err), 0);
    assert_int_equal(fine_cost.coarse_steps, 0);
    assert_true(mixed_cost.coarse_steps > 0);
    assert_true(mixed_cost.steps > mixed_cost.coarse_steps); /* fine steps near the target */
    assert_true(mixed_cost.steps < fine_cost.steps);
    assert_true(mixed_cost.trials < fine_cost.trials);
    assert_true(mixed_cost.seconds >= 0.0 && fine_cost.seconds >= 0.0);
    for (int pass = 0; pass < 2; pass++) {
        const int *out = pass ? mixed : fine;
        double macs = model_subnet_macs(d, out);
        assert_true(macs <= target);
        assert_true(target - macs < largest_fine_step_macs(d, out));
    }
    /* costs add up over searches */
    SlimStats twice = fine_cost;
    assert_int_equal(subnet_greedy_slim(&model, d->slot_max, target, 0.0f, 0, x, labels, 8, fine, &twice, &err), 0);
    assert_int_equal(twice.steps, 2 * fine_cost.steps);
    assert_int_equal(twice.trials, 2 * fine_cost.trials);
    /* the fine search chooses what dynn chose before coarse steps (the counts of 8c0306b) */
    static const int before[] = {8, 7, 14, 18, 56, 4};
    assert_int_equal((int)(sizeof before / sizeof *before), d->n_slots);
    for (int s = 0; s < d->n_slots; s++) assert_int_equal(fine[s], before[s]);
    model_free(&model);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subnets_share_a_prefix_of_the_weights),
        cmocka_unit_test(test_switching_allocates_nothing),
        cmocka_unit_test(test_bn_statistics_are_per_subnet),
        cmocka_unit_test(test_permutation_preserves_the_function),
        cmocka_unit_test(test_inference_fusion_is_exact),
        cmocka_unit_test(test_padded_layout_matches_compact),
        cmocka_unit_test(test_gradcheck_at_nonuniform_width),
        cmocka_unit_test(test_gradcheck_incremental_new_group),
        cmocka_unit_test(test_incremental_keeps_earlier_subnets_bit_identical),
        cmocka_unit_test(test_self_distillation_keeps_earlier_subnets_bit_identical),
        cmocka_unit_test(test_teacher_distillation_keeps_earlier_subnets_bit_identical),
        cmocka_unit_test(test_joint_and_teacher_checks),
        cmocka_unit_test(test_bad_subnet_specs),
        cmocka_unit_test(test_greedy_slimming_coarse_then_fine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
