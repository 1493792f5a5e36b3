/* nn/snapshot.c — training snapshots: the file format and the resume bookkeeping (see snapshot.h). */
#include "nn/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "util/atomic_file.h"
#include "util/duration.h"
#include "util/fs.h"

#define SNAPSHOT_MAGIC "DYNNSNAP"
#define SNAPSHOT_VERSION 1u

/* ---- reading ------------------------------------------------------------------------------- */

typedef struct Reader {
    const uint8_t *p;
    size_t left;
} Reader;

static int take(Reader *r, void *out, size_t n) {
    if (r->left < n) return -1;
    if (out) memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

int snapshot_parse(const uint8_t *data, size_t len, const char *path, SnapshotView *v, Err *err) {
    memset(v, 0, sizeof *v);
    Reader r = {data, len};
    char magic[8];
    uint32_t version = 0, crc_stored;
    int32_t epochs;
    const char *damaged = "%s: not a complete dynn training snapshot (%s): remove it to train from the start";
    if (len < 4 || take(&r, magic, 8) || memcmp(magic, SNAPSHOT_MAGIC, 8))
        return err_set(err, damaged, path, "no DYNNSNAP header");
    memcpy(&crc_stored, data + len - 4, 4);
    if (crc32_z(crc32(0L, Z_NULL, 0), data, len - 4) != crc_stored)
        return err_set(err, damaged, path, "its checksum does not match: cut short or damaged");
    r.left -= 4; /* the CRC */
    if (take(&r, &version, 4) || version != SNAPSHOT_VERSION)
        return err_set(err, "%s: snapshot version %u, this dynn reads version %u: remove it to train from the start", path,
                       version, SNAPSHOT_VERSION);
    if (take(&r, v->fingerprint, SNAPSHOT_FINGERPRINT_LEN) || take(&r, &epochs, 4) || take(&r, &v->final_loss, 4) ||
        take(&r, &v->train_flops, 8) || take(&r, &v->wall_s, 8) || take(&r, &v->n_params, 4))
        return err_set(err, damaged, path, "its header is cut short");
    v->fingerprint[SNAPSHOT_FINGERPRINT_LEN] = '\0';
    if (epochs < 1) return err_set(err, damaged, path, "it covers no epoch");
    v->epochs_done = epochs;
    v->params = r.p;
    for (uint32_t i = 0; i < v->n_params; i++) {
        uint64_t numel = 0;
        uint8_t has_velocity = 0;
        if (take(&r, &numel, 8) || take(&r, &has_velocity, 1) || has_velocity > 1 ||
            numel > r.left / sizeof(float) / (has_velocity ? 2 : 1) ||
            take(&r, NULL, (size_t)numel * sizeof(float) * (has_velocity ? 2 : 1)))
            return err_set(err, damaged, path, "a parameter record is cut short");
    }
    v->params_len = (size_t)(r.p - v->params);
    if (take(&r, &v->step_state_bytes, 8) || v->step_state_bytes != r.left)
        return err_set(err, damaged, path, "its step state does not fill the rest");
    v->step_state = r.p;
    return 0;
}

/* ---- resuming ------------------------------------------------------------------------------ */

int train_resume_open(TrainResume *r, const char *path, const char *fingerprint, const Model *m, Err *err) {
    memset(r, 0, sizeof *r);
    r->t0 = duration_now_s();
    if (strlen(path) >= sizeof r->path) return err_set(err, "snapshot path too long: %s", path);
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->fingerprint, sizeof r->fingerprint, "%s", fingerprint);
    if (!fs_exists(path)) return 0;
    char *data;
    if (fs_read_file(path, &data, &r->file_len, err)) return -1;
    r->file = (uint8_t *)data;
    SnapshotView *v = &r->view;
    const ModelDesc *d = m->d;
    int rc = snapshot_parse(r->file, r->file_len, path, v, err);
    if (!rc && strcmp(v->fingerprint, fingerprint))
        rc = err_set(err, "%s: a snapshot of another training job (other options, seed, threads or build): remove it, "
                     "or give this job its own snapshot path", path);
    if (!rc && v->n_params != (uint32_t)d->n_params)
        rc = err_set(err, "%s: a snapshot of %u parameters, the model has %d: remove it", path, v->n_params, d->n_params);
    Reader rd = {v->params, v->params_len};
    for (int p = 0; !rc && p < d->n_params; p++) {
        uint64_t numel = 0;
        uint8_t has_velocity = 0;
        take(&rd, &numel, 8);
        take(&rd, &has_velocity, 1);
        if (numel != d->params[p].numel || has_velocity != (d->params[p].trainable ? 1 : 0))
            rc = err_set(err, "%s: parameter %d (%s) does not match the model: remove the snapshot", path, p,
                         d->params[p].name);
        take(&rd, NULL, (size_t)numel * sizeof(float) * (has_velocity ? 2 : 1));
    }
    if (rc) {
        train_resume_close(r);
        return -1;
    }
    r->skip = v->epochs_done;
    r->wall_before = v->wall_s;
    return 0;
}

