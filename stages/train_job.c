/* stages/train_job.c — the training job behind `dynn train` and the `train` stage: its option table,
 * option parsing with range checks, and the run (data, model, method, evaluation, checkpoint; or,
 * with synthetic-weights, a synthetic model built and saved: nn/synthetic.h). */
#include "stages/train_job.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/args.h"
#include "nn/kernel_set.h"
#include "util/version.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/parallel.h"
#include "nn/snapshot.h"
#include "nn/subnet.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/strbuf.h"
#include "util/duration.h"

/* Each option: its name, kind, where it lands in a TrainJob, its range (numbers) or the value a flag
 * stores, and its --help (argument, text, default). The one list `dynn train` and the `train` stage
 * follow. */
#define AT(field) offsetof(TrainJob, field)
static const TrainOption OPTIONS[] = {
    {"model", TRAIN_OPT_STRING, AT(model), 0, 0, "NAME",
     "resnet20|resnet32|resnet44|resnet56|resnet110|resnet18|alexnet", "resnet20"},
    {"method", TRAIN_OPT_STRING, AT(method_name), 0, 0, "M",
     "plain (one network) | uniform | nonuniform-multi | nonuniform-single |\nincremental | individual", "plain"},
    {"widths", TRAIN_OPT_STRING, AT(widths), 0, 0, "LIST",
     "uniform/individual/synthetic-weights: width ratios in (0,1]", "0.25,0.5,0.75,1"},
    {"flops", TRAIN_OPT_STRING, AT(flops), 0, 0, "LIST",
     "nonuniform-*: MACs targets as fractions of the full network, must include 1\n(default: the MACs of the default uniform widths)",
     "0.0625,0.25,0.5625,1"},
    {"groups", TRAIN_OPT_INT, AT(dc.groups), 1, MODEL_MAX_SUBNETS, "G",
     "incremental: channel groups per layer", "4"},
    {"sandwich", TRAIN_OPT_INT, AT(dc.sandwich), 0, MODEL_MAX_SUBNETS, "K",
     "uniform/nonuniform: per iteration the largest, the smallest and K-2 random\nsubnets instead of all of them", "0: all"},
    {"distill", TRAIN_OPT_FLAG, AT(dc.distill), 1, 0, NULL,
     "smaller subnets learn from the largest's soft predictions (in-place distillation)", NULL},
    {"teacher", TRAIN_OPT_STRING, AT(teacher), 0, 0, "FILE|train",
     "incremental: each later group also learns a full-width teacher's soft\npredictions: a checkpoint (its largest subnet; the same model, input and classes), or\n`train`: one trained first with the same recipe (--epochs/--groups epochs)", NULL},
    {"self-distill", TRAIN_OPT_FLAG, AT(dc.self_distill), 1, 0, NULL,
     "incremental: each later group also learns the frozen subnet's soft\npredictions (no teacher, no extra pass)", NULL},
    {"distill-temp", TRAIN_OPT_FLOAT, AT(dc.distill_temp), 0.05, 100, "T",
     "incremental --teacher/--self-distill: temperature of the soft predictions", "4"},
    {"distill-weight", TRAIN_OPT_FLOAT, AT(dc.distill_weight), 0, 1, "A",
     "incremental --teacher/--self-distill: the loss is (1-A) x labels' + A x T^2 x\nsoft predictions' cross-entropy", "0.5"},
    {"joint", TRAIN_OPT_FLAG, AT(dc.joint), 1, 0, NULL,
     "incremental, ablation: every group-subnet trained jointly from the start on\nthe same connectivity (nothing frozen: groups cannot be added later),\n--epochs/--groups epochs", NULL},
    {"bg-epochs", TRAIN_OPT_INT, AT(dc.bg_epochs), 0, 100000, "N",
     "nonuniform-multi: epochs of the full-width background model", "--epochs"},
    {"group-lasso", TRAIN_OPT_FLOAT, AT(dc.group_lasso), 0, 10, "L",
     "nonuniform-multi: group-lasso strength on filters in the background model", "0"},
    {"slim-images", TRAIN_OPT_INT, AT(dc.slim_images), 2, 1 << 20, "N",
     "nonuniform-*: training images held out for greedy slimming", "256"},
    {"min-channels", TRAIN_OPT_FLOAT, AT(dc.min_channels), 0, 1, "F",
     "nonuniform-*: greedy slimming keeps at least F x every layer's channels\n(0: down to 1)",
     "0.125"},
    {"slim-coarse", TRAIN_OPT_INT, AT(dc.slim_coarse), 0, SLIM_FINE_DIV - 1, "D",
     "nonuniform-*: greedy slimming removes 1/D of a layer's channels per step while\nno such step reaches the MACs target, then 1/16 (0: 1/16 throughout, the\nsearch of dynn before 2026-12-08)",
     "8"},
    {"phase-epochs", TRAIN_OPT_STRING, AT(phase_epochs), 0, 0, "LIST",
     "nonuniform-single: epochs of the phases before the last (one per subnet but\none, e.g. 1,1,1: every subnet joins early); the last phase gets the rest\n(equal phases for 15 epochs: 4,4,4)", "1 each"},
    {"data", TRAIN_OPT_STRING, AT(data), 0, 0, "SPEC",
     "fashion-mnist[:DIR] | mnist:DIR | cifar10:DIR", "fashion-mnist"},
    {"width", TRAIN_OPT_FLOAT, AT(width), 0.01, 16, "W",
     "channel width multiplier", "1.0"},
    {"epochs", TRAIN_OPT_INT, AT(cfg.epochs), 1, 100000, "N",
     "epoch budget: per width for individual, split over the groups for\nincremental and over the phases for nonuniform-single", "15"},
    {"batch", TRAIN_OPT_INT, AT(cfg.batch), 2, 65536, "N",
     "mini-batch size", "128"},
    {"lr", TRAIN_OPT_FLOAT, AT(cfg.sched.base_lr), 0, 100, "LR",
     "base learning rate", "0.1"},
    {"schedule", TRAIN_OPT_STRING, AT(schedule), 0, 0, "S",
     "cosine|step|constant", "cosine"},
    {"warmup", TRAIN_OPT_FLOAT, AT(cfg.warmup_epochs), 0, 100000, "E",
     "warm-up epochs", "0"},
    {"momentum", TRAIN_OPT_FLOAT, AT(cfg.sgd.momentum), 0, 0.999999, "M",
     "SGD momentum", "0.9"},
    {"wd", TRAIN_OPT_FLOAT, AT(cfg.sgd.weight_decay), 0, 1, "WD",
     "weight decay", "5e-4"},
    {"no-nesterov", TRAIN_OPT_FLAG, AT(cfg.sgd.nesterov), 0, 0, NULL,
     "plain momentum instead of Nesterov's", NULL},
    {"crop-pad", TRAIN_OPT_INT, AT(crop_pad), 0, 64, "P",
     "random-crop padding in pixels", "2 for 28x28 data, 4 for 32x32"},
    {"no-flip", TRAIN_OPT_FLAG, AT(cfg.aug.flip), 0, 0, NULL,
     "no horizontal flips", NULL},
    {"no-augment", TRAIN_OPT_FLAG, AT(cfg.augment), 0, 0, NULL,
     "neither crop nor flip", NULL},
    {"seed", TRAIN_OPT_U64, AT(seed), 0, 0, "S",
     "random seed", "1"},
    {"threads", TRAIN_OPT_INT, AT(threads), 1, 1024, "T",
     "threads", "all available CPUs"},
    {"train-limit", TRAIN_OPT_INT, AT(train_limit), 1, 1 << 30, "N",
     "use the first N training images", NULL},
    {"test-limit", TRAIN_OPT_INT, AT(test_limit), 1, 1 << 30, "N",
     "use the first N test images", NULL},
    {"synthetic-weights", TRAIN_OPT_FLAG, AT(synthetic), 1, 0, NULL,
     "no training: random weights (from --seed) for --model with the subnets of\n--widths or --channels; no data set is read; the checkpoint is marked\nsynthetic: latency only (dynn profile), never an accuracy", NULL},
    {"input", TRAIN_OPT_STRING, AT(input), 0, 0, "SHAPE",
     "synthetic-weights: the input, SIDE, HxW or CxHxW (3 channels unless given)", "224"},
    {"classes", TRAIN_OPT_INT, AT(classes), 2, MODEL_MAX_CLASSES, "N",
     "synthetic-weights: outputs of the classifier", "1000"},
    {"channels", TRAIN_OPT_LIST, AT(channels), 0, 0, "LIST",
     "synthetic-weights: one subnet's channel count per slot, comma-separated\n(dynn info lists the slots); repeat for each subnet (or separate the\nsubnets with '/'); instead of --widths", NULL},
};
#undef AT
#define N_OPTIONS (sizeof OPTIONS / sizeof *OPTIONS)
_Static_assert(N_OPTIONS <= 64, "TrainJob.given has one bit per option");

