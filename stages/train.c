/* stages/train.c — the `train` stage type: trains a dynamic model with one of the methods.
 *
 * Params are the options of `dynn train` (stages/train_job.h), written `epochs: 4`, `bg_epochs: 2`
 * or `bg-epochs: 2`; lists (`widths: [0.25, 0.5, 1]`) are joined with commas; flags are booleans
 * (`distill: true`). `threads` defaults to the stage's thread budget and `seed` to the run's seed.
 * Records: the checkpoint as artifact `model`; per subnet (metric subnet = subnet name) `accuracy`
 * (fraction), `loss`, `macs`, `params`, `bytes_touched`, `width` (MACs fraction of the largest
 * subnet) and `subnet_index`; for the stage `train_seconds`, `train_flops`, `epochs` (passes over
 * the training set), `model_bytes`, `separate_models_bytes`, `train_images` and `test_images`;
 * nonuniform-* also `slim_seconds`, `slim_steps` and `slim_trials` (greedy slimming's cost).
 *
 * `teacher` (incremental distillation) is `train` (the stage trains one first) or the model of a
 * stage it needs (its instance name, or an artifact name), never a path: the cache key then follows
 * the teacher's content.
 *
 * After every epoch the training state goes to a snapshot in the stage's resume directory
 * (nn/snapshot.h): a run with the same cache key after a killed or preempted one goes on from the
 * last finished epoch, with the same result bits (not nonuniform-*, which start again).
 *
 * `synthetic_weights: true` makes a synthetic model (nn/synthetic.h; params model, input, classes,
 * width, seed and widths or channels — `channels: [[16, 16, ...], [32, 32, ...]]`, one list per
 * subnet). Records: the checkpoint; per subnet the costs (`macs`, `params`, `bytes_touched`, `width`,
 * `subnet_index`), never `accuracy` or `loss`; for the stage `synthetic` = 1 (what tells the
 * database and the reports that the model has no accuracy), `model_bytes` and
 * `separate_models_bytes`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/data.h"
#include "stages/stage_inputs.h"
#include "stages/stage_types.h"
#include "stages/train_job.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/suggest.h"

/* A list of scalars joined with commas. */
static int join_scalars(const StageCheck *c, const YNode *v, const char *key, StrBuf *out, Err *err) {
    if (!v->len) return ynode_err(err, c->file, v, "stage '%s': param '%s' is an empty list", c->stage, key);
    for (size_t i = 0; i < v->len; i++) {
        if (v->items[i]->kind != YNODE_SCALAR)
            return ynode_err(err, c->file, v->items[i], "stage '%s': param '%s' must be a list of values", c->stage, key);
        sb_printf(out, "%s%s", i ? "," : "", v->items[i]->str);
    }
    return 0;
}

/* The value of one param as option text: scalars as written, lists joined with commas. A list
 * option (channels) also takes a list of lists, one value each: the lists joined with '/'. */
static int param_text(const StageCheck *c, const YNode *v, const char *key, int list_option, StrBuf *out, Err *err) {
    if (v->kind == YNODE_MAP)
        return ynode_err(err, c->file, v, "stage '%s': param '%s' must be a value or a list, not a mapping", c->stage, key);
    if (v->kind == YNODE_SCALAR) {
        sb_append(out, v->str);
        return 0;
    }
    if (!list_option || !v->len || v->items[0]->kind != YNODE_SEQ) return join_scalars(c, v, key, out, err);
    for (size_t i = 0; i < v->len; i++) {
        if (v->items[i]->kind != YNODE_SEQ)
            return ynode_err(err, c->file, v->items[i], "stage '%s': param '%s' must be a list of lists (one per subnet) "
                             "or one list", c->stage, key);
        if (i) sb_append(out, "/");
        if (join_scalars(c, v->items[i], key, out, err)) return -1;
    }
    return 0;
}

static int unknown_param(const StageCheck *c, const YNode *key, Err *err) {
    size_t n;
    const TrainOption *opts = train_job_options(&n);
    const char *names[64];
    for (size_t i = 0; i < n && i < 64; i++) names[i] = opts[i].name;
    char hint[96];
    return ynode_err(err, c->file, key, "stage '%s': unknown train param '%s'%s", c->stage, key->str,
                     suggest_hint(hint, sizeof hint, key->str, names, n < 64 ? n : 64));
}

