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
#include "nn/model.h"
#include "nn/parallel.h"
#include "nn/train.h"
#include "util/json_out.h"

static const char *TRAIN_USAGE =
    "usage: dynn train --out FILE [options]\n"
    "  --model NAME        resnet20|resnet32|resnet44|resnet56|resnet110|resnet18|alexnet (resnet20)\n"
    "  --data SPEC         fashion-mnist[:DIR] | mnist:DIR | cifar10:DIR (fashion-mnist)\n"
    "  --width W           channel width multiplier (1.0)\n"
    "  --epochs N          (15)            --batch N     (128)\n"
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
        fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %d/%d loss %.4f acc %.2f%% %.0f img/s ETA %s", p->epoch, p->epochs,
                bar, p->batch, p->batches, p->loss, 100.0 * p->train_acc, p->img_per_s, cli_duration(p->eta_s, eta, 32));
        if (!p->epoch_done) return;
        fprintf(stderr, "\r\033[K");
    }
    if (!p->epoch_done) return;
    FILE *out = st->tty ? stderr : stdout;
    fprintf(out, "epoch %d/%d loss %.4f train-acc %.2f%%", p->epoch, p->epochs, p->loss, 100.0 * p->train_acc);
    if (p->test_acc >= 0) fprintf(out, " test-acc %.2f%%", 100.0 * p->test_acc);
    fprintf(out, " lr %.4f %.0f img/s elapsed %s\n", p->lr, p->img_per_s, cli_duration(p->elapsed_s, el, 32));
    fflush(out);
}

int cmd_train(int argc, char **argv) {
    const char *model_name = "resnet20", *data_spec = "fashion-mnist", *out_path = NULL, *schedule = "cosine";
    int threads = 0, train_limit = 0, test_limit = 0, json = 0, quiet = 0, crop_pad = -1;
    float width = 1.0f;
    TrainConfig cfg;
    train_config_defaults(&cfg);
    cfg.epochs = 15;
    cfg.eval_each_epoch = 1;
    Err err = {{0}};
    enum { O_MODEL = 256, O_DATA, O_WIDTH, O_EPOCHS, O_BATCH, O_LR, O_SCHED, O_WARMUP, O_MOM, O_WD, O_NONEST,
           O_CROP, O_NOFLIP, O_NOAUG, O_SEED, O_THREADS, O_TRL, O_TEL, O_OUT, O_JSON, O_QUIET, O_HELP };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"data", 1, 0, O_DATA}, {"width", 1, 0, O_WIDTH}, {"epochs", 1, 0, O_EPOCHS},
        {"batch", 1, 0, O_BATCH}, {"lr", 1, 0, O_LR}, {"schedule", 1, 0, O_SCHED}, {"warmup", 1, 0, O_WARMUP},
        {"momentum", 1, 0, O_MOM}, {"wd", 1, 0, O_WD}, {"no-nesterov", 0, 0, O_NONEST}, {"crop-pad", 1, 0, O_CROP},
        {"no-flip", 0, 0, O_NOFLIP}, {"no-augment", 0, 0, O_NOAUG}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"train-limit", 1, 0, O_TRL}, {"test-limit", 1, 0, O_TEL},
        {"out", 1, 0, O_OUT}, {"json", 0, 0, O_JSON}, {"quiet", 0, 0, O_QUIET}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0},
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
        default:
            err_set(&err, "unknown or incomplete option '%s' (see dynn train --help)", argv[optind - 1]);
            bad = 1;
        }
    }
    if (!bad && optind < argc) bad = err_set(&err, "unexpected argument '%s' (see dynn train --help)", argv[optind]) != 0;
    if (!bad && !out_path) bad = err_set(&err, "--out FILE is required (where to write the checkpoint)") != 0;
    if (!bad && lr_schedule_parse(schedule, &cfg.sched.kind))
        bad = err_set(&err, "--schedule: unknown schedule '%s' (cosine, step, constant)", schedule) != 0;
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
    dataset_channel_stats(&train, d->norm_mean, d->norm_std);
    cfg.aug.crop_pad = crop_pad >= 0 ? crop_pad : (train.h >= 32 ? 4 : 2);
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
        printf("training %s (%.2f MMACs/image) on %s: %d train / %d test images, %d epochs, batch %d, %d threads\n",
               m.d->arch, model_subnet_macs(m.d, m.active) / 1e6, train.name, train.n, test.n, cfg.epochs, cfg.batch,
               threads);
    fflush(stdout);
    TrainStats stats;
    if (train_run(&m, &train, &test, &cfg, &stats, &err)) goto done;
    EvalResult ev;
    if (evaluate(&m, &test, &ev, &err)) goto done;
    double train_flops = 3.0 * 2.0 * model_subnet_macs(m.d, m.active) * stats.images;
    model_desc_set_meta(m.d, "train.wall_s", "%.3f", stats.wall_s);
    model_desc_set_meta(m.d, "train.flops", "%.6g", train_flops);
    model_desc_set_meta(m.d, "eval.test_acc", "%.6f", ev.accuracy);
    if (checkpoint_save(&m, out_path, &err)) goto done;
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
        json_object_end(&j);
        json_finish(&j);
    } else {
        char el[32];
        printf("saved %s: test accuracy %.2f%% (%d images), %d epochs in %s, %.0f img/s\n", out_path,
               100.0 * ev.accuracy, ev.n, cfg.epochs, cli_duration(stats.wall_s, el, 32), stats.images / stats.wall_s);
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