const TrainOption *train_job_options(size_t *n) {
    *n = N_OPTIONS;
    return OPTIONS;
}

static int same_name(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a == '_' ? '-' : *a, y = *b == '_' ? '-' : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

const TrainOption *train_job_option_find(const char *name) {
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (same_name(OPTIONS[i].name, name)) return &OPTIONS[i];
    return NULL;
}

void train_job_defaults(TrainJob *job) {
    memset(job, 0, sizeof *job);
    job->model = "resnet20";
    job->data = "fashion-mnist";
    job->method_name = "plain";
    job->schedule = "cosine";
    job->width = 1.0f;
    job->crop_pad = -1;
    job->seed = 1;
    job->input = "224";
    job->classes = 1000;
    dynamic_config_defaults(&job->dc);
    train_config_defaults(&job->cfg);
    job->cfg.epochs = 15;
    job->cfg.eval_each_epoch = 1;
}

int train_job_set(TrainJob *job, const char *name, const char *value, const char *shown, Err *err) {
    const TrainOption *o = train_job_option_find(name);
    if (!o) return err_set(err, "%s: unknown training option", shown);
    void *field = (char *)job + o->offset;
    if (o->kind == TRAIN_OPT_FLAG) {
        if (value && !strcmp(value, "false")) return 0;
        if (value && strcmp(value, "true")) return err_set(err, "%s: '%s' is not true or false", shown, value);
        *(int *)field = (int)o->min; /* the value the flag stores */
        job->given |= 1ull << (o - OPTIONS);
        return 0;
    }
    if (!value) return err_set(err, "%s: needs a value", shown);
    int rc = 0;
    switch (o->kind) {
    case TRAIN_OPT_STRING: *(const char **)field = value; break;
    case TRAIN_OPT_INT: rc = arg_int(shown, value, (long)o->min, (long)o->max, (int *)field, err); break;
    case TRAIN_OPT_FLOAT: rc = arg_float(shown, value, o->min, o->max, (float *)field, err); break;
    case TRAIN_OPT_LIST: {
        char *text = field;
        size_t len = strlen(text), add = strlen(value);
        if (len + 1 + add >= TRAIN_LIST_MAX)
            return err_set(err, "%s: the values together are longer than %d characters", shown, TRAIN_LIST_MAX - 2);
        if (len) text[len++] = '/';
        memcpy(text + len, value, add + 1);
        break;
    }
    default: rc = arg_u64(shown, value, (unsigned long long *)field, err); break;
    }
    if (!rc) job->given |= 1ull << (o - OPTIONS);
    return rc;
}

static int given(const TrainJob *job, const char *name) {
    const TrainOption *o = train_job_option_find(name);
    return o && (job->given >> (o - OPTIONS) & 1);
}

/* The synthetic model a checked job describes. */
static void synthetic_spec(const TrainJob *job, const char *prefix, SyntheticSpec *s) {
    memset(s, 0, sizeof *s);
    s->arch = job->model;
    s->in_c = job->in_c, s->in_h = job->in_h, s->in_w = job->in_w;
    s->classes = job->classes;
    s->width = job->width;
    memcpy(s->widths, job->dc.ratios, sizeof s->widths);
    s->n_widths = job->dc.n_ratios;
    s->channels = job->channels[0] ? job->channels : NULL;
    s->seed = job->seed;
    s->prefix = prefix;
}

/* What a synthetic model is made of; everything else is training and refused. */
static const char *const SYNTHETIC_OPTIONS[] = {"synthetic-weights", "model", "widths", "channels", "input", "classes",
                                                "width", "seed", "threads"};

static int check_synthetic(TrainJob *job, const char *prefix, Err *err) {
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (!(job->given >> i & 1)) continue;
        size_t k = 0;
        while (k < sizeof SYNTHETIC_OPTIONS / sizeof *SYNTHETIC_OPTIONS && strcmp(SYNTHETIC_OPTIONS[k], OPTIONS[i].name)) k++;
        if (k == sizeof SYNTHETIC_OPTIONS / sizeof *SYNTHETIC_OPTIONS)
            return err_set(err, "%s%s does not apply to %ssynthetic-weights (random weights: no data set is read and nothing "
                           "is trained)", prefix, OPTIONS[i].name, prefix);
    }
    if (job->widths && job->channels[0])
        return err_set(err, "%swidths and %schannels are exclusive (uniform widths, or channel counts per slot)", prefix, prefix);
    char what[32];
    snprintf(what, sizeof what, "%swidths", prefix);
    if (parse_ratio_list(job->widths ? job->widths : "0.25,0.5,0.75,1", what, job->dc.ratios, &job->dc.n_ratios, err))
        return -1;
    snprintf(what, sizeof what, "%sinput", prefix);
    if (synthetic_parse_input(job->input, what, &job->in_c, &job->in_h, &job->in_w, err)) return -1;
    /* the description once, so that a bad model, input or channel count is refused before anything runs */
    ModelDesc *d = malloc(sizeof *d);
    if (!d) return err_set(err, "out of memory");
    SyntheticSpec s;
    synthetic_spec(job, prefix, &s);
    int rc = synthetic_desc(&s, d, err);
    free(d);
    return rc;
}

