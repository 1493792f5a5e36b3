/* cli/cmd_train.c — `dynn train`: load a dataset, build a model, train it, save a checkpoint.
 * Progress: a live bar on a TTY (epoch, batch, loss, img/s, ETA), one line per epoch otherwise.
 * `--synthetic-weights`: a synthetic model saved instead (nn/synthetic.h), its subnets and costs
 * printed, never an accuracy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/args.h"
#include "cli/commands.h"
#include "util/version.h"
#include "nn/model.h"
#include "stages/train_job.h"
#include "util/cliopt.h"
#include "util/fs.h"
#include "util/json_out.h"
#include "util/duration.h"

static const char TRAIN_SUMMARY[] =
    "  trains a network (or a dynamic network's subnets) and writes the checkpoint FILE; the training\n"
    "  options are the train stage's params too (docs/FORMATS.md)\n";

typedef struct ProgressState {
    int tty, quiet;
    double last_draw;
} ProgressState;

static void show_progress(const TrainProgress *p, void *ctx) {
    ProgressState *st = ctx;
    if (st->quiet) return;
    char eta[32], el[32];
    if (st->tty) {
        double now = duration_now_s();
        if (!p->epoch_done && now - st->last_draw < 0.1) return;
        st->last_draw = now;
        int width = 24, filled = p->batch * width / p->batches;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r\033[K%s%sepoch %d/%d [%s] %d/%d loss %.4f acc %.2f%% %.0f img/s ETA %s", p->phase ? p->phase : "",
                p->phase ? ": " : "", p->epoch, p->epochs, bar, p->batch, p->batches, p->loss, 100.0 * p->train_acc,
                p->img_per_s, cli_duration(p->eta_s, eta, 32));
        if (!p->epoch_done) return;
        fprintf(stderr, "\r\033[K");
    }
    if (!p->epoch_done) return;
    FILE *out = st->tty ? stderr : stdout;
    fprintf(out, "%s%sepoch %d/%d loss %.4f train-acc %.2f%%", p->phase ? p->phase : "", p->phase ? ": " : "", p->epoch,
            p->epochs, p->loss, 100.0 * p->train_acc);
    if (p->test_acc >= 0) fprintf(out, " test-acc %.2f%%", 100.0 * p->test_acc);
    fprintf(out, " lr %.4f %.0f img/s elapsed %s\n", p->lr, p->img_per_s, cli_duration(p->elapsed_s, el, 32));
    fflush(out);
}

/* "training ResNet-20 (...) with method ..." once the model is built. */
static void show_start(const TrainJob *job, const Model *m, int train_images, int test_images, void *ctx) {
    (void)ctx;
    if (job->quiet || job->json) return;
    printf("training %s (%.2f MMACs/image) with method %s (%d subnet%s) on %s: %d train / %d test images, "
           "%d epochs, batch %d, %d threads\n",
           m->d->arch, model_subnet_macs(m->d, m->active) / 1e6, method_variant_name(&job->dc, job->teacher != NULL), m->d->n_subnets,
           m->d->n_subnets > 1 ? "s" : "", job->data, train_images, test_images, job->cfg.epochs, job->cfg.batch,
           m->threads);
    fflush(stdout);
}

