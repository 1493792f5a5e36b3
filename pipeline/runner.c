/* pipeline/runner.c — the scheduling loop: ready → cache lookup → queue → start → records → commit
 * (see runner.h). */
#include "pipeline/runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/version.h"
#include "db/db.h"
#include "pipeline/cache.h"
#include "pipeline/executor.h"
#include "pipeline/provenance.h"
#include "pipeline/records.h"
#include "pipeline/stage_desc.h"
#include "pipeline/store.h"
#include "util/fs.h"
#include "util/regex.h"
#include "util/uuid.h"

static const char *const state_names[NODE_STATES] = {"QUEUED", "RUNNING", "FINISHED", "CACHED", "FAILED", "KILLED", "SKIPPED"};

const char *node_state_name(NodeState s) { return s < NODE_STATES ? state_names[s] : "?"; }

typedef struct Runner {
    const Spec *spec;
    const Dag *dag;
    const RunOptions *opt;
    Db *db;
    Executor *ex;
    RunNode *nodes;
    RunState rs;
    size_t *ready, ready_head, ready_tail; /* each instance enters at most once */
    size_t *runq, runq_head, runq_tail;
    size_t *dirty, n_dirty;
    size_t *free_slots, n_free_slots; /* job slots: indices of reusable work files */
    int jobs, budget, threads_in_use;
    int failed, stopping, hard_killed, log_dir_made;
    double stop_time;
    Regex *force;
    int64_t run_id;
    char uuid[40];
    char workdir[PATH_MAX];
    char state_dir[PATH_MAX - 512], work_dir[PATH_MAX - 256], log_dir[PATH_MAX - 256]; /* room for what is appended */
} Runner;

/* ---- signals: SIGINT/SIGTERM become a byte in a pipe that the wait loop polls ---- */

static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t last_signal;
static struct sigaction saved_int, saved_term, saved_pipe;

static void on_stop_signal(int sig) {
    int saved = errno;
    last_signal = sig;
    if (write(signal_pipe[1], "s", 1) < 0) {
    }
    errno = saved;
}

static int catch_signals(Err *err) {
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK)) return err_set(err, "pipe: %s", strerror(errno));
    last_signal = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &saved_pipe);
    return 0;
}

static void release_signals(void) {
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGPIPE, &saved_pipe, NULL);
    if (signal_pipe[0] >= 0) close(signal_pipe[0]), close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
}

/* ---- state ---- */

static void set_state(Runner *r, size_t i, NodeState state) {
    RunNode *n = &r->nodes[i];
    r->rs.count[n->state]--;
    r->rs.count[state]++;
    n->state = state;
    if (!n->dirty) {
        n->dirty = 1;
        r->dirty[r->n_dirty++] = i;
    }
    if (r->opt->observer.changed) r->opt->observer.changed(r->opt->observer.ctx, &r->rs, i);
}

static void set_error(RunNode *n, const char *msg) {
    free(n->error);
    n->error = strdup(msg);
}

static int skip_queued(void *ctx, size_t u) {
    Runner *r = ctx;
    if (!r->nodes[u].selected || r->nodes[u].state != NODE_QUEUED) return 0;
    set_state(r, u, NODE_SKIPPED);
    return 1;
}

/* Everything downstream of a failed or killed instance can no longer run (the final sweep marks
 * them anyway if memory runs out here). */
static void skip_users(Runner *r, size_t i) { dag_walk(r->dag, i, 1, skip_queued, r); }

static void release_users(Runner *r, size_t i) {
    const Instance *in = &r->dag->inst[i];
    for (size_t k = 0; k < in->n_users; k++) {
        RunNode *u = &r->nodes[in->users[k]];
        if (u->selected && --u->waiting == 0 && u->state == NODE_QUEUED) r->ready[r->ready_tail++] = in->users[k];
    }
}

static void free_artifacts(RunArtifact *arts, size_t n) {
    for (size_t i = 0; i < n; i++) free(arts[i].name), free(arts[i].kind), free(arts[i].hash), free(arts[i].path);
    free(arts);
}

/* ---- database ---- */

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