/* phase-epochs: a list of positive epoch counts, nonuniform-single only, one per phase but the last
 * and leaving the last at least one epoch of the budget. */
static int check_phase_epochs(TrainJob *job, const char *prefix, Err *err) {
    DynamicConfig *dc = &job->dc;
    dc->n_phase_epochs = 0;
    if (!job->phase_epochs) return 0;
    if (dc->method != METHOD_NONUNIFORM_SINGLE)
        return err_set(err, "%sphase-epochs applies to method nonuniform-single, not %s", prefix, job->method_name);
    const char *p = job->phase_epochs;
    do {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || v < 1 || v > 100000)
            return err_set(err, "%sphase-epochs: '%s' is not a comma-separated list of epoch counts (1..100000)",
                           prefix, job->phase_epochs);
        if (dc->n_phase_epochs >= MODEL_MAX_SUBNETS)
            return err_set(err, "%sphase-epochs: more than %d entries", prefix, MODEL_MAX_SUBNETS);
        dc->phase_epochs[dc->n_phase_epochs++] = (int)v;
        p = *end ? end + 1 : end;
    } while (*p);
    int phases[MODEL_MAX_SUBNETS];
    char what[32];
    snprintf(what, sizeof what, "%sphase-epochs", prefix);
    return single_path_phases(dc, dc->n_ratios, job->cfg.epochs, what, phases, err);
}

