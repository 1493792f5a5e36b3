/* pipeline/runner_db.c — what the runner writes to the results database: the run and its stage rows
 * (with params), state changes, and finished stages' records, one transaction per flush. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/kernel_set.h"
#include "util/version.h"
#include "util/provenance.h"
#include "pipeline/records.h"
#include "pipeline/runner_internal.h"

static void flatten_params(Runner *r, const YNode *n, char *prefix, size_t len, int64_t stage_id, int *rc, Err *err) {
    if (*rc) return;
    if (n->kind == YNODE_SCALAR) {
        *rc = db_insert_param(r->db, stage_id, prefix, n->str, err);
        return;
    }
    for (size_t i = 0; i < n->len; i++) {
        int w = n->kind == YNODE_SEQ ? snprintf(prefix + len, PATH_MAX - len, "%s%zu", len ? "." : "", i)
                                     : snprintf(prefix + len, PATH_MAX - len, "%s%s", len ? "." : "", n->pairs[i].key->str);
        if (w < 0 || len + (size_t)w >= PATH_MAX) continue;
        flatten_params(r, n->kind == YNODE_SEQ ? n->items[i] : n->pairs[i].value, prefix, len + (size_t)w, stage_id, rc, err);
        prefix[len] = '\0';
    }
}

static DbStageState node_db_state(const RunNode *n) {
    return (DbStageState){.status = node_state_name(n->state), .key = n->key[0] ? n->key : NULL, .cached_from = n->cached_from,
                          .started_at = n->started ? n->started : NAN, .ended_at = n->ended ? n->ended : NAN,
                          .exit_code = n->exit_code, .error = n->error, .log = n->log};
}

/* The run row, and every selected instance's row in its current state with its params and the
 * instances it needs (stage_needs). Part of the
 * first flush: by then the first pass of cache lookups is done, so a cached stage is written once. */
static int insert_run(Runner *r, Err *err) {
    const BuildInfo *b = dynn_build_info();
    char host[256], cpu[256];
    provenance_host(host, sizeof host);
    provenance_cpu_model(cpu, sizeof cpu);
    DbRun run = {.uuid = r->uuid, .experiment = r->spec->name, .spec_path = r->spec->file, .spec_sha256 = r->spec->sha256,
                 .started_at = r->rs.started, .git_commit = b->git_commit, .git_dirty = b->git_dirty, .host = host,
                 .cpu_model = cpu, .compiler = b->compiler, .cflags = b->cflags, .dynn_version = b->version,
                 .build_id = kernel_set_build_id(), .seed = r->spec->seed, .argv = r->opt->argv_text ? r->opt->argv_text : "",
                 .pid = getpid(), .pid_start = provenance_pid_start(getpid())};
    int rc = db_insert_run(r->db, &run, &r->run_id, err);
    char prefix[PATH_MAX];
    for (size_t k = 0; k < r->dag->n && !rc; k++) {
        size_t i = r->dag->order[k];
        if (!r->nodes[i].selected) continue;
        const Instance *in = &r->dag->inst[i];
        const StageSpec *st = &r->spec->stages[in->stage];
        DbStageState state = node_db_state(&r->nodes[i]);
        rc = db_insert_stage(r->db, r->run_id, in->name, st->name, st->type, in->threads, &state, &r->nodes[i].stage_id, err);
        prefix[0] = '\0';
        if (!rc) flatten_params(r, in->params, prefix, 0, r->nodes[i].stage_id, &rc, err);
        if (!rc && in->bindings) {
            snprintf(prefix, sizeof prefix, "matrix");
            flatten_params(r, in->bindings, prefix, strlen(prefix), r->nodes[i].stage_id, &rc, err);
        }
        /* topological order: what it needs (selected too) already has its row */
        for (size_t d = 0; d < in->n_deps && !rc; d++)
            rc = db_insert_stage_need(r->db, r->nodes[i].stage_id, r->nodes[in->deps[d]].stage_id, err);
    }
    if (rc) r->run_id = 0;
    return rc;
}

static int commit_records(Runner *r, const RunNode *n, Err *err) {
    const Records *rec = n->records;
    for (size_t k = 0; k < rec->n_metrics; k++) {
        const RecMetric *m = &rec->metrics[k];
        if (db_insert_metric(r->db, n->stage_id, m->name, m->value, m->subnet, m->step, err)) return -1;
    }
    for (size_t k = 0; k < rec->n_measurements; k++)
        if (db_insert_measurement(r->db, n->stage_id, &rec->measurements[k].m, err)) return -1;
    for (size_t k = 0; k < rec->n_artifacts; k++) {
        const RecArtifact *a = &rec->artifacts[k];
        if (db_insert_artifact(r->db, n->stage_id, a->name, a->kind, a->hash, a->path, (int64_t)a->size, err)) return -1;
    }
    return 0;
}

/* Writes every pending state change (and finished stages' records) in one transaction. */
int runner_flush(Runner *r, Err *err) {
    if (!r->n_dirty && r->run_id) return 0;
    if (db_begin(r->db, err)) return -1;
    int inserted = !r->run_id;
    int rc = inserted ? insert_run(r, err) : 0;
    for (size_t k = 0; k < r->n_dirty && !rc; k++) {
        RunNode *n = &r->nodes[r->dirty[k]];
        if (n->records && (n->state == NODE_FINISHED || n->state == NODE_FAILED)) rc = commit_records(r, n, err);
        DbStageState s = node_db_state(n);
        if (!rc && !inserted) rc = db_update_stage(r->db, n->stage_id, &s, err);
    }
    if (!rc) rc = db_commit(r->db, err);
    if (rc) {
        db_rollback(r->db);
        if (inserted) r->run_id = 0;
        return -1;
    }
    for (size_t k = 0; k < r->n_dirty; k++) {
        RunNode *n = &r->nodes[r->dirty[k]];
        n->dirty = 0;
        if (n->records) {
            records_free(n->records);
            free(n->records);
            n->records = NULL;
        }
    }
    r->n_dirty = 0;
    return 0;
}
