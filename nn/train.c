/* nn/train.c — the training loop and evaluation (see train.h). */
#include "nn/train.h"

#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "nn/rng.h"
#include "nn/snapshot.h"
#include "util/duration.h"

#define STREAM_SHUFFLE 0x5348554646ULL /* "SHUFF" */

void train_config_defaults(TrainConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 1;
    cfg->batch = 128;
    cfg->sched.kind = LR_COSINE;
    cfg->sched.base_lr = 0.1f;
    cfg->sched.step_gamma = 0.1f;
    cfg->sched.milestones[0] = 0.5f;
    cfg->sched.milestones[1] = 0.75f;
    cfg->sched.n_milestones = 2;
    cfg->sgd.momentum = 0.9f;
    cfg->sgd.weight_decay = 5e-4f;
    cfg->sgd.nesterov = 1;
    cfg->sgd.decay_bn = 1;
    cfg->aug.crop_pad = 2;
    cfg->aug.flip = 1;
    cfg->augment = 1;
    cfg->seed = 1;
    cfg->eval_batch = 256;
}

float train_step_xent(Model *m, const float *x, const int *labels, int n, int *correct, void *ctx) {
    (void)ctx;
    model_forward(m, x, n);
    float loss = model_loss(m, labels, correct);
    model_backward(m);
    return loss;
}

typedef struct Batch {
    float *x;
    int *labels;
    int *order;
} Batch;

static int batch_alloc(Batch *b, const Dataset *ds, int batch, Err *err) {
    size_t per = (size_t)ds->c * ds->h * ds->w;
    b->x = aligned_calloc((size_t)batch * per * sizeof(float));
    b->labels = malloc(sizeof(int) * (size_t)batch);
    b->order = malloc(sizeof(int) * (size_t)(ds->n > 0 ? ds->n : 1));
    if (!b->x || !b->labels || !b->order) return err_set(err, "out of memory for a batch of %d", batch);
    return 0;
}

static void batch_free(Batch *b) {
    free(b->x);
    free(b->labels);
    free(b->order);
}

/* Whether the dataset's images and classes fit the model. */
static int check_eval_data(const ModelDesc *d, const Dataset *ds, Err *err) {
    if (ds->c != d->in_c || ds->h != d->in_h || ds->w != d->in_w)
        return err_set(err, "%s: images are %dx%dx%d but the model takes %dx%dx%d", ds->name, ds->c, ds->h, ds->w,
                       d->in_c, d->in_h, d->in_w);
    if (ds->num_classes > d->classes)
        return err_set(err, "%s: %d classes but the model has %d outputs", ds->name, ds->num_classes, d->classes);
    return 0;
}

/* Logits of n images of the batch x through whatever runs the model; NULL on error. */
typedef const float *(*EvalForward)(void *ctx, const float *x, int n, Err *err);

/* Accuracy and mean loss over ds in batches of bs through forward: one loop for the training Model
 * and for an inference backend. */
static int eval_loop(const ModelDesc *d, const Dataset *ds, int bs, EvalForward forward, void *ctx, EvalResult *res,
                     Err *err) {
    if (check_eval_data(d, ds, err)) return -1;
    Batch b = {0};
    float *dlogits = malloc(sizeof(float) * (size_t)bs * (size_t)d->classes); /* the loss's scratch */
    int rc = !dlogits ? err_set(err, "out of memory") : batch_alloc(&b, ds, bs, err);
    long hits = 0;
    double loss_sum = 0.0;
    for (int i = 0; !rc && i < ds->n; i++) b.order[i] = i;
    for (int start = 0; !rc && start < ds->n; start += bs) {
        int n = ds->n - start < bs ? ds->n - start : bs, correct = 0;
        batch_assemble(b.x, b.labels, ds, b.order + start, n, NULL, d->norm_mean, d->norm_std, 0, 0, 0);
        const float *logits = forward(ctx, b.x, n, err);
        if (!logits) {
            rc = -1;
            break;
        }
        float loss = softmax_xent_forward_backward(dlogits, logits, b.labels, n, d->classes, &correct);
        hits += correct;
        loss_sum += (double)loss * n;
    }
    if (!rc) {
        res->n = ds->n;
        res->accuracy = ds->n ? (double)hits / ds->n : 0.0;
        res->loss = ds->n ? loss_sum / ds->n : 0.0;
    }
    batch_free(&b);
    free(dlogits);
    return rc ? -1 : 0;
}

typedef struct BackendEval {
    Backend *b;
    float *logits;
} BackendEval;

static const float *backend_eval_forward(void *ctx, const float *x, int n, Err *err) {
    BackendEval *e = ctx;
    return backend_forward(e->b, x, n, e->logits, err) ? NULL : e->logits;
}

static const float *model_eval_forward(void *ctx, const float *x, int n, Err *err) {
    (void)err;
    return model_forward(ctx, x, n);
}

int evaluate_backend(Backend *be, const ModelDesc *d, const Dataset *ds, EvalResult *res, Err *err) {
    int bs = backend_max_batch(be);
    BackendEval e = {be, malloc(sizeof(float) * (size_t)bs * (size_t)d->classes)};
    int rc = e.logits ? eval_loop(d, ds, bs, backend_eval_forward, &e, res, err) : err_set(err, "out of memory");
    free(e.logits);
    return rc;
}