/* The incremental variants: options of that method only; distillation from one source; the joint
 * ablation trains without freezing, so nothing to distill into. */
static int check_incremental_variant(const TrainJob *job, const char *prefix, Err *err) {
    static const char *const own[] = {"teacher", "self-distill", "distill-temp", "distill-weight", "joint"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (given(job, own[i]) && job->dc.method != METHOD_INCREMENTAL)
            return err_set(err, "%s%s applies to method incremental, not %s", prefix, own[i], job->method_name);
    if (job->teacher && !job->teacher[0]) return err_set(err, "%steacher: empty (a checkpoint path, or train)", prefix);
    if (job->teacher && job->dc.self_distill)
        return err_set(err, "%steacher and %sself-distill are exclusive (one source of soft predictions)", prefix, prefix);
    if (job->dc.joint && (job->teacher || job->dc.self_distill))
        return err_set(err, "%sjoint trains every group at once, nothing frozen to distill into: drop %s%s", prefix,
                       prefix, job->teacher ? "teacher" : "self-distill");
    if ((given(job, "distill-temp") || given(job, "distill-weight")) && !job->teacher && !job->dc.self_distill)
        return err_set(err, "%s%s needs %steacher or %sself-distill", prefix,
                       given(job, "distill-temp") ? "distill-temp" : "distill-weight", prefix, prefix);
    return 0;
}

int train_job_fingerprint(const TrainJob *job, int threads, char out[65], Err *err) {
    StrBuf sb = {0};
    sb_printf(&sb, "build=%s\nthreads=%d\n", kernel_set_build_id(), threads);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const TrainOption *o = &OPTIONS[i];
        const void *field = (const char *)job + o->offset;
        if (!strcmp(o->name, "threads")) continue; /* the resolved count is above */
        sb_printf(&sb, "%s=", o->name);
        switch (o->kind) {
        case TRAIN_OPT_STRING: {
            const char *v = *(const char *const *)field;
            sb_printf(&sb, "%s%s\n", v ? "'" : "", v ? v : "(none)");
            break;
        }
        case TRAIN_OPT_INT:
        case TRAIN_OPT_FLAG: sb_printf(&sb, "%d\n", *(const int *)field); break;
        case TRAIN_OPT_FLOAT: sb_printf(&sb, "%.9g\n", *(const float *)field); break;
        case TRAIN_OPT_U64: sb_printf(&sb, "%llu\n", *(const unsigned long long *)field); break;
        case TRAIN_OPT_LIST: sb_printf(&sb, "%s\n", (const char *)field); break;
        }
    }
    int rc = 0;
    if (job->teacher && strcmp(job->teacher, "train")) { /* a checkpoint: its content, not its name */
        char hex[SHA256_HEX_LEN + 1];
        uint64_t size;
        if (!(rc = fs_sha256_file(job->teacher, hex, &size, err))) sb_printf(&sb, "teacher-content=%s\n", hex);
    }
    if (!rc && sb.oom) rc = err_set(err, "out of memory");
    if (!rc) sha256_hex_of(sb.data, sb.len, out);
    sb_free(&sb);
    return rc;
}

