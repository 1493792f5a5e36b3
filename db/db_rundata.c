/* db/db_rundata.c — reads a run's models, measurements and provenance into a RunData (see
 * db/rundata.h) for the aggregate, report and check code. */
#include "db/db_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

/* The stages whose records count: FINISHED or CACHED instances of run ?1, all of them when ?2 is
 * NULL, else those the instance named ?2 needs, directly or not. Records live in the row
 * COALESCE(cached_from, id). */
#define SELECTED_STAGES                                                                                          \
    "WITH RECURSIVE up(id) AS (SELECT n.needs_stage_id FROM stage_needs n JOIN stages s ON s.id = n.stage_id "   \
    "WHERE s.run_id = ?1 AND s.name = ?2 UNION SELECT n.needs_stage_id FROM stage_needs n JOIN up ON n.stage_id = up.id), " \
    "sel AS (SELECT s.id, COALESCE(s.cached_from, s.id) AS rec, s.name FROM stages s WHERE s.run_id = ?1 "        \
    "AND s.status IN ('FINISHED', 'CACHED') AND (?2 IS NULL OR s.id IN (SELECT id FROM up))) "

typedef struct Loader {
    Db *db;
    int64_t run_id;
    const char *only;
    RunData *d;
    Err *err;
} Loader;

static int prepare(Loader *l, const char *sql, sqlite3_stmt **st) {
    if (sqlite3_prepare_v2(l->db->h, sql, -1, st, NULL) != SQLITE_OK) return db_fail(l->db, "preparing a results query", l->err);
    sqlite3_bind_int64(*st, 1, l->run_id);
    db_bind_text(*st, 2, l->only);
    return 0;
}

static char *text_dup(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return strdup(s ? (const char *)s : "");
}

