/* tests/unit/test_snapshot.c — training snapshots (nn/snapshot.h): for every resumable method, a run
 * that goes on from the snapshot of an interrupted one (taken in the middle of a method's phase)
 * ends with parameters bit-identical to the uninterrupted run's; a snapshot of another job, a damaged
 * or cut-short one and a method that cannot resume are refused with a message naming the file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/data.h"
#include "nn/methods.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "nn/rng.h"
#include "nn/snapshot.h"
#include "tests/unit/blob_dataset.h"
#include "util/fs.h"

static const char FP_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char FP_B[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

typedef struct Case {
    TrainMethod method;
    int sandwich, self_distill, joint;
    int epochs; /* the method's budget */
} Case;

static void make_model(Model *m, const Case *c, DynamicConfig *dc) {
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, "resnet8", 1, 12, 12, 10, 0.5f, &err), 0);
    dynamic_config_defaults(dc);
    dc->method = c->method;
    dc->groups = 4;
    dc->sandwich = c->sandwich;
    dc->self_distill = c->self_distill;
    dc->joint = c->joint;
    assert_int_equal(method_prepare_desc(d, dc, &err), 0);
    assert_int_equal(model_create(m, d, 32, 2, &err), 0);
    model_init_params(m, 3);
    for (int ch = 0; ch < 2; ch++) m->d->norm_mean[ch] = 0.3f, m->d->norm_std[ch] = 0.3f;
}

/* The progress hook of the uninterrupted run: when epoch `at` + 1 closes, the snapshot on disk
 * covers `at` epochs; it is copied aside (what an interrupted run would have left). */
typedef struct Keep {
    TrainResume *resume;
    int at;
    const char *from, *to;
    int kept;
} Keep;

static void keep_snapshot(const TrainProgress *p, void *ctx) {
    Keep *k = ctx;
    if (!p->epoch_done || k->resume->done != k->at || k->kept) return;
    Err err;
    char *data;
    size_t len;
    assert_int_equal(fs_read_file(k->from, &data, &len, &err), 0);
    assert_int_equal(fs_overwrite_file(k->to, data, len, &err), 0);
    free(data);
    k->kept = 1;
}

static void train_with(Model *m, const Dataset *train, const Case *c, DynamicConfig *dc, TrainResume *resume,
                       Keep *keep, MethodReport *rep) {
    TrainConfig cfg;
    train_config_defaults(&cfg);
    cfg.epochs = c->epochs;
    cfg.batch = 32;
    cfg.resume = resume;
    if (keep) {
        cfg.progress = keep_snapshot;
        cfg.progress_ctx = keep;
    }
    Err err;
    assert_int_equal(method_train(m, train, NULL, &cfg, dc, rep, &err), 0);
}

/* Uninterrupted (snapshots on, one kept after `at` epochs) against a fresh run from the kept one. */
static void resumes_bit_identical(const Case *c, int at) {
    nn_set_threads(2);
    Dataset train;
    blob_dataset(&train, 64, 12, 1);
    char dir[] = "/tmp/dynn-snapshot-XXXXXX", live[64], kept[64];
    assert_non_null(mkdtemp(dir));
    snprintf(live, sizeof live, "%s/live", dir);
    snprintf(kept, sizeof kept, "%s/kept", dir);
    Err err;
    DynamicConfig dc;
    Model a, b;
    MethodReport rep_a, rep_b;
    TrainResume ra, rb;
    make_model(&a, c, &dc);
    assert_int_equal(train_resume_open(&ra, live, FP_A, &a, &err), 0);
    assert_int_equal(ra.skip, 0);
    Keep keep = {&ra, at, live, kept, 0};
    train_with(&a, &train, c, &dc, &ra, &keep, &rep_a);
    assert_true(keep.kept);
    train_resume_close(&ra);

    make_model(&b, c, &dc);
    assert_int_equal(train_resume_open(&rb, kept, FP_A, &b, &err), 0);
    assert_int_equal(rb.skip, at);
    train_with(&b, &train, c, &dc, &rb, NULL, &rep_b);
    assert_int_equal(rb.done, ra.done);
    train_resume_close(&rb);
    for (int p = 0; p < a.d->n_params; p++)
        assert_memory_equal(a.param[p], b.param[p], sizeof(float) * a.d->params[p].numel);
    assert_true(a.train_flops == b.train_flops);
    assert_true(rep_a.train_flops == rep_b.train_flops);
    assert_true(rep_a.epochs == rep_b.epochs);
    assert_true(rep_a.final_loss == rep_b.final_loss);
    model_free(&a);
    model_free(&b);
    dataset_free(&train);
    unlink(live);
    unlink(kept);
    rmdir(dir);
    nn_set_threads(1);
}

static void test_plain_resumes(void **state) {
    (void)state;
    Case c = {.method = METHOD_PLAIN, .epochs = 3};
    resumes_bit_identical(&c, 1);
}

static void test_individual_resumes_inside_a_width(void **state) {
    (void)state;
    Case c = {.method = METHOD_INDIVIDUAL, .epochs = 2}; /* 4 widths x 2 epochs */
    resumes_bit_identical(&c, 3);
}

static void test_uniform_sandwich_resumes(void **state) {
    (void)state;
    Case c = {.method = METHOD_UNIFORM, .sandwich = 3, .epochs = 4}; /* random middle subnets: the step state */
    resumes_bit_identical(&c, 1);
}

