/* pipeline/runner_jobs.c — per instance work of the runner: cache keys and lookups, writing the
 * stage description and starting the stage process, reading its records when it ends. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "nn/kernel_set.h"
#include "util/version.h"
#include "pipeline/cache.h"
#include "util/provenance.h"
#include "pipeline/records.h"
#include "pipeline/runner_internal.h"
#include "pipeline/stage_desc.h"
#include "pipeline/store.h"
#include "util/fs.h"

/* ---- cache ---- */

int runner_compute_key(Runner *r, size_t i, Err *err) {
    const Instance *in = &r->dag->inst[i];
    size_t n = 0;
    for (size_t k = 0; k < in->n_deps; k++) n += r->nodes[in->deps[k]].n_arts ? r->nodes[in->deps[k]].n_arts : 1;
    CacheInput *inputs = calloc(n ? n : 1, sizeof *inputs);
    if (!inputs) return err_set(err, "out of memory");
    n = 0;
    for (size_t k = 0; k < in->n_deps; k++) {
        const RunNode *d = &r->nodes[in->deps[k]];
        if (!d->n_arts) inputs[n++] = (CacheInput){.name = "", .hash = d->key};
        for (size_t a = 0; a < d->n_arts; a++) inputs[n++] = (CacheInput){.name = d->arts[a].name, .hash = d->arts[a].hash};
    }
    CacheKeyParts parts = {.type = r->spec->stages[in->stage].type, .params = in->params, .inputs = inputs, .n_inputs = n,
                           .build_id = kernel_set_build_id(), .seed = r->spec->seed, .threads = in->threads};
    int rc = cache_key(&parts, r->nodes[i].key, err);
    free(inputs);
    return rc;
}

/* A cache entry that cannot be used as it is: one line on stderr and in the instance's log (the
 * stage runs again and appends its own output after it). */
static void warn_unusable(Runner *r, size_t i, const char *what) {
    char line[PATH_MAX + 1536], log[PATH_MAX];
    snprintf(line, sizeof line, "dynn run: warning: stage '%s': %s; it runs again\n", r->dag->inst[i].name, what);
    fputs(line, stderr);
    runner_log_path(r, i, log, sizeof log);
    if (!r->log_dir_made && fs_mkdir_p(r->log_dir, NULL)) return;
    r->log_dir_made = 1;
    FILE *f = fopen(log, "a");
    if (f) fputs(line, f), fclose(f);
}

/* An entry whose artifact row or object is bad is voided: never a hit again (its rows stay). */
static void void_entry(Runner *r, size_t i, int64_t sid, const char *what) {
    Err err;
    warn_unusable(r, i, what);
    if (db_void_cache_entry(r->db, sid, what, provenance_now(), &err))
        fprintf(stderr, "dynn run: warning: stage '%s': %s\n", r->dag->inst[i].name, err.msg);
}

/* Every artifact of the entry (stage sid) is in the store with the content its name says (bad
 * objects are quarantined on the way); workspace files of a cached exec stage come back if they
 * were deleted. */