/* Applies every param to a job; the texts live in `texts` (one StrBuf per param). Positioned errors. */
static int apply_params(const StageCheck *c, TrainJob *job, StrBuf *texts, Err *err) {
    const YNode *p = c->params;
    for (size_t i = 0; i < p->len; i++) {
        const YNode *key = p->pairs[i].key, *v = p->pairs[i].value;
        const TrainOption *o = train_job_option_find(key->str);
        if (!o) return unknown_param(c, key, err);
        if (param_text(c, v, key->str, o->kind == TRAIN_OPT_LIST, &texts[i], err)) return -1;
        char shown[96];
        snprintf(shown, sizeof shown, "param '%s'", key->str);
        Err e = {{0}};
        if (train_job_set(job, key->str, sb_str(&texts[i]), shown, &e))
            return ynode_err(err, c->file, v, "stage '%s': %s", c->stage, e.msg);
    }
    Err e = {{0}};
    if (train_job_check(job, "", &e)) return ynode_err(err, c->file, c->at, "stage '%s': %s", c->stage, e.msg);
    /* a file would escape the cache key (dynn train --teacher FILE takes one; a stage does not). An
     * absolute path is never a stage's or an artifact's name (an exec stage's artifacts are named by
     * their workspace-relative paths) */
    const YNode *teacher_at = ynode_get(c->params, "teacher");
    if (job->teacher && (job->teacher[0] == '/' || job->teacher[0] == '~'))
        return ynode_err(err, c->file, teacher_at ? teacher_at : c->at,
                         "stage '%s': param 'teacher' '%s' is a file path: name the stage in `needs` that trains the "
                         "teacher (a file is for dynn train --teacher), or write `train`", c->stage, job->teacher);
    if (job->synthetic) return 0; /* no data set */
    char dir[4096];
    int cifar;
    if (dataset_locate(job->data, dir, sizeof dir, &cifar, &e)) {
        const YNode *at = ynode_get(c->params, "data");
        return ynode_err(err, c->file, at ? at : c->at, "stage '%s': %s", c->stage, e.msg);
    }
    return 0;
}

static void free_texts(StrBuf *texts, size_t n) {
    for (size_t i = 0; i < n; i++) sb_free(&texts[i]);
    free(texts);
}

static int train_validate(const StageCheck *c, Err *err) {
    TrainJob job;
    train_job_defaults(&job);
    StrBuf *texts = calloc(c->params->len + 1, sizeof *texts);
    if (!texts) return err_set(err, "out of memory");
    int rc = apply_params(c, &job, texts, err);
    free_texts(texts, c->params->len);
    return rc;
}

static int record(const StageRun *run, const char *name, double value, const char *subnet, Err *err) {
    return run->sink->metric(run->sink, name, value, subnet, 0, err);
}

/* Per subnet its costs (and, trained, its accuracy and loss); per model its size and (trained) the
 * training budget, or (synthetic) the mark — a synthetic model has no accuracy or loss. */
static int record_results(const StageRun *run, const TrainJobResult *r, Err *err) {
    const ModelDesc *d = r->desc;
    double full_macs = model_subnet_macs(d, d->subnets[r->largest].count), separate = 0.0;
    for (int i = 0; i < d->n_subnets; i++) {
        const int *count = d->subnets[i].count;
        const char *name = d->subnets[i].name;
        double macs = model_subnet_macs(d, count);
        separate += model_subnet_stored_floats(d, count);
        if ((!r->synthetic && (record(run, "accuracy", r->eval[i].accuracy, name, err) ||
                               record(run, "loss", r->eval[i].loss, name, err))) ||
            record(run, "macs", macs, name, err) || record(run, "params", model_subnet_params(d, count), name, err) ||
            record(run, "bytes_touched",
                   4.0 * (model_subnet_stored_floats(d, count) + model_subnet_activation_floats(d, count)), name, err) ||
            record(run, "width", macs / full_macs, name, err) || record(run, "subnet_index", i, name, err))
            return -1;
    }
    if (record(run, "model_bytes", 4.0 * model_desc_param_floats(d), NULL, err) ||
        record(run, "separate_models_bytes", 4.0 * separate, NULL, err))
        return -1;
    if (r->synthetic) return record(run, "synthetic", 1, NULL, err);
    if (record(run, "train_seconds", r->report.wall_s, NULL, err) ||
        record(run, "train_flops", r->report.train_flops, NULL, err) ||
        record(run, "epochs", r->report.epochs, NULL, err) ||
        record(run, "train_images", r->train_images, NULL, err) || record(run, "test_images", r->test_images, NULL, err))
        return -1;
    const SlimStats *sl = &r->report.slim;
    if (sl->steps > 0 && (record(run, "slim_seconds", sl->seconds, NULL, err) ||
                          record(run, "slim_steps", sl->steps, NULL, err) ||
                          record(run, "slim_trials", sl->trials, NULL, err)))
        return -1;
    return 0;
}