int train_job_check(TrainJob *job, const char *prefix, Err *err) {
    DynamicConfig *dc = &job->dc;
    char name[32];
    if (job->synthetic && job->snapshot)
        return err_set(err, "%ssnapshot does not apply to %ssynthetic-weights (nothing is trained)", prefix, prefix);
    if (job->synthetic) return check_synthetic(job, prefix, err);
    static const char *const synthetic_only[] = {"input", "classes", "channels"};
    for (size_t i = 0; i < sizeof synthetic_only / sizeof *synthetic_only; i++)
        if (given(job, synthetic_only[i]))
            return err_set(err, "%s%s applies to %ssynthetic-weights only (with a data set, the data gives the input and "
                           "classes, and training chooses the subnets)", prefix, synthetic_only[i], prefix);
    if (lr_schedule_parse(job->schedule, &job->cfg.sched.kind))
        return err_set(err, "%sschedule: unknown schedule '%s' (cosine, step, constant)", prefix, job->schedule);
    if (method_parse(job->method_name, &dc->method, err)) return -1;
    if (dc->slim_coarse == 1)
        return err_set(err, "%sslim-coarse 1 would remove whole layers in one step: give 2..%d, or 0 for fine steps only",
                       prefix, SLIM_FINE_DIV - 1);
    if (job->snapshot && !method_resumable(dc->method))
        return err_set(err, "%ssnapshot: method %s cannot go on from a snapshot (greedy slimming chooses the subnets "
                       "between its phases): train without one", prefix, job->method_name);
    if (check_incremental_variant(job, prefix, err)) return -1;
    if (job->widths && job->flops)
        return err_set(err, "%swidths and %sflops are exclusive (widths: uniform/individual, flops: nonuniform-*)", prefix, prefix);
    if (job->widths && dc->method != METHOD_UNIFORM && dc->method != METHOD_INDIVIDUAL)
        return err_set(err, "%swidths applies to method uniform or individual, not %s", prefix, job->method_name);
    if (job->flops && dc->method != METHOD_NONUNIFORM_MULTI && dc->method != METHOD_NONUNIFORM_SINGLE)
        return err_set(err, "%sflops applies to method nonuniform-multi or nonuniform-single, not %s", prefix, job->method_name);
    if (!job->flops && (dc->method == METHOD_NONUNIFORM_MULTI || dc->method == METHOD_NONUNIFORM_SINGLE)) {
        /* default targets: the MACs of the default uniform widths (0.25, 0.5, 0.75, 1 squared), so the
         * methods are compared at equal cost */
        for (int i = 0; i < dc->n_ratios; i++) dc->ratios[i] *= dc->ratios[i];
        return check_phase_epochs(job, prefix, err);
    }
    snprintf(name, sizeof name, "%s%s", prefix, job->widths ? "widths" : "flops");
    if ((job->widths || job->flops) &&
        parse_ratio_list(job->widths ? job->widths : job->flops, name, dc->ratios, &dc->n_ratios, err))
        return -1;
    return check_phase_epochs(job, prefix, err);
}