static double real_or_nan(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int load_provenance(Loader *l) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(l->db->h,
                           "SELECT r.uuid, e.name, r.status, r.spec_path, r.spec_sha256, r.git_commit, r.build_id, "
                           "r.dynn_version, r.host, r.cpu_model, r.compiler, r.cflags, r.git_dirty, r.started_at, r.ended_at, "
                           "r.seed FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(l->db, "reading the run", l->err);
    sqlite3_bind_int64(st, 1, l->run_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? err_set(l->err, "%s: no run with id %lld", l->db->path, (long long)l->run_id)
                                 : db_fail(l->db, "reading the run", l->err);
    }
    RunData *d = l->d;
    char **strings[] = {&d->uuid, &d->experiment, &d->status, &d->spec_path, &d->spec_sha256, &d->git_commit,
                        &d->build_id, &d->dynn_version, &d->host, &d->cpu_model, &d->compiler, &d->cflags};
    int oom = 0;
    for (int i = 0; i < 12; i++) oom |= !(*strings[i] = text_dup(st, i));
    d->git_dirty = sqlite3_column_int(st, 12);
    d->started_at = real_or_nan(st, 13);
    d->ended_at = real_or_nan(st, 14);
    d->seed = sqlite3_column_int64(st, 15);
    sqlite3_finalize(st);
    return oom ? err_set(l->err, "out of memory") : 0;
}

/* One metric (last step) of a model: per-subnet values fill its subnet, stage-level ones the model. */
static int put_metric(RdModel *m, size_t *cap, const char *subnet, const char *name, double v) {
    if (!subnet) {
        if (!strcmp(name, "synthetic")) m->synthetic = v == 1.0;
        else if (!strcmp(name, "train_seconds")) m->train_seconds = v;
        else if (!strcmp(name, "slim_seconds")) m->slim_seconds = v;
        else if (!strcmp(name, "train_flops")) m->train_flops = v;
        else if (!strcmp(name, "model_bytes")) m->model_bytes = v;
        else if (!strcmp(name, "separate_models_bytes")) m->separate_models_bytes = v;
        else if (!strcmp(name, "epochs")) m->epochs = v;
        else if (!strcmp(name, "train_images")) m->train_images = v;
        else if (!strcmp(name, "test_images")) m->test_images = v;
        return 0;
    }
    RdSubnet *s = (RdSubnet *)rundata_subnet(m, subnet);
    if (!s) {
        if (!(s = grow_one(&m->subnets, &m->n_subnets, cap, sizeof *s)) || !(s->name = strdup(subnet))) return -1;
        s->index = -1;
        s->accuracy = s->loss = s->macs = s->params = s->bytes_touched = s->width = NAN;
    }
    static const struct {
        const char *name;
        size_t offset;
    } fields[] = {{"accuracy", offsetof(RdSubnet, accuracy)}, {"loss", offsetof(RdSubnet, loss)},
                  {"macs", offsetof(RdSubnet, macs)},         {"params", offsetof(RdSubnet, params)},
                  {"bytes_touched", offsetof(RdSubnet, bytes_touched)}, {"width", offsetof(RdSubnet, width)}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!strcmp(name, fields[i].name)) *(double *)((char *)s + fields[i].offset) = v;
    if (!strcmp(name, "subnet_index") && !isnan(v)) s->index = (int)v;
    return 0;
}

static int by_index(const void *a, const void *b) {
    const RdSubnet *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    if (x->macs != y->macs) return x->macs < y->macs ? -1 : 1;
    return 0;
}

/* The method param, and for incremental its variant named as nn/methods.h's method_variant_name
 * does ("incremental+joint", "+teacher", "+self-distill") from the params joint, teacher and
 * self_distill (columns 5-7 of load_models' query), so the report's tables tell the variants apart. */
static char *incremental_variant(sqlite3_stmt *st) {
    const char *method = (const char *)sqlite3_column_text(st, 3);
    if (!method || strcmp(method, "incremental")) return text_dup(st, 3);
    const char *joint = (const char *)sqlite3_column_text(st, 5), *self = (const char *)sqlite3_column_text(st, 7);
    const char *suffix = joint && !strcmp(joint, "true")  ? "+joint"
                         : sqlite3_column_type(st, 6) != SQLITE_NULL ? "+teacher"
                         : self && !strcmp(self, "true") ? "+self-distill"
                                                         : "";
    char *v = malloc(strlen(method) + strlen(suffix) + 1);
    if (v) strcat(strcpy(v, method), suffix);
    return v;
}

static int load_models(Loader *l) {
    sqlite3_stmt *st, *mt = NULL;
    if (prepare(l, SELECTED_STAGES "SELECT sel.id, sel.rec, sel.name, (SELECT value FROM params p WHERE p.stage_id = sel.id "
                                   "AND p.name = 'method'), (SELECT value FROM params p WHERE p.stage_id = sel.id "
                                   "AND p.name = 'model'), (SELECT value FROM params p WHERE p.stage_id = sel.id AND p.name = "
                                   "'joint'), (SELECT value FROM params p WHERE p.stage_id = sel.id AND p.name = 'teacher'), "
                                   "(SELECT value FROM params p WHERE p.stage_id = sel.id AND p.name IN ('self_distill', "
                                   "'self-distill')) FROM sel WHERE EXISTS (SELECT 1 FROM metrics m WHERE "
                                   "m.stage_id = sel.rec AND ((m.name = 'accuracy' AND m.subnet IS NOT NULL) OR (m.name = "
                                   "'synthetic' AND m.subnet IS NULL AND m.value = 1))) ORDER BY sel.id",
                &st))
        return -1;
    if (sqlite3_prepare_v2(l->db->h,
                           "SELECT subnet, name, value, max(step) FROM metrics WHERE stage_id = ?1 GROUP BY subnet, name "
                           "ORDER BY min(id)",
                           -1, &mt, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return db_fail(l->db, "preparing a metrics query", l->err);
    }
    RunData *d = l->d;
    size_t cap = 0;
    int rc, failed = 0;
    while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        RdModel *m = grow_one(&d->models, &d->n_models, &cap, sizeof *m);
        if (!m) break;
        m->stage_row = sqlite3_column_int64(st, 0);
        m->stage = text_dup(st, 2);
        m->method = sqlite3_column_type(st, 3) == SQLITE_NULL ? text_dup(st, 2) : incremental_variant(st);
        m->train_seconds = m->train_flops = m->model_bytes = m->separate_models_bytes = m->slim_seconds = NAN;
        m->epochs = m->train_images = m->test_images = NAN;
        m->arch = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : text_dup(st, 4);
        if (!m->stage || !m->method || (sqlite3_column_type(st, 4) != SQLITE_NULL && !m->arch)) break;
        sqlite3_reset(mt);
        sqlite3_bind_int64(mt, 1, sqlite3_column_int64(st, 1));
        size_t scap = 0;
        int mrc;
        while ((mrc = sqlite3_step(mt)) == SQLITE_ROW) {
            const char *subnet = (const char *)sqlite3_column_text(mt, 0), *name = (const char *)sqlite3_column_text(mt, 1);
            if (put_metric(m, &scap, subnet, name ? name : "", real_or_nan(mt, 2))) break;
        }
        if (mrc != SQLITE_DONE) failed = mrc == SQLITE_ROW ? err_set(l->err, "out of memory") : db_fail(l->db, "reading metrics", l->err);
        for (size_t k = 0; k < m->n_subnets; k++)
            if (m->subnets[k].index < 0) m->subnets[k].index = (int)k;
        if (m->synthetic) { /* whatever a stage recorded, random weights have no accuracy */
            for (size_t k = 0; k < m->n_subnets; k++) m->subnets[k].accuracy = m->subnets[k].loss = NAN;
            char *method = strdup("synthetic");
            if (!method) break;
            free(m->method);
            m->method = method;
        }
        qsort(m->subnets, m->n_subnets, sizeof *m->subnets, by_index);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(mt);
    if (failed) return -1;
    if (rc != SQLITE_DONE) return rc == SQLITE_ROW ? err_set(l->err, "out of memory") : db_fail(l->db, "reading models", l->err);
    return 0;
}

/* The model a profile instance measured: the one model among what it needs (directly or not), or
 * among several the one its param `model` names. -1 when unknown. */
static long measured_model(Loader *l, int64_t profile_row, const char *model_param) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(l->db->h,
                           "WITH RECURSIVE up(id) AS (SELECT needs_stage_id FROM stage_needs WHERE stage_id = ?1 "
                           "UNION SELECT n.needs_stage_id FROM stage_needs n JOIN up ON n.stage_id = up.id) SELECT id FROM up",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, profile_row);
    long found = -1, n_found = 0, named = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        for (size_t i = 0; i < l->d->n_models; i++) {
            if (l->d->models[i].stage_row != id) continue;
            found = (long)i, n_found++;
            if (model_param && !strcmp(model_param, l->d->models[i].stage)) named = (long)i;
        }
    }
    sqlite3_finalize(st);
    return n_found == 1 ? found : named;
}