static void test_incremental_resumes_inside_a_group(void **state) {
    (void)state;
    Case c = {.method = METHOD_INCREMENTAL, .epochs = 8}; /* 4 groups x 2 epochs */
    resumes_bit_identical(&c, 5);
}

static void test_self_distillation_resumes(void **state) {
    (void)state;
    Case c = {.method = METHOD_INCREMENTAL, .self_distill = 1, .epochs = 8};
    resumes_bit_identical(&c, 3);
}

static void test_joint_resumes(void **state) {
    (void)state;
    Case c = {.method = METHOD_INCREMENTAL, .joint = 1, .epochs = 12}; /* 3 epochs, every group */
    resumes_bit_identical(&c, 1);
}

/* A snapshot of 2 epochs of plain training, written to path (its bytes in *data, *len). */
static void write_snapshot(const char *path, char **data, size_t *len) {
    nn_set_threads(2);
    Dataset train;
    blob_dataset(&train, 64, 12, 1);
    Case c = {.method = METHOD_PLAIN, .epochs = 2};
    DynamicConfig dc;
    Model m;
    MethodReport rep;
    TrainResume r;
    Err err;
    make_model(&m, &c, &dc);
    assert_int_equal(train_resume_open(&r, path, FP_A, &m, &err), 0);
    train_with(&m, &train, &c, &dc, &r, NULL, &rep);
    train_resume_close(&r);
    assert_int_equal(fs_read_file(path, data, len, &err), 0);
    model_free(&m);
    dataset_free(&train);
    nn_set_threads(1);
}

static void test_refuses_another_job_and_damage(void **state) {
    (void)state;
    char dir[] = "/tmp/dynn-snapshot-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s", dir);
    char *data;
    size_t len;
    write_snapshot(path, &data, &len);
    Case c = {.method = METHOD_PLAIN, .epochs = 2};
    DynamicConfig dc;
    Model m;
    TrainResume r;
    Err err;
    make_model(&m, &c, &dc);
    assert_int_equal(train_resume_open(&r, path, FP_A, &m, &err), 0);
    assert_int_equal(r.skip, 2);
    train_resume_close(&r);
    assert_int_equal(train_resume_open(&r, path, FP_B, &m, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "another training job"));
    /* every cut-short length and a flipped byte anywhere: refused, never read past the end */
    SnapshotView v;
    for (size_t cut = 0; cut < len; cut += cut < 200 ? 1 : 997)
        assert_int_equal(snapshot_parse((const uint8_t *)data, cut, path, &v, &err), -1);
    assert_int_equal(snapshot_parse((const uint8_t *)data, len, path, &v, &err), 0);
    assert_int_equal(v.epochs_done, 2);
    data[len / 2] ^= 0x10;
    assert_int_equal(fs_overwrite_file(path, data, len, &err), 0);
    assert_int_equal(train_resume_open(&r, path, FP_A, &m, &err), -1);
    assert_non_null(strstr(err.msg, "checksum"));
    assert_non_null(strstr(err.msg, "remove it"));
    /* another model (other parameters) with the same fingerprint */
    data[len / 2] ^= 0x10;
    assert_int_equal(fs_overwrite_file(path, data, len, &err), 0);
    Model other;
    ModelDesc *d = calloc(1, sizeof *d);
    assert_int_equal(model_desc_build(d, "resnet8", 1, 12, 12, 10, 0.25f, &err), 0);
    assert_int_equal(model_create(&other, d, 32, 1, &err), 0);
    assert_int_equal(train_resume_open(&r, path, FP_A, &other, &err), -1);
    assert_non_null(strstr(err.msg, "does not match the model"));
    model_free(&other);
    /* a snapshot covering more epochs than the job has (2 here, 1 asked): refused, not silently skipped */
    Dataset few;
    blob_dataset(&few, 64, 12, 1);
    Case one = {.method = METHOD_PLAIN, .epochs = 1};
    TrainConfig cfg1;
    train_config_defaults(&cfg1);
    cfg1.epochs = one.epochs;
    cfg1.batch = 32;
    assert_int_equal(train_resume_open(&r, path, FP_A, &m, &err), 0);
    cfg1.resume = &r;
    MethodReport rep1;
    assert_int_equal(method_train(&m, &few, NULL, &cfg1, &dc, &rep1, &err), -1);
    assert_non_null(strstr(err.msg, "the snapshot covers 2 epochs, this job trains 1"));
    train_resume_close(&r);
    dataset_free(&few);
    /* a method that cannot resume */
    Dataset train;
    blob_dataset(&train, 64, 12, 1);
    TrainConfig cfg;
    train_config_defaults(&cfg);
    cfg.resume = &r;
    dc.method = METHOD_NONUNIFORM_SINGLE;
    MethodReport rep;
    assert_int_equal(method_train(&m, &train, NULL, &cfg, &dc, &rep, &err), -1);
    assert_non_null(strstr(err.msg, "nonuniform-single cannot go on from a training snapshot"));
    dataset_free(&train);
    model_free(&m);
    free(data);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_resumes),
        cmocka_unit_test(test_individual_resumes_inside_a_width),
        cmocka_unit_test(test_uniform_sandwich_resumes),
        cmocka_unit_test(test_incremental_resumes_inside_a_group),
        cmocka_unit_test(test_self_distillation_resumes),
        cmocka_unit_test(test_joint_resumes),
        cmocka_unit_test(test_refuses_another_job_and_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