static void set_train_meta(ModelDesc *d, const TrainJob *job, int images, int threads) {
    model_desc_set_meta(d, "train.method", "%s", method_name(job->dc.method));
    model_desc_set_meta(d, "train.data", "%s", job->data);
    model_desc_set_meta(d, "train.images", "%d", images);
    model_desc_set_meta(d, "train.epochs", "%d", job->cfg.epochs);
    model_desc_set_meta(d, "train.batch", "%d", job->cfg.batch);
    model_desc_set_meta(d, "train.lr", "%g", job->cfg.sched.base_lr);
    model_desc_set_meta(d, "train.schedule", "%s", job->schedule);
    model_desc_set_meta(d, "train.seed", "%llu", job->seed);
    model_desc_set_meta(d, "train.threads", "%d", threads);
    model_desc_set_meta(d, "train.dynn", "%s", kernel_set_build_id());
    if (job->phase_epochs) model_desc_set_meta(d, "train.phase_epochs", "%s", job->phase_epochs);
    if (job->dc.method == METHOD_INCREMENTAL) model_desc_set_meta(d, "train.groups", "%d", job->dc.groups);
    if (job->dc.joint) model_desc_set_meta(d, "train.joint", "1");
    if (job->teacher || job->dc.self_distill) {
        model_desc_set_meta(d, "train.distill", "%s", job->teacher ? "teacher" : "self");
        model_desc_set_meta(d, "train.distill_temp", "%g", job->dc.distill_temp);
        model_desc_set_meta(d, "train.distill_weight", "%g", job->dc.distill_weight);
    }
}

/* The part of a data spec before ':' ("fashion-mnist:DIR" -> "fashion-mnist"): the data set. */
static int same_data_set(const char *a, const char *b) {
    size_t la = strcspn(a, ":"), lb = strcspn(b, ":");
    return la == lb && !strncmp(a, b, la);
}

/* The teacher of incremental distillation, ready in eval mode on its largest subnet: loaded from a
 * checkpoint (the same architecture, input and classes, trained on the same data set) or trained
 * now with the job's recipe for one width (--epochs/--groups epochs) at full width. Its training
 * cost goes into *flops. */