static int load_samples(Loader *l, sqlite3_stmt *st, int64_t measurement_id, RdMeasurement *m) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, measurement_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->n_samples == cap) {
            cap = cap ? cap * 2 : 64;
            double *p = realloc(m->latency_s, cap * sizeof *p);
            if (!p) return err_set(l->err, "out of memory");
            m->latency_s = p;
        }
        m->latency_s[m->n_samples++] = sqlite3_column_double(st, 0);
    }
    return rc == SQLITE_DONE ? 0 : db_fail(l->db, "reading latency samples", l->err);
}

/* The measurement's conditions (every key of the registry that is set), and the fields the reports
 * read from them. */
static int load_conditions(Loader *l, sqlite3_stmt *st, int64_t measurement_id, RdMeasurement *m) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, measurement_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = cond_find((const char *)sqlite3_column_text(st, 0));
        const char *value = (const char *)sqlite3_column_text(st, 1);
        if (k < 0 || !value) continue; /* a key this dynn does not know: kept in the database, not shown */
        Err why;
        if (cond_set(&m->cond, k, value, &why))
            return err_set(l->err, "%s: measurement %lld: condition %s", l->db->path, (long long)measurement_id, why.msg);
    }
    if (rc != SQLITE_DONE) return db_fail(l->db, "reading conditions", l->err);
    const char *platform = cond_get(&m->cond, COND_PLATFORM), *cpus = cond_get(&m->cond, COND_CPUS);
    if (!(m->platform = strdup(platform ? platform : "")) || !(m->cpus = strdup(cpus ? cpus : "")))
        return err_set(l->err, "out of memory");
    m->batch = (int)cond_get_int(&m->cond, COND_BATCH, 0);
    m->threads = (int)cond_get_int(&m->cond, COND_THREADS, 0);
    m->frequency_khz = cond_get_int(&m->cond, COND_CPU_FREQ, 0);
    return 0;
}