static void log_progress(const TrainProgress *p, void *ctx) {
    (void)ctx;
    if (!p->epoch_done) return;
    printf("%s%sepoch %d/%d loss %.4f train-acc %.2f%%", p->phase ? p->phase : "", p->phase ? ": " : "", p->epoch,
           p->epochs, p->loss, 100.0 * p->train_acc);
    if (p->test_acc >= 0) printf(" test-acc %.2f%%", 100.0 * p->test_acc);
    printf(" lr %.4f %.0f img/s\n", p->lr, p->img_per_s);
    fflush(stdout);
}

static int train_run_stage(const StageRun *run, Err *err) {
    TrainJob job;
    train_job_defaults(&job);
    job.threads = run->threads > 0 ? run->threads : 0;
    job.seed = (unsigned long long)run->seed;
    StageCheck check = {.file = run->name, .stage = run->name, .at = run->params, .params = run->params};
    StrBuf *texts = calloc(run->params->len + 1, sizeof *texts);
    if (!texts) return err_set(err, "out of memory");
    int rc = apply_params(&check, &job, texts, err);
    job.cfg.progress = log_progress;
    char out[4096], teacher[4096], what[300], snapshot[4096];
    if (!rc && job.teacher && strcmp(job.teacher, "train")) { /* a needed stage's model: the cache key follows it */
        snprintf(what, sizeof what, "stage '%s': param 'teacher' '%s'", run->name, job.teacher);
        rc = stage_find_model(run, job.teacher, 0, what, teacher, sizeof teacher, err);
        job.teacher = teacher;
    }
    if (!rc && (mkdir(run->scratch, 0777) && errno != EEXIST))
        rc = err_set(err, "%s: cannot create: %s", run->scratch, strerror(errno));
    if (!rc && fs_join(out, sizeof out, run->scratch, "model.dnn")) rc = err_set(err, "%s: path too long", run->scratch);
    /* the snapshot of every epoch in the resume directory: a killed or preempted run goes on from it */
    if (!rc && !job.synthetic && run->resume_dir && *run->resume_dir && method_resumable(job.dc.method)) {
        if (fs_join(snapshot, sizeof snapshot, run->resume_dir, "train.snapshot"))
            rc = err_set(err, "%s: path too long", run->resume_dir);
        else if (!(rc = fs_mkdir_p(run->resume_dir, err)))
            job.snapshot = snapshot;
    }
    TrainJobResult res = {0};
    if (!rc) {
        if (job.synthetic)
            printf("train: %s synthetic weights (input %dx%dx%d, %d classes, seed %llu): no data set, no training\n",
                   job.model, job.in_c, job.in_h, job.in_w, job.classes, job.seed);
        else
            printf("train: %s %s on %s, %d epochs, batch %d, seed %llu\n", job.model,
                   method_variant_name(&job.dc, job.teacher != NULL), job.data,
                   job.cfg.epochs, job.cfg.batch, job.seed);
        fflush(stdout);
        rc = train_job_run(&job, out, NULL, NULL, &res, err);
    }
    if (!rc) {
        for (int i = 0; i < res.n_subnets; i++)
            if (res.synthetic)
                printf("subnet %-8s %.2f MMACs (synthetic: no accuracy)\n", res.desc->subnets[i].name,
                       model_subnet_macs(res.desc, res.desc->subnets[i].count) / 1e6);
            else
                printf("subnet %-8s accuracy %.2f%%\n", res.desc->subnets[i].name, 100.0 * res.eval[i].accuracy);
        fflush(stdout);
        rc = record_results(run, &res, err);
    }
    if (!rc) rc = run->sink->artifact(run->sink, "model", out, "model", err);
    train_job_result_free(&res);
    free_texts(texts, run->params->len);
    return rc;
}

const StageType stage_type_train = {
    .name = "train",
    .summary = "train a dynamic model (dynn train options as params); records per-subnet accuracy and costs",
    .validate = train_validate,
    .run = train_run_stage,
};