static int make_teacher(const TrainJob *job, const Model *student, const Dataset *train, const Dataset *test,
                        const TrainConfig *base, int threads, Model *t, double *flops, double *acc, Err *err) {
    const ModelDesc *sd = student->d;
    *flops = 0.0;
    if (strcmp(job->teacher, "train")) {
        const char *path = job->teacher;
        if (checkpoint_load(path, t, student->max_batch, threads, err)) return err_prefix(err, "teacher");
        const ModelDesc *td = t->d;
        const char *data = model_desc_get_meta(td, "train.data");
        const char *tacc = model_desc_get_meta(td, "eval.test_acc"), *tflops = model_desc_get_meta(td, "train.flops");
        if (td->synthetic) err_set(err, "teacher %s: a synthetic model (random weights): give a trained one", path);
        else if (strcmp(td->arch, sd->arch))
            err_set(err, "teacher %s: model %s, but this job trains %s: give a %s teacher", path, td->arch, sd->arch,
                    sd->arch);
        else if (td->classes != sd->classes || td->in_c != sd->in_c || td->in_h != sd->in_h || td->in_w != sd->in_w)
            err_set(err, "teacher %s: takes %dx%dx%d images into %d classes, the data here is %dx%dx%d with %d classes",
                    path, td->in_c, td->in_h, td->in_w, td->classes, sd->in_c, sd->in_h, sd->in_w, sd->classes);
        else if (data && !same_data_set(data, job->data))
            err_set(err, "teacher %s: trained on %s, this job trains on %s", path, data, job->data);
        else {
            model_set_subnet(t, model_largest_subnet(td));
            t->training = 0;
            *acc = tacc ? atof(tacc) : NAN;
            *flops = tflops ? atof(tflops) : NAN;
            return 0;
        }
        model_free(t);
        memset(t, 0, sizeof *t);
        return -1;
    }
    ModelDesc *d = calloc(1, sizeof *d);
    if (!d) return err_set(err, "out of memory");
    if (model_desc_build(d, sd->arch, sd->in_c, sd->in_h, sd->in_w, sd->classes, sd->width, err)) return free(d), -1;
    memcpy(d->norm_mean, sd->norm_mean, sizeof d->norm_mean);
    memcpy(d->norm_std, sd->norm_std, sizeof d->norm_std);
    if (model_create(t, d, student->max_batch, threads, err)) return -1;
    model_init_params(t, job->seed);
    TrainConfig cfg = *base;
    cfg.epochs = base->epochs / job->dc.groups > 0 ? base->epochs / job->dc.groups : 1;
    cfg.phase = "teacher";
    cfg.resume = NULL; /* the student's snapshot; a teacher trained here is trained again (the same bits) */
    TrainStats st;
    EvalResult ev;
    if (train_run(t, train, test, &cfg, &st, err) || evaluate(t, test, &ev, err)) {
        model_free(t);
        memset(t, 0, sizeof *t);
        return -1;
    }
    t->training = 0;
    *flops = t->train_flops;
    *acc = ev.accuracy;
    return 0;
}

/* synthetic-weights: the model built and saved, nothing trained or evaluated. */
static int run_synthetic(TrainJob *job, const char *out_path, TrainJobResult *res, Err *err) {
    double t0 = duration_now_s();
    res->synthetic = 1;
    res->threads = nn_set_threads(job->threads);
    if (!(res->desc = malloc(sizeof *res->desc))) return err_set(err, "out of memory");
    SyntheticSpec s;
    synthetic_spec(job, "--", &s);
    if (synthetic_save(&s, out_path, res->desc, err)) return -1;
    res->n_subnets = res->desc->n_subnets;
    res->largest = model_largest_subnet(res->desc);
    for (int i = 0; i < res->n_subnets; i++) res->eval[i] = (EvalResult){.accuracy = NAN, .loss = NAN};
    res->report.wall_s = duration_now_s() - t0;
    return 0;
}