static int load_measurements(Loader *l) {
    sqlite3_stmt *st, *ss = NULL, *cs = NULL;
    if (prepare(l, SELECTED_STAGES "SELECT sel.id, sel.name, m.id, m.subnet, m.energy_j, (SELECT value FROM params p "
                                   "WHERE p.stage_id = sel.id AND p.name = 'model'), m.subnet_index, m.instructions, m.cpu_share, m.wait_share, "
                                   "m.others_share, m.interference_flagged, m.attempts FROM sel JOIN "
                                   "measurement_results m ON m.stage_id = sel.rec ORDER BY sel.id, m.id",
                &st))
        return -1;
    if (sqlite3_prepare_v2(l->db->h, "SELECT latency_s FROM latency_samples WHERE measurement_id = ?1 ORDER BY idx", -1, &ss,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(l->db->h, "SELECT key, value FROM conditions WHERE measurement_id = ?1", -1, &cs, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        sqlite3_finalize(ss);
        return db_fail(l->db, "preparing a samples query", l->err);
    }
    RunData *d = l->d;
    size_t cap = 0;
    int64_t last_row = -1;
    long model = -1;
    int rc, failed = 0;
    while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        RdMeasurement *m = grow_one(&d->meas, &d->n_meas, &cap, sizeof *m);
        if (!m) break;
        int64_t row = sqlite3_column_int64(st, 0);
        if (row != last_row) model = measured_model(l, row, (const char *)sqlite3_column_text(st, 5));
        last_row = row;
        m->model = model;
        m->stage = text_dup(st, 1), m->subnet = text_dup(st, 3);
        m->energy_j = real_or_nan(st, 4);
        m->subnet_index = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 6);
        m->instructions = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
        m->cpu_share = real_or_nan(st, 8), m->wait_share = real_or_nan(st, 9), m->others_share = real_or_nan(st, 10);
        m->interference_flagged = sqlite3_column_int(st, 11) != 0;
        m->attempts = sqlite3_column_type(st, 12) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 12);
        if (!m->stage || !m->subnet) break;
        failed = load_conditions(l, cs, sqlite3_column_int64(st, 2), m) || load_samples(l, ss, sqlite3_column_int64(st, 2), m);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ss);
    sqlite3_finalize(cs);
    if (failed) return -1;
    if (rc != SQLITE_DONE) return rc == SQLITE_ROW ? err_set(l->err, "out of memory") : db_fail(l->db, "reading measurements", l->err);
    return 0;
}

int db_load_run_data(Db *db, int64_t run_id, const char *needed_by, RunData *out, Err *err) {
    memset(out, 0, sizeof *out);
    Loader l = {.db = db, .run_id = run_id, .only = needed_by, .d = out, .err = err};
    if (load_provenance(&l) || load_models(&l) || load_measurements(&l)) {
        rundata_free(out);
        return -1;
    }
    return 0;
}

void rundata_free(RunData *d) {
    char **strings[] = {&d->uuid, &d->experiment, &d->status, &d->spec_path, &d->spec_sha256, &d->git_commit, &d->build_id,
                        &d->dynn_version, &d->host, &d->cpu_model, &d->compiler, &d->cflags};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) free(*strings[i]);
    for (size_t i = 0; i < d->n_models; i++) {
        RdModel *m = &d->models[i];
        for (size_t k = 0; k < m->n_subnets; k++) free(m->subnets[k].name);
        free(m->subnets);
        free(m->stage);
        free(m->method);
        free(m->arch);
    }
    free(d->models);
    for (size_t i = 0; i < d->n_meas; i++) {
        RdMeasurement *m = &d->meas[i];
        free(m->stage), free(m->platform), free(m->subnet), free(m->cpus), free(m->latency_s);
        cond_free(&m->cond);
    }
    free(d->meas);
    memset(d, 0, sizeof *d);
}

const RdSubnet *rundata_subnet(const RdModel *m, const char *name) {
    for (size_t i = 0; i < m->n_subnets; i++)
        if (!strcmp(m->subnets[i].name, name)) return &m->subnets[i];
    return NULL;
}