static void print_json(const TrainJob *job, const char *out_path, const TrainJobResult *r) {
    const ModelDesc *d = r->desc;
    const EvalResult *ev = &r->eval[r->largest];
    JsonOut j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_key(&j, "model"); json_string(&j, d->arch);
    json_key(&j, "data"); json_string(&j, job->data);
    json_key(&j, "out"); json_string(&j, out_path);
    json_key(&j, "epochs"); json_int(&j, job->cfg.epochs);
    json_key(&j, "epochs_trained"); json_number(&j, r->report.epochs); /* over all phases and widths */
    json_key(&j, "threads"); json_int(&j, r->threads);
    json_key(&j, "test_accuracy"); json_number(&j, ev->accuracy);
    json_key(&j, "test_loss"); json_number(&j, ev->loss);
    json_key(&j, "final_train_loss"); json_number(&j, r->report.final_loss);
    json_key(&j, "wall_s"); json_number(&j, r->report.wall_s);
    if (r->report.slim.steps > 0) {
        json_key(&j, "slimming"); json_object_begin(&j);
        json_key(&j, "steps"); json_int(&j, r->report.slim.steps);
        json_key(&j, "coarse_steps"); json_int(&j, r->report.slim.coarse_steps);
        json_key(&j, "trials"); json_int(&j, r->report.slim.trials);
        json_key(&j, "seconds"); json_number(&j, r->report.slim.seconds);
        json_object_end(&j);
    }
    json_key(&j, "train_img_per_s"); json_number(&j, r->images_trained / r->report.wall_s);
    json_key(&j, "train_flops"); json_number(&j, r->report.train_flops);
    json_key(&j, "method"); json_string(&j, method_name(job->dc.method));
    json_key(&j, "variant"); json_string(&j, method_variant_name(&job->dc, job->teacher != NULL));
    if (job->teacher) {
        json_key(&j, "teacher"); json_string(&j, job->teacher);
        json_key(&j, "teacher_accuracy"); json_number(&j, r->teacher_acc);
    }
    json_key(&j, "subnets"); json_array_begin(&j);
    for (int i = 0; i < r->n_subnets; i++) {
        json_object_begin(&j);
        json_key(&j, "name"); json_string(&j, d->subnets[i].name);
        json_key(&j, "accuracy"); json_number(&j, r->eval[i].accuracy);
        json_key(&j, "macs"); json_number(&j, model_subnet_macs(d, d->subnets[i].count));
        json_key(&j, "params"); json_number(&j, model_subnet_params(d, d->subnets[i].count));
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_finish(&j);
}

/* A synthetic model: its subnets' costs and channels, no accuracy (there is none). */
static void print_synthetic_json(const TrainJob *job, const char *out_path, const TrainJobResult *r) {
    const ModelDesc *d = r->desc;
    JsonOut j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_key(&j, "model"); json_string(&j, d->arch);
    json_key(&j, "synthetic"); json_bool(&j, 1);
    json_key(&j, "out"); json_string(&j, out_path);
    json_key(&j, "input"); json_array_begin(&j); json_int(&j, d->in_c); json_int(&j, d->in_h); json_int(&j, d->in_w); json_array_end(&j);
    json_key(&j, "classes"); json_int(&j, d->classes);
    json_key(&j, "seed"); json_int(&j, (long long)job->seed);
    json_key(&j, "wall_s"); json_number(&j, r->report.wall_s);
    json_key(&j, "subnets"); json_array_begin(&j);
    for (int i = 0; i < d->n_subnets; i++) {
        json_object_begin(&j);
        json_key(&j, "name"); json_string(&j, d->subnets[i].name);
        json_key(&j, "macs"); json_number(&j, model_subnet_macs(d, d->subnets[i].count));
        json_key(&j, "params"); json_number(&j, model_subnet_params(d, d->subnets[i].count));
        json_key(&j, "channels"); json_array_begin(&j);
        for (int s = 0; s < d->n_slots; s++) json_int(&j, d->subnets[i].count[s]);
        json_array_end(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_finish(&j);
}

static void print_synthetic(const char *out_path, const TrainJobResult *r) {
    const ModelDesc *d = r->desc;
    double full = model_subnet_macs(d, d->subnets[r->largest].count);
    printf("%-10s %10s %9s %10s  %s\n", "subnet", "MMACs", "of full", "params", "channels per slot");
    for (int i = 0; i < d->n_subnets; i++) {
        double macs = model_subnet_macs(d, d->subnets[i].count);
        printf("%-10s %10.2f %8.1f%% %10.0f  ", d->subnets[i].name, macs / 1e6, 100.0 * macs / full,
               model_subnet_params(d, d->subnets[i].count));
        for (int s = 0; s < d->n_slots; s++) printf(s ? ",%d" : "%d", d->subnets[i].count[s]);
        printf("\n");
    }
    printf("saved %s: synthetic weights for %s, input %dx%dx%d, %d classes, %d subnet%s (random, not trained: for "
           "latency only, no accuracy)\n",
           out_path, d->arch, d->in_c, d->in_h, d->in_w, d->classes, d->n_subnets, d->n_subnets > 1 ? "s" : "");
}

static void print_summary(const char *out_path, const TrainJobResult *r) {
    const ModelDesc *d = r->desc;
    const EvalResult *ev = &r->eval[r->largest];
    char el[32];
    if (d->n_subnets > 1) {
        printf("%-10s %9s %10s %10s\n", "subnet", "accuracy", "MMACs", "params");
        for (int i = 0; i < d->n_subnets; i++)
            printf("%-10s %8.2f%% %10.2f %10.0f\n", d->subnets[i].name, 100.0 * r->eval[i].accuracy,
                   model_subnet_macs(d, d->subnets[i].count) / 1e6, model_subnet_params(d, d->subnets[i].count));
    }
    const SlimStats *sl = &r->report.slim;
    if (sl->steps > 0)
        printf("greedy slimming: %d steps (%d coarse), %d trial forwards, %s\n", sl->steps, sl->coarse_steps, sl->trials,
               cli_duration(sl->seconds, el, 32));
    printf("saved %s: test accuracy %.2f%% (%d images, largest subnet), %g epochs in %s, %.3g TFLOPs of training\n",
           out_path, 100.0 * ev->accuracy, ev->n, r->report.epochs, cli_duration(r->report.wall_s, el, 32),
           r->report.train_flops / 1e12);
}

/* A training option from the job's table (stages/train_job.c), set by name. */
static int set_train_option(void *ctx, const CliOptValue *v, Err *err) {
    return train_job_set(ctx, v->opt->name, v->value, v->shown, err);
}

static const CliOptKind KIND_OF[] = {
    [TRAIN_OPT_STRING] = CLIOPT_STRING, [TRAIN_OPT_INT] = CLIOPT_INT, [TRAIN_OPT_FLOAT] = CLIOPT_FLOAT,
    [TRAIN_OPT_U64] = CLIOPT_U64, [TRAIN_OPT_FLAG] = CLIOPT_FLAG, [TRAIN_OPT_LIST] = CLIOPT_LIST,
};

int cmd_train(int argc, char **argv) {
    TrainJob job;
    train_job_defaults(&job);
    const char *out_path = NULL;
    Err err = {{0}};
    size_t n_opts;
    const TrainOption *table = train_job_options(&n_opts);
    CliOpt *opts = calloc(n_opts + 4, sizeof *opts);
    if (!opts) {
        fprintf(stderr, "dynn train: out of memory\n");
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_opts; i++, k++)
        opts[k] = (CliOpt){.name = table[i].name, .kind = KIND_OF[table[i].kind], .metavar = table[i].arg,
                           .help = table[i].help, .min = table[i].min, .max = table[i].max, .dflt = table[i].dflt,
                           .set = set_train_option, .ctx = &job};
    opts[k++] = (CliOpt){.name = "out", .kind = CLIOPT_STRING, .metavar = "FILE", .dest = &out_path,
                         .help = "where to write the checkpoint (required)"};
    opts[k++] = (CliOpt){.name = "snapshot", .kind = CLIOPT_STRING, .metavar = "FILE", .dest = &job.snapshot,
                         .help = "after every epoch save the training state to FILE; a run of the same job\n"
                                 "(options, seed, threads, build) finding it goes on from there, bit-identical\n"
                                 "to an uninterrupted run; removed once the checkpoint is saved (not for\n"
                                 "nonuniform-*)"};
    opts[k++] = (CliOpt){.name = "json", .kind = CLIOPT_FLAG, .dest = &job.json,
                         .help = "print the final summary as JSON on stdout"};
    opts[k++] = (CliOpt){.name = "quiet", .kind = CLIOPT_FLAG, .dest = &job.quiet, .help = "no progress output"};
    const CliOptCommand c = {.name = "train", .synopsis = "--out FILE [options]", .summary = TRAIN_SUMMARY, .opts = opts,
                             .n_opts = k};
    int prc = cliopt_main(&c, argc, argv);
    free(opts);
    if (prc >= 0) return prc;
    int bad = 0;
    if (!out_path) bad = err_set(&err, "--out FILE is required (where to write the checkpoint)") != 0;
    if (!bad) bad = train_job_check(&job, "--", &err) != 0;
    /* where the results go, checked before hours of training */
    if (!bad) bad = fs_check_writable_target(out_path, "--out", &err) != 0;
    if (!bad && job.snapshot) bad = fs_check_writable_target(job.snapshot, "--snapshot", &err) != 0;
    if (bad) {
        fprintf(stderr, "dynn train: %s\n", err.msg);
        return 2;
    }
    ProgressState ps = {cli_is_tty(), job.quiet || job.json, 0};
    job.cfg.progress = show_progress;
    job.cfg.progress_ctx = &ps;
    TrainJobResult res;
    if (train_job_run(&job, out_path, show_start, NULL, &res, &err)) {
        fprintf(stderr, "dynn train: %s\n", err.msg);
        train_job_result_free(&res);
        return 1;
    }
    if (res.synthetic && job.json) print_synthetic_json(&job, out_path, &res);
    else if (res.synthetic) print_synthetic(out_path, &res);
    else if (job.json) print_json(&job, out_path, &res);
    else print_summary(out_path, &res);
    train_job_result_free(&res);
    return 0;
}