/* The run row, and every selected instance's row in its current state with its params. Part of the
 * first flush: by then the first pass of cache lookups is done, so a cached stage is written once. */
static int insert_run(Runner *r, Err *err) {
    const BuildInfo *b = dynn_build_info();
    char host[256], cpu[256];
    provenance_host(host, sizeof host);
    provenance_cpu_model(cpu, sizeof cpu);
    DbRun run = {.uuid = r->uuid, .experiment = r->spec->name, .spec_path = r->spec->file, .spec_sha256 = r->spec->sha256,
                 .started_at = r->rs.started, .git_commit = b->git_commit, .git_dirty = b->git_dirty, .host = host,
                 .cpu_model = cpu, .compiler = b->compiler, .cflags = b->cflags, .dynn_version = b->version,
                 .build_id = dynn_build_id(), .seed = r->spec->seed, .argv = r->opt->argv_text ? r->opt->argv_text : "",
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
static int flush(Runner *r, Err *err) {
    if (!r->n_dirty && r->run_id) return 0;
    if (db_begin(r->db, err)) return -1;
    int inserted = !r->run_id;
    int rc = inserted ? insert_run(r, err) : 0;
    for (size_t k = 0; k < r->n_dirty && !rc; k++) {
        RunNode *n = &r->nodes[r->dirty[k]];
        if (n->records && n->state == NODE_FINISHED) rc = commit_records(r, n, err);
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

/* ---- cache ---- */

static int compute_key(Runner *r, size_t i, Err *err) {
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
                           .build_id = dynn_build_id(), .seed = r->spec->seed, .threads = in->threads};
    int rc = cache_key(&parts, r->nodes[i].key, err);
    free(inputs);
    return rc;
}

/* Workspace files of a cached exec stage come back if they were deleted. */
static int restore_workspace_files(Runner *r, const DbArtifact *arts, size_t n) {
    for (size_t k = 0; k < n; k++) {
        if (strcmp(arts[k].kind, "file")) continue;
        char target[PATH_MAX];
        if (fs_join(target, sizeof target, r->workdir, arts[k].name)) return -1;
        if (!fs_exists(target) && store_restore(r->state_dir, arts[k].path, target, NULL)) return -1;
    }
    return 0;
}

/* 1 when a finished record with this key exists and its artifacts are all in the store. */
static int try_cache(Runner *r, size_t i, Err *err) {
    RunNode *n = &r->nodes[i];
    int64_t sid;
    DbArtifact *arts;
    size_t n_arts;
    int found = db_find_cached(r->db, n->key, &sid, &arts, &n_arts, err);
    if (found <= 0) return found;
    int usable = 1;
    for (size_t k = 0; k < n_arts && usable; k++) usable = store_has(r->state_dir, arts[k].path, (uint64_t)arts[k].size);
    if (usable) usable = restore_workspace_files(r, arts, n_arts) == 0;
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

/* Work files belong to a job slot and are overwritten in place from one stage to the next: new files
 * cost an inode each and truncating a file to zero on ext4 forces a flush (see fs_overwrite_file). */
static void job_path(const Runner *r, size_t slot, const char *ext, char *out, size_t size) {
    snprintf(out, size, "%s/%zu.%s", r->work_dir, slot, ext);
}

/* logs/<run>/<instance>.log; very long instance names are shortened with a hash. */
static void log_path(const Runner *r, size_t i, char *out, size_t size) {
    const char *name = r->dag->inst[i].name;
    if (strlen(name) <= 200) {
        snprintf(out, size, "%s/%s.log", r->log_dir, name);
        return;
    }
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex_of(name, strlen(name), hex);
    snprintf(out, size, "%s/%.180s-%.16s.log", r->log_dir, name, hex);
}

static int thread_share(const Runner *r, size_t i) {
    int t = r->dag->inst[i].threads;
    return t < r->budget ? t : r->budget;
}

static int start_job(Runner *r, size_t i, Err *err) {
    const Instance *in = &r->dag->inst[i];
    const StageSpec *st = &r->spec->stages[in->stage];
    RunNode *n = &r->nodes[i];
    char desc[PATH_MAX], records[PATH_MAX], scratch[PATH_MAX], log[PATH_MAX];
    n->slot = r->free_slots[--r->n_free_slots];
    job_path(r, n->slot, "json", desc, sizeof desc);
    job_path(r, n->slot, "rec", records, sizeof records);
    job_path(r, n->slot, "scratch", scratch, sizeof scratch);
    log_path(r, i, log, sizeof log);
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
                   .state_dir = r->state_dir, .log = log, .records = records, .scratch = scratch, .threads = in->threads,
                   .seed = r->spec->seed, .plugins = (const char *const *)r->spec->plugins, .n_plugins = r->spec->n_plugins,
                   .params = in->params, .inputs = inputs, .n_inputs = n_inputs};
    if (!rc) rc = stage_desc_write(desc, &d, err);
    for (size_t k = 0; paths && k < n_inputs; k++) free(paths[k]);
    free(paths);
    free(inputs);
    ExecJob job = {.id = i, .desc_path = desc, .log_path = log};
    if (!rc) rc = fs_spoil_first_byte(records, err); /* no stale records from the slot's last stage */
    if (!rc) rc = r->ex->submit(r->ex, &job, err);
    if (rc) {
        r->free_slots[r->n_free_slots++] = n->slot;
        return -1;
    }
    n->started = provenance_now();
    n->log = strdup(log);
    r->threads_in_use += thread_share(r, i);
    set_state(r, i, NODE_RUNNING);
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

static void finish_job(Runner *r, size_t i, int status) {
    RunNode *n = &r->nodes[i];
    char records[PATH_MAX], scratch[PATH_MAX], why[256];
    job_path(r, n->slot, "rec", records, sizeof records);
    job_path(r, n->slot, "scratch", scratch, sizeof scratch);
    r->free_slots[r->n_free_slots++] = n->slot;
    r->threads_in_use -= thread_share(r, i);
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
    set_state(r, i, state);
    if (state == NODE_FINISHED) {
        release_users(r, i);
        return;
    }
    if (state == NODE_FAILED) r->failed = 1;
    skip_users(r, i);
}

/* ---- the loop ---- */

static int halted(const Runner *r) { return r->stopping || (r->failed && !r->opt->keep_going); }

/* Ready instances: cached, or queued to run. */
static int resolve_ready(Runner *r, Err *err) {
    while (r->ready_head < r->ready_tail) {
        size_t i = r->ready[r->ready_head++];
        RunNode *n = &r->nodes[i];
        if (n->state != NODE_QUEUED) continue;
        if (halted(r)) {
            set_state(r, i, NODE_SKIPPED);
            continue;
        }
        if (compute_key(r, i, err)) return -1;
        int forced = r->opt->force_all || (r->force && regex_matches(r->force, r->dag->inst[i].name));
        int hit = forced ? 0 : try_cache(r, i, err);
        if (hit < 0) return -1;
        if (hit) {
            set_state(r, i, NODE_CACHED);
            release_users(r, i);
            continue;
        }
        r->runq[r->runq_tail++] = i;
    }
    return 0;
}

static int start_ready(Runner *r, Err *err) {
    while (r->runq_head < r->runq_tail) {
        size_t i = r->runq[r->runq_head];
        if (halted(r)) {
            r->runq_head++;
            set_state(r, i, NODE_SKIPPED);
            continue;
        }
        size_t running = r->ex->running(r->ex);
        if (running >= (size_t)r->jobs) break;
        if (running && r->threads_in_use + thread_share(r, i) > r->budget) break;
        r->runq_head++;
        if (start_job(r, i, err)) return -1;
    }
    return 0;
}

static void on_signal(Runner *r) {
    char drain[16];
    while (read(signal_pipe[0], drain, sizeof drain) > 0) {
    }
    if (!last_signal) return;
    if (!r->stopping) {
        r->stopping = 1;
        r->stop_time = provenance_now();
        r->ex->signal(r->ex, SIGTERM);
    } else if (!r->hard_killed) {
        r->hard_killed = 1;
        r->ex->signal(r->ex, SIGKILL);
    }
    last_signal = 0;
}

static int loop(Runner *r, Err *err) {
    ExecEvent events[256];
    size_t max_events = sizeof events / sizeof *events;
    double grace = r->opt->kill_grace_s > 0 ? r->opt->kill_grace_s : 5.0;
    for (;;) {
        if (resolve_ready(r, err) || start_ready(r, err) || flush(r, err)) return -1;
        if (!r->ex->running(r->ex) && r->ready_head == r->ready_tail && r->runq_head == r->runq_tail) return 0;
        int timeout = r->stopping ? 100 : r->opt->observer.tick ? (r->opt->tick_ms > 0 ? r->opt->tick_ms : 100) : -1;
        int got = r->ex->wait(r->ex, timeout, signal_pipe[0], events, max_events, err);
        if (got < 0) return -1;
        on_signal(r);
        if (r->stopping && !r->hard_killed && provenance_now() - r->stop_time > grace) {
            r->hard_killed = 1;
            r->ex->signal(r->ex, SIGKILL);
        }
        for (int k = 0; k < got; k++) finish_job(r, events[k].id, events[k].status);
        if (r->opt->observer.tick) r->opt->observer.tick(r->opt->observer.ctx, &r->rs);
    }
}

static int prepare(Runner *r, Err *err) {
    const Dag *dag = r->dag;
    size_t n = dag->n ? dag->n : 1;
    r->nodes = calloc(n, sizeof *r->nodes);
    r->ready = malloc(n * sizeof *r->ready);
    r->runq = malloc(n * sizeof *r->runq);
    r->dirty = malloc(n * sizeof *r->dirty);
    r->free_slots = malloc((size_t)r->jobs * sizeof *r->free_slots);
    for (int k = 0; r->free_slots && k < r->jobs; k++) r->free_slots[r->n_free_slots++] = (size_t)(r->jobs - 1 - k);
    unsigned char *selected = malloc(n);
    if (!r->nodes || !r->ready || !r->runq || !r->dirty || !r->free_slots || !selected) {
        free(selected);
        return err_set(err, "out of memory");
    }
    if (r->opt->only_re) {
        if (dag_select(dag, r->opt->only_re, selected, err)) {
            free(selected);
            return -1;
        }
    } else {
        memset(selected, 1, dag->n);
    }
    for (size_t i = 0; i < dag->n; i++) {
        RunNode *node = &r->nodes[i];
        node->selected = selected[i];
        node->exit_code = DB_NO_EXIT_CODE;
        if (!node->selected) continue;
        r->rs.n_selected++;
        r->rs.count[NODE_QUEUED]++;
        node->waiting = dag->inst[i].n_deps; /* deps of a selected instance are selected too */
    }
    free(selected);
    for (size_t k = 0; k < dag->n; k++) {
        size_t i = dag->order[k];
        if (r->nodes[i].selected && !r->nodes[i].waiting) r->ready[r->ready_tail++] = i;
    }
    if (r->opt->force_re && !(r->force = regex_compile(r->opt->force_re, "--force", err))) return -1;
    return 0;
}

/* Work directories of runs that are over but still have one (their runner was killed) are removed;
 * a directory without a run row may belong to a run starting right now, and stays. */
static void remove_stale_work(Runner *r) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/work", r->state_dir);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || db_run_is_over(r->db, e->d_name, NULL) != 1) continue;
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fs_remove_tree(path, NULL);
    }
    closedir(d);
}

static int open_state(Runner *r, Err *err) {
    char db_abs[PATH_MAX];
    if (fs_absolute(r->opt->db_path, db_abs, sizeof db_abs, err)) return -1;
    fs_dirname(db_abs, r->state_dir, sizeof r->state_dir);
    if (fs_mkdir_p(r->state_dir, err)) return -1;
    if (db_open(db_abs, &r->db, err)) return -1;
    int reaped;
    if (db_reap_dead_runs(r->db, provenance_run_alive, NULL, &reaped, err)) return -1;
    remove_stale_work(r);
    if (uuid_v4(r->uuid, err)) return -1;
    snprintf(r->work_dir, sizeof r->work_dir, "%s/work/%s", r->state_dir, r->uuid);
    snprintf(r->log_dir, sizeof r->log_dir, "%s/logs/%s", r->state_dir, r->uuid);
    if (fs_mkdir_p(r->work_dir, err)) return -1; /* logs/<run>/ is made when a first stage starts */
    if (!getcwd(r->workdir, sizeof r->workdir)) return err_set(err, "cannot read the current directory: %s", strerror(errno));
    r->rs = (RunState){.dag = r->dag, .nodes = r->nodes, .n_selected = r->rs.n_selected, .started = provenance_now(),
                       .uuid = r->uuid, .state_dir = r->state_dir};
    memcpy(r->rs.count, (size_t[NODE_STATES]){[NODE_QUEUED] = r->rs.n_selected}, sizeof r->rs.count);
    return 0;
}

static const char *final_status(const Runner *r) {
    if (r->stopping) return "KILLED";
    return r->rs.count[NODE_FAILED] ? "FAILED" : "FINISHED";
}

static void cleanup(Runner *r) {
    if (r->ex) {
        if (r->ex->running(r->ex)) { /* only after an internal error: do not leave stages behind */
            r->ex->signal(r->ex, SIGKILL);
            ExecEvent ev[64];
            while (r->ex->running(r->ex) && r->ex->wait(r->ex, 1000, -1, ev, 64, NULL) >= 0) {
            }
        }
        r->ex->destroy(r->ex);
    }
    if (r->work_dir[0]) fs_remove_tree(r->work_dir, NULL);
    for (size_t i = 0; r->nodes && i < r->dag->n; i++) {
        RunNode *n = &r->nodes[i];
        free_artifacts(n->arts, n->n_arts);
        free(n->error);
        free(n->log);
        if (n->records) records_free(n->records), free(n->records);
    }
    free(r->nodes);
    free(r->ready);
    free(r->runq);
    free(r->dirty);
    free(r->free_slots);
    regex_free(r->force);
    db_close(r->db);
}

int runner_run(const Spec *spec, const Dag *dag, const RunOptions *opt, RunResult *result, Err *err) {
    memset(result, 0, sizeof *result);
    Runner r = {.spec = spec, .dag = dag, .opt = opt};
    r.jobs = opt->jobs > 0 ? opt->jobs : 1;
    r.budget = opt->threads > 0 ? opt->threads : 1;
    int rc = prepare(&r, err);
    if (!rc) rc = open_state(&r, err);
    r.rs.nodes = r.nodes;
    if (!rc) rc = (r.ex = executor_new(opt->executor ? opt->executor : "local", opt->dynn_exe, (size_t)r.jobs, err)) ? 0 : -1;
    if (!rc) rc = catch_signals(err);
    if (!rc && opt->observer.started) opt->observer.started(opt->observer.ctx, &r.rs);
    if (!rc) rc = loop(&r, err);
    if (!rc) {
        for (size_t i = 0; i < dag->n; i++)
            if (r.nodes[i].selected && r.nodes[i].state == NODE_QUEUED) set_state(&r, i, NODE_SKIPPED);
    }
    const char *status = rc ? "FAILED" : final_status(&r);
    if (r.db) {
        Err ignored;
        int frc = rc ? 0 : flush(&r, err);
        if (frc) rc = -1, status = "FAILED";
        if (r.run_id && db_begin(r.db, &ignored) == 0) {
            if (db_finish_run(r.db, r.run_id, status, provenance_now(), &ignored) || db_commit(r.db, &ignored)) db_rollback(r.db);
        }
    }
    release_signals();
    snprintf(result->uuid, sizeof result->uuid, "%s", r.uuid);
    snprintf(result->status, sizeof result->status, "%s", status);
    memcpy(result->count, r.rs.count, sizeof result->count);
    result->seconds = r.rs.started ? provenance_now() - r.rs.started : 0;
    if (!rc && opt->observer.finished) opt->observer.finished(opt->observer.ctx, &r.rs, status);
    cleanup(&r);
    return rc;
}