int train_resume_restore(TrainResume *r, Model *m, Sgd *opt, void *step_state, size_t step_state_bytes,
                         float *final_loss, Err *err) {
    const SnapshotView *v = &r->view;
    if (!r->file) return err_set(err, "%s: no snapshot to restore", r->path);
    if (v->step_state_bytes != step_state_bytes)
        return err_set(err, "%s: %llu bytes of step state, the method keeps %zu: remove the snapshot", r->path,
                       (unsigned long long)v->step_state_bytes, step_state_bytes);
    Reader rd = {v->params, v->params_len};
    for (int p = 0; p < m->d->n_params; p++) {
        uint64_t numel = 0;
        uint8_t has_velocity = 0;
        take(&rd, &numel, 8);
        take(&rd, &has_velocity, 1);
        take(&rd, m->param[p], (size_t)numel * sizeof(float));
        if (has_velocity) take(&rd, opt->velocity[p], (size_t)numel * sizeof(float));
    }
    if (step_state_bytes) memcpy(step_state, v->step_state, step_state_bytes);
    m->train_flops = v->train_flops;
    *final_loss = v->final_loss;
    free(r->file);
    r->file = NULL;
    r->file_len = 0;
    return 0;
}

double train_resume_wall(const TrainResume *r) { return r->wall_before + (duration_now_s() - r->t0); }

/* ---- writing ------------------------------------------------------------------------------- */

typedef struct Writer {
    FILE *fp;
    uLong crc;
    int failed;
} Writer;

static void put(Writer *w, const void *data, size_t n) {
    if (w->failed || !n) return;
    w->crc = crc32_z(w->crc, data, n);
    if (fwrite(data, 1, n, w->fp) != n) w->failed = 1;
}

int train_resume_save(TrainResume *r, const Model *m, const Sgd *opt, const void *step_state, size_t step_state_bytes,
                      float final_loss, Err *err) {
    AtomicFile af;
    if (atomic_open(&af, r->path, err)) return err_prefix(err, "training snapshot");
    Writer w = {af.fp, crc32(0L, Z_NULL, 0), 0};
    const ModelDesc *d = m->d;
    const uint32_t version = SNAPSHOT_VERSION, n_params = (uint32_t)d->n_params;
    const int32_t epochs = r->done;
    const double flops = m->train_flops, wall = train_resume_wall(r);
    const uint64_t state_bytes = step_state_bytes;
    put(&w, SNAPSHOT_MAGIC, 8);
    put(&w, &version, 4);
    put(&w, r->fingerprint, SNAPSHOT_FINGERPRINT_LEN);
    put(&w, &epochs, 4);
    put(&w, &final_loss, 4);
    put(&w, &flops, 8);
    put(&w, &wall, 8);
    put(&w, &n_params, 4);
    for (int p = 0; p < d->n_params; p++) {
        const uint64_t numel = d->params[p].numel;
        const uint8_t has_velocity = d->params[p].trainable ? 1 : 0;
        put(&w, &numel, 8);
        put(&w, &has_velocity, 1);
        put(&w, m->param[p], (size_t)numel * sizeof(float));
        if (has_velocity) put(&w, opt->velocity[p], (size_t)numel * sizeof(float));
    }
    put(&w, &state_bytes, 8);
    put(&w, step_state, step_state_bytes);
    const uint32_t crc = (uint32_t)w.crc;
    if (!w.failed && fwrite(&crc, 1, 4, w.fp) != 4) w.failed = 1;
    if (w.failed) {
        int e = errno;
        atomic_abort(&af);
        return err_set(err, "%s: cannot write the training snapshot: %s", r->path, strerror(e));
    }
    return atomic_commit(&af, err) ? err_prefix(err, "training snapshot") : 0;
}

int train_resume_finish(TrainResume *r, Err *err) {
    if (unlink(r->path) && errno != ENOENT)
        return err_set(err, "%s: cannot remove the finished job's snapshot: %s", r->path, strerror(errno));
    return 0;
}

void train_resume_close(TrainResume *r) {
    free(r->file);
    r->file = NULL;
    r->file_len = 0;
}