int train_job_run(TrainJob *job, const char *out_path, TrainJobStart start, void *start_ctx, TrainJobResult *res,
                  Err *err) {
    memset(res, 0, sizeof *res);
    if (job->synthetic) return run_synthetic(job, out_path, res, err);
    TrainConfig cfg = job->cfg;
    cfg.seed = job->seed;
    int threads = nn_set_threads(job->threads);
    Dataset train = {0}, test = {0};
    ModelDesc *d = calloc(1, sizeof *d);
    Model m = {0}, teacher = {0};
    TrainResume resume;
    int rc = -1, resuming = 0;
    if (!d) {
        err_set(err, "out of memory");
        goto done;
    }
    if (dataset_load(job->data, &train, &test, err)) goto done;
    dataset_limit(&train, job->train_limit);
    dataset_limit(&test, job->test_limit);
    if (model_desc_build(d, job->model, train.c, train.h, train.w, train.num_classes, job->width, err)) goto done;
    if (method_prepare_desc(d, &job->dc, err)) goto done;
    dataset_channel_stats(&train, d->norm_mean, d->norm_std);
    cfg.aug.crop_pad = job->crop_pad >= 0 ? job->crop_pad : (train.h >= 32 ? 4 : 2);
    set_train_meta(d, job, train.n, threads);
    ModelDesc *owned = d;
    d = NULL;
    if (model_create(&m, owned, cfg.batch > 256 ? cfg.batch : 256, threads, err)) goto done;
    model_init_params(&m, job->seed);
    cfg.eval_batch = m.max_batch;
    if (start) start(job, &m, train.n, test.n, start_ctx);
    MethodReport *rep = &res->report;
    DynamicConfig dc = job->dc;
    double teacher_flops = 0.0, t0 = duration_now_s();
    res->teacher_acc = NAN;
    if (job->teacher) {
        if (make_teacher(job, &m, &train, &test, &cfg, threads, &teacher, &teacher_flops, &res->teacher_acc, err))
            goto done;
        dc.teacher = &teacher;
        model_desc_set_meta(m.d, "train.teacher", "%s", job->teacher);
        if (!isnan(res->teacher_acc)) model_desc_set_meta(m.d, "train.teacher_acc", "%.6f", res->teacher_acc);
        if (!isnan(teacher_flops)) model_desc_set_meta(m.d, "train.teacher_flops", "%.6g", teacher_flops);
    }
    model_desc_set_meta(m.d, "train.variant", "%s", method_variant_name(&dc, job->teacher != NULL));
    if (job->snapshot) {
        char fingerprint[SHA256_HEX_LEN + 1];
        if (train_job_fingerprint(job, threads, fingerprint, err) ||
            train_resume_open(&resume, job->snapshot, fingerprint, &m, err))
            goto done;
        resuming = 1;
        cfg.resume = &resume;
        res->resumed_epochs = resume.skip;
        if (resume.skip && !job->quiet)
            fprintf(stderr, "resuming from %s: %d epoch%s of training passes already done\n", job->snapshot, resume.skip,
                    resume.skip > 1 ? "s" : "");
    }
    if (method_train(&m, &train, &test, &cfg, &dc, rep, err)) goto done;
    if (job->teacher && !strcmp(job->teacher, "train")) { /* trained here: its cost and time are this job's */
        rep->train_flops += teacher_flops;
        rep->wall_s = duration_now_s() - t0 + (resuming ? resume.wall_before : 0.0);
    }
    model_desc_set_meta(m.d, "train.flops", "%.6g", rep->train_flops);
    model_desc_set_meta(m.d, "train.epochs_run", "%g", rep->epochs);
    res->n_subnets = m.d->n_subnets;
    for (int i = 0; i < m.d->n_subnets; i++) {
        model_set_subnet(&m, i);
        if (evaluate(&m, &test, &res->eval[i], err)) goto done;
        char key[48];
        snprintf(key, sizeof key, "eval.%s.acc", m.d->subnets[i].name);
        model_desc_set_meta(m.d, key, "%.6f", res->eval[i].accuracy);
        snprintf(key, sizeof key, "eval.%s.loss", m.d->subnets[i].name);
        model_desc_set_meta(m.d, key, "%.6f", res->eval[i].loss);
    }
    res->largest = model_largest_subnet(m.d);
    model_set_subnet(&m, res->largest);
    model_desc_set_meta(m.d, "eval.test_acc", "%.6f", res->eval[res->largest].accuracy);
    if (checkpoint_save(&m, out_path, err)) goto done;
    if (resuming && train_resume_finish(&resume, err)) goto done;
    res->train_images = train.n;
    res->test_images = test.n;
    res->threads = threads;
    res->images_trained = rep->epochs * (train.n / cfg.batch) * cfg.batch;
    res->desc = malloc(sizeof *res->desc);
    if (!res->desc) {
        err_set(err, "out of memory");
        goto done;
    }
    *res->desc = *m.d;
    rc = 0;
done:
    if (resuming) train_resume_close(&resume);
    free(d);
    if (m.d) model_free(&m);
    if (teacher.d) model_free(&teacher);
    dataset_free(&train);
    dataset_free(&test);
    return rc;
}

void train_job_result_free(TrainJobResult *res) {
    free(res->desc);
    res->desc = NULL;
}