int evaluate(Model *m, const Dataset *ds, EvalResult *res, Err *err) {
    int saved_training = m->training;
    m->training = 0;
    int rc = eval_loop(m->d, ds, m->max_batch, model_eval_forward, m, res, err);
    m->training = saved_training;
    return rc;
}

int train_run(Model *m, const Dataset *train, const Dataset *test, const TrainConfig *cfg, TrainStats *stats,
              Err *err) {
    const ModelDesc *d = m->d;
    memset(stats, 0, sizeof *stats);
    stats->test_acc = -1.0f;
    if (train->c != d->in_c || train->h != d->in_h || train->w != d->in_w)
        return err_set(err, "%s: images are %dx%dx%d but the model takes %dx%dx%d", train->name, train->c, train->h,
                       train->w, d->in_c, d->in_h, d->in_w);
    if (cfg->batch < 2 || cfg->batch > m->max_batch)
        return err_set(err, "--batch %d: must be between 2 and %d", cfg->batch, m->max_batch);
    const int batches = train->n / cfg->batch;
    if (batches < 1)
        return err_set(err, "%s: %d training images are fewer than one batch of %d", train->name, train->n, cfg->batch);
    Batch b;
    Sgd opt;
    if (batch_alloc(&b, train, cfg->batch, err)) {
        batch_free(&b);
        return -1;
    }
    Sgd *sgd = cfg->opt;
    if (!sgd) {
        if (sgd_create(&opt, m, &cfg->sgd, err)) {
            batch_free(&b);
            return -1;
        }
        sgd = &opt;
    }
    LrSchedule sched = cfg->sched;
    sched.total_iters = (cfg->schedule_epochs > 0 ? cfg->schedule_epochs : cfg->epochs) * batches;
    sched.warmup_iters = (int)(cfg->warmup_epochs * batches);
    TrainStepFn step = cfg->step ? cfg->step : train_step_xent;
    const double t0 = duration_now_s();
    int iter = cfg->epoch_offset * batches, first_iter = iter, timed_from = iter; /* timed_from: first trained here */
    TrainResume *resume = cfg->resume;
    int rc = 0;
    for (int e = 0; e < cfg->epochs && !rc; e++) {
        const int epoch = cfg->epoch_offset + e; /* global epoch: streams and schedule */
        if (resume && resume->done < resume->skip) { /* an earlier process trained it: the snapshot has it */
            iter += batches;
            timed_from = iter;
            stats->images += (double)batches * cfg->batch;
            if (++resume->done == resume->skip)
                rc = train_resume_restore(resume, m, sgd, cfg->step_state, cfg->step_state_bytes, &stats->final_loss, err);
            continue;
        }
        Rng shuffle;
        rng_derive(&shuffle, cfg->seed, (uint64_t)epoch, STREAM_SHUFFLE);
        for (int i = 0; i < train->n; i++) b.order[i] = i;
        rng_shuffle(&shuffle, b.order, train->n);
        double epoch_t0 = duration_now_s(), loss_sum = 0.0;
        long hits = 0, seen = 0;
        for (int bi = 0; bi < batches; bi++, iter++) {
            batch_assemble(b.x, b.labels, train, b.order + (size_t)bi * cfg->batch, cfg->batch,
                           cfg->augment ? &cfg->aug : NULL, d->norm_mean, d->norm_std, cfg->seed, (uint64_t)epoch,
                           (uint64_t)bi * cfg->batch);
            m->training = 1;
            model_zero_grad(m);
            int correct = 0;
            float loss = step(m, b.x, b.labels, cfg->batch, &correct, cfg->step_ctx);
            /* the schedule spans schedule_epochs from epoch 0, or just this call */
            float lr = lr_at(&sched, cfg->schedule_epochs > 0 ? iter : iter - first_iter);
            sgd_step(sgd, m, lr, cfg->grad_mask);
            loss_sum += loss;
            hits += correct;
            seen += cfg->batch;
            stats->final_loss = loss;
            int epoch_done = bi + 1 == batches;
            float test_acc = -1.0f;
            if (epoch_done && cfg->eval_each_epoch && test) {
                EvalResult r;
                if ((rc = evaluate(m, test, &r, err))) break;
                test_acc = stats->test_acc = (float)r.accuracy;
            }
            if (cfg->progress) {
                double now = duration_now_s();
                TrainProgress p = {
                    .phase = cfg->phase, .epoch = e + 1, .epochs = cfg->epochs, .batch = bi + 1, .batches = batches,
                    .loss = (float)(loss_sum / (bi + 1)), .train_acc = (float)hits / (float)seen, .lr = lr,
                    .img_per_s = seen / (now - epoch_t0 + 1e-9), .elapsed_s = now - t0,
                    .eta_s = (now - t0) / (iter - timed_from + 1) * (first_iter + cfg->epochs * batches - iter - 1),
                    .epoch_done = epoch_done, .test_acc = test_acc,
                };
                cfg->progress(&p, cfg->progress_ctx);
            }
        }
        if (rc) break;
        stats->images += (double)batches * cfg->batch;
        if (resume) {
            resume->done++;
            rc = train_resume_save(resume, m, sgd, cfg->step_state, cfg->step_state_bytes, stats->final_loss, err);
        }
    }
    m->training = 0;
    stats->wall_s = duration_now_s() - t0;
    if (!cfg->opt) sgd_free(&opt);
    batch_free(&b);
    return rc ? -1 : 0;
}