static int artifacts_usable(Runner *r, size_t i, int64_t sid, const DbArtifact *arts, size_t n) {
    for (size_t k = 0; k < n; k++) {
        char rel[STORE_REL_MAX], what[PATH_MAX + 1024];
        store_rel(arts[k].hash, rel);
        if (strcmp(rel, arts[k].path)) {
            snprintf(what, sizeof what, "artifact '%s': the database gives path '%s' for hash %.16s…", arts[k].name,
                     arts[k].path, arts[k].hash);
            void_entry(r, i, sid, what);
            return 0;
        }
        StoreCheck c;
        StoreState s = store_check(r->state_dir, arts[k].path, (uint64_t)arts[k].size, 1, &c);
        if (s == STORE_MISSING) return 0; /* a plain miss, as when the store was cleaned */
        if (s == STORE_BAD) {
            snprintf(what, sizeof what, "artifact '%s' (%s): %s; %s", arts[k].name, arts[k].path, c.why,
                     c.fate[0] ? c.fate : "not moved");
            void_entry(r, i, sid, what);
            return 0;
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (strcmp(arts[k].kind, "file")) continue;
        char target[PATH_MAX], what[1024 + 64];
        Err err;
        if (fs_join(target, sizeof target, r->workdir, arts[k].name)) return 0;
        if (fs_exists(target) || !store_restore(r->state_dir, arts[k].path, target, &err)) continue;
        snprintf(what, sizeof what, "artifact '%s': %s", arts[k].name, err.msg);
        warn_unusable(r, i, what);
        return 0;
    }
    return 1;
}

/* 1 when a finished record with this key exists and its artifacts are all in the store, intact. */
int runner_try_cache(Runner *r, size_t i, Err *err) {
    RunNode *n = &r->nodes[i];
    int64_t sid;
    DbArtifact *arts;
    size_t n_arts;
    int found = db_find_cached(r->db, n->key, &sid, &arts, &n_arts, err);
    if (found <= 0) return found;
    int usable = artifacts_usable(r, i, sid, arts, n_arts);
    if (usable) {
        n->arts = calloc(n_arts ? n_arts : 1, sizeof *n->arts);
        if (!n->arts) usable = 0;
        for (size_t k = 0; k < n_arts && n->arts; k++) {
            n->arts[k] = (RunArtifact){.name = arts[k].name, .kind = arts[k].kind, .hash = arts[k].hash,
                                       .path = arts[k].path, .size = (uint64_t)arts[k].size};
            arts[k].name = arts[k].kind = arts[k].hash = arts[k].path = NULL; /* moved */
        }
        n->n_arts = n->arts ? n_arts : 0;
        n->cached_from = sid;
    }
    db_artifacts_free(arts, n_arts);
    return usable;
}

/* ---- starting and finishing stage processes ---- */

static void set_error(RunNode *n, const char *msg) {
    free(n->error);
    n->error = strdup(msg);
}

/* Work files belong to a job slot and are overwritten in place from one stage to the next: new files
 * cost an inode each and truncating a file to zero on ext4 forces a flush (see fs_overwrite_file). */
static void job_path(const Runner *r, size_t slot, const char *ext, char *out, size_t size) {
    snprintf(out, size, "%s/%zu.%s", r->work_dir, slot, ext);
}

void runner_resume_dir(const char *state_dir, const char *key, char *out, size_t size) {
    snprintf(out, size, "%s/resume/%s", state_dir, key);
}

static void resume_path(const Runner *r, const RunNode *n, char *out, size_t size) {
    runner_resume_dir(r->state_dir, n->key, out, size);
}

/* logs/<run>/<instance>.log; very long instance names are shortened with a hash. */
void runner_log_path(const Runner *r, size_t i, char *out, size_t size) {
    const char *name = r->dag->inst[i].name;
    if (strlen(name) <= 200) {
        snprintf(out, size, "%s/%s.log", r->log_dir, name);
        return;
    }
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex_of(name, strlen(name), hex);
    snprintf(out, size, "%s/%.180s-%.16s.log", r->log_dir, name, hex);
}

ExecJob runner_job(const Runner *r, size_t i) {
    const Instance *in = &r->dag->inst[i];
    const Board *board = board_claims_of(&r->boards, i);
    return (ExecJob){.id = i, .name = in->name, .threads = in->threads, .resources = &r->spec->stages[in->stage].resources,
                     .platform = board ? board->identity : NULL, .platform_remote = board && board->remote};
}

Executor *runner_executor(Runner *r, size_t i, Err *err) {
    size_t k = r->stage_ex[r->dag->inst[i].stage];
    if (!r->exs[k]) r->exs[k] = executor_new(r->ex_names[k], r->opt->dynn_exe, (size_t)r->jobs, err);
    return r->exs[k];
}

int runner_thread_share(const Runner *r, size_t i) {
    ExecJob job = runner_job(r, i);
    return executor_thread_demand(&job, r->budget);
}

int runner_start_job(Runner *r, size_t i, Err *err) {
    const Instance *in = &r->dag->inst[i];
    const StageSpec *st = &r->spec->stages[in->stage];
    RunNode *n = &r->nodes[i];
    char desc[PATH_MAX], records[PATH_MAX], scratch[PATH_MAX], slot_dir[PATH_MAX], log[PATH_MAX], resume[PATH_MAX];
    n->slot = r->free_slots[--r->n_free_slots];
    job_path(r, n->slot, "json", desc, sizeof desc);
    job_path(r, n->slot, "rec", records, sizeof records);
    job_path(r, n->slot, "scratch", scratch, sizeof scratch);
    job_path(r, n->slot, "dir", slot_dir, sizeof slot_dir);
    resume_path(r, n, resume, sizeof resume);
    runner_log_path(r, i, log, sizeof log);
    if (!r->log_dir_made && fs_mkdir_p(r->log_dir, err)) return -1;
    r->log_dir_made = 1;
    size_t n_inputs = 0;
    for (size_t k = 0; k < in->n_deps; k++) n_inputs += r->nodes[in->deps[k]].n_arts;
    StageInput *inputs = calloc(n_inputs ? n_inputs : 1, sizeof *inputs);
    char **paths = calloc(n_inputs ? n_inputs : 1, sizeof *paths);
    int rc = inputs && paths ? 0 : err_set(err, "out of memory");
    size_t m = 0;
    for (size_t k = 0; k < in->n_deps && !rc; k++) {
        const RunNode *d = &r->nodes[in->deps[k]];
        for (size_t a = 0; a < d->n_arts && !rc; a++, m++) {
            char abs[PATH_MAX];
            store_abs(r->state_dir, d->arts[a].path, abs, sizeof abs);
            if (!(paths[m] = strdup(abs))) rc = err_set(err, "out of memory");
            inputs[m] = (StageInput){.stage = r->dag->inst[in->deps[k]].name, .name = d->arts[a].name, .kind = d->arts[a].kind,
                                     .path = paths[m], .hash = d->arts[a].hash, .size = d->arts[a].size};
        }
    }
    StageDesc d = {.name = in->name, .stage = st->name, .type = st->type, .key = n->key, .workdir = r->workdir,
                   .state_dir = r->state_dir, .log = log, .records = records, .scratch = scratch, .slot_dir = slot_dir,
                   .resume_dir = resume, .threads = in->threads,
                   .seed = r->spec->seed, .plugins = (const char *const *)r->spec->plugins, .n_plugins = r->spec->n_plugins,
                   .params = in->params, .inputs = inputs, .n_inputs = n_inputs, .db = r->db_path, .run = r->uuid};
    if (!rc) rc = stage_desc_write(desc, &d, err);
    for (size_t k = 0; paths && k < n_inputs; k++) free(paths[k]);
    free(paths);
    free(inputs);
    ExecJob job = runner_job(r, i);
    job.desc_path = desc;
    job.log_path = log;
    Executor *ex = rc ? NULL : runner_executor(r, i, err);
    if (!ex) rc = -1;
    if (!rc) rc = fs_spoil_first_byte(records, err); /* no stale records from the slot's last stage */
    if (!rc) rc = ex->submit(ex, &job, err);
    if (rc) {
        r->free_slots[r->n_free_slots++] = n->slot;
        return -1;
    }
    n->started = provenance_now();
    n->log = strdup(log);
    r->threads_in_use += runner_thread_share(r, i);
    board_claims_take(&r->boards, i);
    runner_set_state(r, i, NODE_RUNNING);
    return 0;
}

static void describe_status(int status, char *out, size_t size) {
    if (WIFSIGNALED(status)) snprintf(out, size, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
}

static void take_artifacts(RunNode *n, const Records *rec) {
    n->arts = calloc(rec->n_artifacts ? rec->n_artifacts : 1, sizeof *n->arts);
    if (!n->arts) return;
    for (size_t k = 0; k < rec->n_artifacts; k++) {
        const RecArtifact *a = &rec->artifacts[k];
        n->arts[k] = (RunArtifact){.name = strdup(a->name), .kind = strdup(a->kind), .hash = strdup(a->hash),
                                   .path = strdup(a->path), .size = a->size};
    }
    n->n_arts = rec->n_artifacts;
}

void runner_finish_job(Runner *r, size_t i, int status) {
    RunNode *n = &r->nodes[i];
    char records[PATH_MAX], scratch[PATH_MAX], why[256];
    job_path(r, n->slot, "rec", records, sizeof records);
    job_path(r, n->slot, "scratch", scratch, sizeof scratch);
    r->free_slots[r->n_free_slots++] = n->slot;
    r->threads_in_use -= runner_thread_share(r, i);
    board_claims_release(&r->boards, i); /* the first stage waiting for its board goes next */
    n->ended = provenance_now();
    Records *rec = calloc(1, sizeof *rec);
    Err err;
    NodeState state;
    if (rec && records_read(records, rec, &err) == 0) {
        n->exit_code = rec->exit_code >= 0 ? rec->exit_code : DB_NO_EXIT_CODE;
        if (rec->ok) {
            state = NODE_FINISHED;
            take_artifacts(n, rec);
            n->records = rec;
            rec = NULL;
        } else {
            state = r->stopping ? NODE_KILLED : NODE_FAILED;
            set_error(n, rec->error);
            if (state == NODE_FAILED && rec->n_measurements) { /* what a sweep measured before it failed */
                n->records = rec;
                rec = NULL;
            }
        }
    } else {
        describe_status(status, why, sizeof why);
        state = r->stopping && WIFSIGNALED(status) ? NODE_KILLED : NODE_FAILED;
        char msg[512];
        snprintf(msg, sizeof msg, "stage process %s without handing back records (see %s)", why, n->log ? n->log : "its log");
        set_error(n, msg);
        if (WIFEXITED(status)) n->exit_code = WEXITSTATUS(status);
    }
    if (rec) {
        records_free(rec);
        free(rec);
    }
    fs_remove_tree(scratch, NULL); /* made by the stage only if it needed one */
    runner_set_state(r, i, state);
    if (state == NODE_FINISHED) {
        char resume[PATH_MAX];
        resume_path(r, n, resume, sizeof resume);
        fs_remove_tree(resume, NULL); /* finished: nothing left to go on from */
        runner_release_users(r, i);
        return;
    }
    if (state == NODE_FAILED) r->failed = 1;
    runner_skip_users(r, i);
}
