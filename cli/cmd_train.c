/* cli/cmd_train.c — `dynn train`: load a dataset, build a model, train it, save a checkpoint.
 * Progress: a live bar on a TTY (epoch, batch, loss, img/s, ETA), one line per epoch otherwise. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/args.h"
#include "cli/commands.h"
#include "util/version.h"
#include "nn/model.h"
#include "stages/train_job.h"
#include "util/json_out.h"

static const char *TRAIN_USAGE =
    "usage: dynn train --out FILE [options]\n"
    "  --model NAME        resnet20|resnet32|resnet44|resnet56|resnet110|resnet18|alexnet (resnet20)\n"
    "  --method M          plain (one network) | uniform | nonuniform-multi | nonuniform-single |\n"
    "                      incremental | individual (plain)\n"
    "  --widths LIST       uniform/individual: width ratios in (0,1] (0.25,0.5,0.75,1)\n"
    "  --flops LIST        nonuniform-*: MACs targets as fractions of the full network, must include 1\n"
    "                      (0.0625,0.25,0.5625,1: the MACs of the default uniform widths)\n"
    "  --groups G          incremental: channel groups per layer (4)\n"
    "  --sandwich K        uniform/nonuniform: per iteration the largest, the smallest and K-2 random\n"
    "                      subnets instead of all of them (0: all)\n"
    "  --distill           smaller subnets learn from the largest's soft predictions (in-place distillation)\n"
    "  --bg-epochs N       nonuniform-multi: epochs of the full-width background model (--epochs)\n"
    "  --group-lasso L     nonuniform-multi: group-lasso strength on filters in the background model (0)\n"
    "  --slim-images N     nonuniform-*: training images held out for greedy slimming (256)\n"
    "  --min-channels F    nonuniform-*: greedy slimming keeps at least F x every layer's channels (0.125; 0: down to 1)\n"
    "  --phase-epochs LIST nonuniform-single: epochs of the phases before the last (one per subnet but\n"
    "                      one, e.g. 1,1,1: every subnet joins early); the last phase gets the rest\n"
    "                      (default: 1 each; equal phases for 15 epochs: 4,4,4)\n"
    "  --data SPEC         fashion-mnist[:DIR] | mnist:DIR | cifar10:DIR (fashion-mnist)\n"
    "  --width W           channel width multiplier (1.0)\n"
    "  --epochs N          epoch budget (15): per width for individual, split over the groups for\n"
    "                      incremental and over the phases for nonuniform-single   --batch N (128)\n"
    "  --lr LR             base learning rate (0.1)\n"
    "  --schedule S        cosine|step|constant (cosine)   --warmup E  warm-up epochs (0)\n"
    "  --momentum M        (0.9)   --wd WD  weight decay (5e-4)   --no-nesterov\n"
    "  --crop-pad P        random-crop padding in pixels (2 for 28x28 data, 4 for 32x32)\n"
    "  --no-flip           no horizontal flips      --no-augment   neither crop nor flip\n"
    "  --seed S            (1)             --threads T   (all available CPUs)\n"
    "  --train-limit N     use the first N training images    --test-limit N  first N test images\n"
    "  --json              print the final summary as JSON on stdout\n"
    "  --quiet             no progress output\n";

typedef struct ProgressState {
    int tty, quiet;
    double last_draw;
} ProgressState;

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void show_progress(const TrainProgress *p, void *ctx) {
    ProgressState *st = ctx;
    if (st->quiet) return;
    char eta[32], el[32];
    if (st->tty) {
        double now = wall_now();
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
           m->d->arch, model_subnet_macs(m->d, m->active) / 1e6, method_name(job->dc.method), m->d->n_subnets,
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
    json_key(&j, "train_img_per_s"); json_number(&j, r->images_trained / r->report.wall_s);
    json_key(&j, "train_flops"); json_number(&j, r->report.train_flops);
    json_key(&j, "method"); json_string(&j, method_name(job->dc.method));
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
    printf("saved %s: test accuracy %.2f%% (%d images, largest subnet), %g epochs in %s, %.3g TFLOPs of training\n",
           out_path, 100.0 * ev->accuracy, ev->n, r->report.epochs, cli_duration(r->report.wall_s, el, 32),
           r->report.train_flops / 1e12);
}

int cmd_train(int argc, char **argv) {
    TrainJob job;
    train_job_defaults(&job);
    const char *out_path = NULL;
    Err err = {{0}};
    size_t n_opts;
    const TrainOption *table = train_job_options(&n_opts);
    enum { O_OUT = 1000, O_JSON, O_QUIET, O_HELP };
    struct option opts[64];
    size_t k = 0;
    for (size_t i = 0; i < n_opts && k < 59; i++, k++)
        opts[k] = (struct option){table[i].name, table[i].kind == TRAIN_OPT_FLAG ? 0 : 1, 0, (int)i};
    opts[k++] = (struct option){"out", 1, 0, O_OUT};
    opts[k++] = (struct option){"json", 0, 0, O_JSON};
    opts[k++] = (struct option){"quiet", 0, 0, O_QUIET};
    opts[k++] = (struct option){"help", 0, 0, O_HELP};
    opts[k] = (struct option){0, 0, 0, 0};
    optind = 1;
    opterr = 0;
    int c, bad = 0;
    while (!bad && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c >= 0 && (size_t)c < n_opts) {
            char shown[64];
            snprintf(shown, sizeof shown, "--%s", table[c].name);
            bad = train_job_set(&job, table[c].name, optarg, shown, &err) != 0;
            continue;
        }
        switch (c) {
        case O_OUT: out_path = optarg; break;
        case O_JSON: job.json = 1; break;
        case O_QUIET: job.quiet = 1; break;
        case O_HELP: fputs(TRAIN_USAGE, stdout); return 0;
        default:
            err_set(&err, "unknown or incomplete option '%s' (see dynn train --help)", argv[optind - 1]);
            bad = 1;
        }
    }
    if (!bad && optind < argc) bad = err_set(&err, "unexpected argument '%s' (see dynn train --help)", argv[optind]) != 0;
    if (!bad && !out_path) bad = err_set(&err, "--out FILE is required (where to write the checkpoint)") != 0;
    if (!bad) bad = train_job_check(&job, "--", &err) != 0;
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
    if (job.json) print_json(&job, out_path, &res);
    else print_summary(out_path, &res);
    train_job_result_free(&res);
    return 0;
}
