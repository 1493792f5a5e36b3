/* cli/cmd_train.c — `dynn train`: load a dataset, build a model, train it, save a checkpoint.
 * Progress: a live bar on a TTY (epoch, batch, loss, img/s, ETA), one line per epoch otherwise. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/version.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/methods.h"
#include "nn/subnet.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "nn/train.h"
#include "util/json_out.h"

static const char *TRAIN_USAGE =
    "usage: dynn train --out FILE [options]\n"
    "  --model NAME        resnet20|resnet32|resnet44|resnet56|resnet110|resnet18|alexnet (resnet20)\n"
    "  --method M          plain (one network) | uniform | nonuniform-multi | nonuniform-single |\n"
    "                      incremental | individual (plain)\n"
    "  --widths LIST       uniform/individual: width ratios in (0,1] (0.25,0.5,0.75,1)\n"
    "  --flops LIST        nonuniform-*: MACs targets as fractions of the full network, must include 1\n"
    "                      (0.25,0.5,0.75,1)\n"
    "  --groups G          incremental: channel groups per layer (4)\n"
    "  --sandwich K        uniform/nonuniform: per iteration the largest, the smallest and K-2 random\n"
    "                      subnets instead of all of them (0: all)\n"
    "  --distill           smaller subnets learn from the largest's soft predictions (in-place distillation)\n"
    "  --bg-epochs N       nonuniform-multi: epochs of the full-width background model (--epochs)\n"
    "  --group-lasso L     nonuniform-multi: group-lasso strength on filters in the background model (0)\n"
    "  --slim-images N     nonuniform-*: training images held out for greedy slimming (256)\n"
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

int cmd_train(int argc, char **argv) {
    const char *model_name = "resnet20", *data_spec = "fashion-mnist", *out_path = NULL, *schedule = "cosine";
    int threads = 0, train_limit = 0, test_limit = 0, json = 0, quiet = 0, crop_pad = -1;
    const char *method = "plain", *widths = NULL, *flops = NULL;
    DynamicConfig dc;
    dynamic_config_defaults(&dc);
    float width = 1.0f;
    TrainConfig cfg;
    train_config_defaults(&cfg);
    cfg.epochs = 15;
    cfg.eval_each_epoch = 1;
    Err err = {{0}};
    enum { O_MODEL = 256, O_DATA, O_WIDTH, O_EPOCHS, O_BATCH, O_LR, O_SCHED, O_WARMUP, O_MOM, O_WD, O_NONEST,
           O_CROP, O_NOFLIP, O_NOAUG, O_SEED, O_THREADS, O_TRL, O_TEL, O_OUT, O_JSON, O_QUIET, O_HELP, O_METHOD,
           O_WIDTHS, O_FLOPS, O_GROUPS, O_SANDWICH, O_DISTILL, O_BGEPOCHS, O_LASSO, O_SLIM };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"data", 1, 0, O_DATA}, {"width", 1, 0, O_WIDTH}, {"epochs", 1, 0, O_EPOCHS},
        {"batch", 1, 0, O_BATCH}, {"lr", 1, 0, O_LR}, {"schedule", 1, 0, O_SCHED}, {"warmup", 1, 0, O_WARMUP},
        {"momentum", 1, 0, O_MOM}, {"wd", 1, 0, O_WD}, {"no-nesterov", 0, 0, O_NONEST}, {"crop-pad", 1, 0, O_CROP},
        {"no-flip", 0, 0, O_NOFLIP}, {"no-augment", 0, 0, O_NOAUG}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"train-limit", 1, 0, O_TRL}, {"test-limit", 1, 0, O_TEL},
        {"out", 1, 0, O_OUT}, {"json", 0, 0, O_JSON}, {"quiet", 0, 0, O_QUIET}, {"help", 0, 0, O_HELP},
        {"method", 1, 0, O_METHOD}, {"widths", 1, 0, O_WIDTHS}, {"flops", 1, 0, O_FLOPS}, {"groups", 1, 0, O_GROUPS},
        {"sandwich", 1, 0, O_SANDWICH}, {"distill", 0, 0, O_DISTILL}, {"bg-epochs", 1, 0, O_BGEPOCHS},
        {"group-lasso", 1, 0, O_LASSO}, {"slim-images", 1, 0, O_SLIM}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c, bad = 0;
    unsigned long long seed = 1;
    while (!bad && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model_name = optarg; break;
        case O_DATA: data_spec = optarg; break;
        case O_WIDTH: bad = arg_float("--width", optarg, 0.01, 16, &width, &err); break;
        case O_EPOCHS: bad = arg_int("--epochs", optarg, 1, 100000, &cfg.epochs, &err); break;
        case O_BATCH: bad = arg_int("--batch", optarg, 2, 65536, &cfg.batch, &err); break;
        case O_LR: bad = arg_float("--lr", optarg, 0, 100, &cfg.sched.base_lr, &err); break;
        case O_SCHED: schedule = optarg; break;
        case O_WARMUP: bad = arg_float("--warmup", optarg, 0, 100000, &cfg.warmup_epochs, &err); break;
        case O_MOM: bad = arg_float("--momentum", optarg, 0, 0.999999, &cfg.sgd.momentum, &err); break;
        case O_WD: bad = arg_float("--wd", optarg, 0, 1, &cfg.sgd.weight_decay, &err); break;
        case O_NONEST: cfg.sgd.nesterov = 0; break;
        case O_CROP: bad = arg_int("--crop-pad", optarg, 0, 64, &crop_pad, &err); break;
        case O_NOFLIP: cfg.aug.flip = 0; break;
        case O_NOAUG: cfg.augment = 0; break;
        case O_SEED: bad = arg_u64("--seed", optarg, &seed, &err); break;
        case O_THREADS: bad = arg_int("--threads", optarg, 1, 1024, &threads, &err); break;
        case O_TRL: bad = arg_int("--train-limit", optarg, 1, 1 << 30, &train_limit, &err); break;
        case O_TEL: bad = arg_int("--test-limit", optarg, 1, 1 << 30, &test_limit, &err); break;
        case O_OUT: out_path = optarg; break;
        case O_JSON: json = 1; break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: fputs(TRAIN_USAGE, stdout); return 0;
        case O_METHOD: method = optarg; break;
        case O_WIDTHS: widths = optarg; break;
        case O_FLOPS: flops = optarg; break;
        case O_GROUPS: bad = arg_int("--groups", optarg, 1, MODEL_MAX_SUBNETS, &dc.groups, &err); break;
        case O_SANDWICH: bad = arg_int("--sandwich", optarg, 0, MODEL_MAX_SUBNETS, &dc.sandwich, &err); break;
        case O_DISTILL: dc.distill = 1; break;
        case O_BGEPOCHS: bad = arg_int("--bg-epochs", optarg, 0, 100000, &dc.bg_epochs, &err); break;
        case O_LASSO: bad = arg_float("--group-lasso", optarg, 0, 10, &dc.group_lasso, &err); break;
        case O_SLIM: bad = arg_int("--slim-images", optarg, 2, 1 << 20, &dc.slim_images, &err); break;
        default:
            err_set(&err, "unknown or incomplete option '%s' (see dynn train --help)", argv[optind - 1]);
            bad = 1;
        }
    }
    if (!bad && optind < argc) bad = err_set(&err, "unexpected argument '%s' (see dynn train --help)", argv[optind]) != 0;
    if (!bad && !out_path) bad = err_set(&err, "--out FILE is required (where to write the checkpoint)") != 0;
    if (!bad && lr_schedule_parse(schedule, &cfg.sched.kind))
        bad = err_set(&err, "--schedule: unknown schedule '%s' (cosine, step, constant)", schedule) != 0;
    if (!bad) bad = method_parse(method, &dc.method, &err) != 0;
    if (!bad && widths && flops) bad = err_set(&err, "--widths and --flops are exclusive (widths: uniform/individual, flops: nonuniform-*)") != 0;
    if (!bad && widths && dc.method != METHOD_UNIFORM && dc.method != METHOD_INDIVIDUAL)
        bad = err_set(&err, "--widths applies to --method uniform or individual, not %s", method) != 0;
    if (!bad && flops && dc.method != METHOD_NONUNIFORM_MULTI && dc.method != METHOD_NONUNIFORM_SINGLE)
        bad = err_set(&err, "--flops applies to --method nonuniform-multi or nonuniform-single, not %s", method) != 0;
    if (!bad && (widths || flops))
        bad = parse_ratio_list(widths ? widths : flops, widths ? "--widths" : "--flops", dc.ratios, &dc.n_ratios, &err) != 0;
    if (bad) {
        fprintf(stderr, "dynn train: %s\n", err.msg);
        return 2;
    }
    cfg.seed = seed;
    threads = nn_set_threads(threads);

    Dataset train = {0}, test = {0};
    ModelDesc *d = calloc(1, sizeof *d);
    Model m = {0};
    int rc = 1;
    if (!d || dataset_load(data_spec, &train, &test, &err)) goto done;
    dataset_limit(&train, train_limit);
    dataset_limit(&test, test_limit);
    if (model_desc_build(d, model_name, train.c, train.h, train.w, train.num_classes, width, &err)) goto done;
    if (method_prepare_desc(d, &dc, &err)) goto done;
    dataset_channel_stats(&train, d->norm_mean, d->norm_std);
    cfg.aug.crop_pad = crop_pad >= 0 ? crop_pad : (train.h >= 32 ? 4 : 2);
    model_desc_set_meta(d, "train.method", "%s", method_name(dc.method));
    model_desc_set_meta(d, "train.data", "%s", data_spec);
    model_desc_set_meta(d, "train.images", "%d", train.n);
    model_desc_set_meta(d, "train.epochs", "%d", cfg.epochs);
    model_desc_set_meta(d, "train.batch", "%d", cfg.batch);
    model_desc_set_meta(d, "train.lr", "%g", cfg.sched.base_lr);
    model_desc_set_meta(d, "train.schedule", "%s", schedule);
    model_desc_set_meta(d, "train.seed", "%llu", seed);
    model_desc_set_meta(d, "train.threads", "%d", threads);
    model_desc_set_meta(d, "train.dynn", "%s", dynn_build_id());
    ModelDesc *owned = d;
    d = NULL;
    if (model_create(&m, owned, cfg.batch > 256 ? cfg.batch : 256, threads, &err)) goto done;
    model_init_params(&m, seed);
    ProgressState ps = {cli_is_tty(), quiet || json, 0};
    cfg.progress = show_progress;
    cfg.progress_ctx = &ps;
    cfg.eval_batch = m.max_batch;
    if (!quiet && !json)
        printf("training %s (%.2f MMACs/image) with method %s (%d subnet%s) on %s: %d train / %d test images, "
               "%d epochs, batch %d, %d threads\n",
               m.d->arch, model_subnet_macs(m.d, m.active) / 1e6, method_name(dc.method), m.d->n_subnets,
               m.d->n_subnets > 1 ? "s" : "", train.name, train.n, test.n, cfg.epochs, cfg.batch, threads);
    fflush(stdout);
    MethodReport rep;
    if (method_train(&m, &train, &test, &cfg, &dc, &rep, &err)) goto done;
    model_desc_set_meta(m.d, "train.wall_s", "%.3f", rep.wall_s);
    model_desc_set_meta(m.d, "train.flops", "%.6g", rep.train_flops);
    model_desc_set_meta(m.d, "train.epochs_run", "%g", rep.epochs);
    EvalResult evs[MODEL_MAX_SUBNETS];
    for (int i = 0; i < m.d->n_subnets; i++) {
        model_set_subnet(&m, i);
        if (evaluate(&m, &test, &evs[i], &err)) goto done;
        char key[48];
        snprintf(key, sizeof key, "eval.%s.acc", m.d->subnets[i].name);
        model_desc_set_meta(m.d, key, "%.6f", evs[i].accuracy);
    }
    int top = model_largest_subnet(m.d);
    model_set_subnet(&m, top);
    EvalResult ev = evs[top];
    model_desc_set_meta(m.d, "eval.test_acc", "%.6f", ev.accuracy);
    if (checkpoint_save(&m, out_path, &err)) goto done;
    TrainStats stats = {.wall_s = rep.wall_s, .images = rep.epochs * (train.n / cfg.batch) * cfg.batch,
                        .final_loss = rep.final_loss};
    double train_flops = rep.train_flops;
    if (json) {
        JsonOut j;
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "model"); json_string(&j, m.d->arch);
        json_key(&j, "data"); json_string(&j, data_spec);
        json_key(&j, "out"); json_string(&j, out_path);
        json_key(&j, "epochs"); json_int(&j, cfg.epochs);
        json_key(&j, "threads"); json_int(&j, threads);
        json_key(&j, "test_accuracy"); json_number(&j, ev.accuracy);
        json_key(&j, "test_loss"); json_number(&j, ev.loss);
        json_key(&j, "final_train_loss"); json_number(&j, stats.final_loss);
        json_key(&j, "wall_s"); json_number(&j, stats.wall_s);
        json_key(&j, "train_img_per_s"); json_number(&j, stats.images / stats.wall_s);
        json_key(&j, "train_flops"); json_number(&j, train_flops);
        json_key(&j, "method"); json_string(&j, method_name(dc.method));
        json_key(&j, "subnets"); json_array_begin(&j);
        for (int i = 0; i < m.d->n_subnets; i++) {
            json_object_begin(&j);
            json_key(&j, "name"); json_string(&j, m.d->subnets[i].name);
            json_key(&j, "accuracy"); json_number(&j, evs[i].accuracy);
            json_key(&j, "macs"); json_number(&j, model_subnet_macs(m.d, m.d->subnets[i].count));
            json_key(&j, "params"); json_number(&j, model_subnet_params(m.d, m.d->subnets[i].count));
            json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        json_finish(&j);
    } else {
        char el[32];
        if (m.d->n_subnets > 1) {
            printf("%-10s %9s %10s %10s\n", "subnet", "accuracy", "MMACs", "params");
            for (int i = 0; i < m.d->n_subnets; i++)
                printf("%-10s %8.2f%% %10.2f %10.0f\n", m.d->subnets[i].name, 100.0 * evs[i].accuracy,
                       model_subnet_macs(m.d, m.d->subnets[i].count) / 1e6, model_subnet_params(m.d, m.d->subnets[i].count));
        }
        printf("saved %s: test accuracy %.2f%% (%d images, largest subnet), %g epochs in %s, %.3g TFLOPs of training\n",
               out_path, 100.0 * ev.accuracy, ev.n, rep.epochs, cli_duration(stats.wall_s, el, 32), train_flops / 1e12);
    }
    rc = 0;
done:
    if (rc) fprintf(stderr, "dynn train: %s\n", err.msg);
    free(d);
    if (m.d) model_free(&m);
    dataset_free(&train);
    dataset_free(&test);
    return rc;
}
