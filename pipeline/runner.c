/* pipeline/runner.c — the scheduling loop: ready → cache lookup → queue → start → records → commit
 * (see runner.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/executor_common.h"
#include "util/provenance.h"
#include "pipeline/records.h"
#include "pipeline/run_note.h"
#include "pipeline/runner_internal.h"
#include "util/fs.h"
#include "util/uuid.h"

static const char *const state_names[NODE_STATES] = {"QUEUED", "RUNNING", "FINISHED", "CACHED", "FAILED", "KILLED", "SKIPPED"};

const char *node_state_name(NodeState s) { return s < NODE_STATES ? state_names[s] : "?"; }

/* ---- signals: SIGINT/SIGTERM/SIGHUP become a byte in a pipe that the wait loop polls ---- */

static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t last_signal;
static struct sigaction saved_int, saved_term, saved_hup, saved_pipe;

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
    sigaction(SIGHUP, &sa, &saved_hup); /* a dropped ssh session stops the run like Ctrl-C */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &saved_pipe);
    return 0;
}

static void release_signals(void) {
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    sigaction(SIGHUP, &saved_hup, NULL);
    sigaction(SIGPIPE, &saved_pipe, NULL);
    if (signal_pipe[0] >= 0) close(signal_pipe[0]), close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
}

/* ---- state ---- */

void runner_set_state(Runner *r, size_t i, NodeState state) {
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

static int skip_queued(void *ctx, size_t u) {
    Runner *r = ctx;
    if (!r->nodes[u].selected || r->nodes[u].state != NODE_QUEUED) return 0;
    runner_set_state(r, u, NODE_SKIPPED);
    return 1;
}

/* Everything downstream of a failed or killed instance can no longer run (the final sweep marks
 * them anyway if memory runs out here). */
void runner_skip_users(Runner *r, size_t i) { dag_walk(r->dag, i, 1, skip_queued, r); }

void runner_release_users(Runner *r, size_t i) {
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

/* ---- the loop ---- */

static int halted(const Runner *r) { return r->stopping || (r->failed && !r->opt->keep_going); }

/* Ready instances: cached, or queued to run. */
static int resolve_ready(Runner *r, Err *err) {
    while (r->ready_head < r->ready_tail) {
        size_t i = r->ready[r->ready_head++];
        RunNode *n = &r->nodes[i];
        if (n->state != NODE_QUEUED) continue;
        if (halted(r)) {
            runner_set_state(r, i, NODE_SKIPPED);
            continue;
        }
        if (runner_compute_key(r, i, err)) return -1;
        int forced = r->opt->force_all || (r->force && regex_matches(r->force, r->dag->inst[i].name));
        int hit = forced ? 0 : runner_try_cache(r, i, err);
        if (hit < 0) return -1;
        if (hit) {
            runner_set_state(r, i, NODE_CACHED);
            runner_release_users(r, i);
            continue;
        }
        r->runq[r->runq_tail++] = i;
    }
    return 0;
}

/* ---- the run's executors ---- */

static size_t running_jobs(const Runner *r) {
    size_t n = 0;
    for (size_t k = 0; k < r->n_exs; k++)
        if (r->exs[k]) n += r->exs[k]->running(r->exs[k]);
    return n;
}

static void signal_jobs(Runner *r, int sig) {
    for (size_t k = 0; k < r->n_exs; k++)
        if (r->exs[k]) r->exs[k]->signal(r->exs[k], sig);
}

/* A run whose stages use several executors waits on each in turn, the first at most this long. */
#define MIXED_WAIT_MS 10

/* Waits for ends of jobs on every executor with running jobs (see Executor.wait). */
static int wait_jobs(Runner *r, int timeout_ms, int wake_fd, ExecEvent *events, size_t max, Err *err) {
    size_t busy = 0, first = 0;
    for (size_t k = 0; k < r->n_exs; k++)
        if (r->exs[k] && r->exs[k]->running(r->exs[k]) && !busy++) first = k;
    if (busy == 1) return r->exs[first]->wait(r->exs[first], timeout_ms, wake_fd, events, max, err);
    if (!busy) { /* nothing to wait for but a signal */
        struct pollfd p = {.fd = wake_fd, .events = POLLIN};
        if (wake_fd >= 0 && poll(&p, 1, timeout_ms) < 0 && errno != EINTR) return err_set(err, "poll: %s", strerror(errno));
        return 0;
    }
    int got = 0, slice = timeout_ms < 0 || timeout_ms > MIXED_WAIT_MS ? MIXED_WAIT_MS : timeout_ms;
    for (size_t k = first; k < r->n_exs && (size_t)got < max; k++) {
        Executor *ex = r->exs[k];
        if (!ex || !ex->running(ex)) continue;
        int n = ex->wait(ex, k == first ? slice : 0, wake_fd, events + got, max - (size_t)got, err);
        if (n < 0) return -1;
        got += n;
    }
    return got;
}

/* Which executor each stage uses; fails on an unknown default (`dynn run --executor`). */
static int plan_executors(Runner *r, Err *err) {
    const char *fallback = r->opt->executor ? r->opt->executor : "local";
    if (!executor_type_find(fallback)) {
        char msg[600];
        return err_set(err, "--executor: %s", executor_unknown_message(fallback, msg, sizeof msg));
    }
    size_t n = r->spec->n_stages ? r->spec->n_stages : 1;
    r->exs = calloc(n, sizeof *r->exs);
    r->ex_names = calloc(n, sizeof *r->ex_names);
    r->stage_ex = calloc(n, sizeof *r->stage_ex);
    if (!r->exs || !r->ex_names || !r->stage_ex) return err_set(err, "out of memory");
    for (size_t s = 0; s < r->spec->n_stages; s++) {
        const char *name = executor_for_stage(r->spec->stages[s].type, r->spec->stages[s].executor, fallback);
        size_t k = 0;
        while (k < r->n_exs && strcmp(r->ex_names[k], name)) k++;
        if (k == r->n_exs) r->ex_names[r->n_exs++] = name;
        r->stage_ex[s] = k;
    }
    return 0;
}

/* The next instance to try: one whose board came free first (board_claims.h), else the queue's head. */
static size_t next_queued(const Runner *r, int *woken) {
    size_t w = board_claims_peek_woken(&r->boards);
    *woken = w != BOARD_NONE;
    if (*woken) return w;
    return r->runq_head < r->runq_tail ? r->runq[r->runq_head] : BOARD_NONE;
}

static void take_queued(Runner *r, int woken) {
    if (woken) board_claims_pop_woken(&r->boards);
    else r->runq_head++;
}

/* Queued instances start in order while their executor admits them (and a job slot is free); one
 * whose board another running instance holds waits on that board, and the rest go on. */
static int start_ready(Runner *r, Err *err) {
    size_t i;
    int woken;
    while ((i = next_queued(r, &woken)) != BOARD_NONE) {
        if (halted(r)) {
            take_queued(r, woken);
            runner_set_state(r, i, NODE_SKIPPED);
            continue;
        }
        if (!board_claims_free_for(&r->boards, i)) {
            take_queued(r, woken);
            board_claims_park(&r->boards, i);
            continue;
        }
        if (!r->n_free_slots) break; /* never more than -j at once: each job has a slot's work files */
        Executor *ex = runner_executor(r, i, err);
        if (!ex) return -1;
        ExecJob job = runner_job(r, i);
        ExecLoad load = {.running = running_jobs(r), .jobs = (size_t)r->jobs, .threads_in_use = r->threads_in_use,
                         .budget = r->budget};
        if (!ex->admit(ex, &job, &load)) {
            if (!load.running)
                return err_set(err, "executor '%s' does not admit stage '%s' although nothing runs", ex->name, job.name);
            break;
        }
        take_queued(r, woken);
        if (runner_start_job(r, i, err)) return -1;
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
        signal_jobs(r, SIGTERM);
    } else if (!r->hard_killed) {
        r->hard_killed = 1;
        signal_jobs(r, SIGKILL);
    }
    last_signal = 0;
}

static double kill_grace(const Runner *r) {
    return r->opt->kill_grace_s > 0 ? r->opt->kill_grace_s : EXECUTOR_KILL_GRACE_MS / 1000.0;
}

static int loop(Runner *r, Err *err) {
    ExecEvent events[256];
    size_t max_events = sizeof events / sizeof *events;
    double grace = kill_grace(r);
    for (;;) {
        run_note_beat(&r->note, provenance_now());
        /* records of finished stages are committed before their users start: the aggregate and
         * report stages read them from the database */
        if (resolve_ready(r, err) || runner_flush(r, err) || start_ready(r, err) || runner_flush(r, err)) return -1;
        if (!running_jobs(r) && r->ready_head == r->ready_tail && r->runq_head == r->runq_tail &&
            board_claims_peek_woken(&r->boards) == BOARD_NONE)
            return 0;
        /* wakes up for the heartbeat at least */
        int timeout = r->stopping ? 100 : r->opt->observer.tick ? (r->opt->tick_ms > 0 ? r->opt->tick_ms : 100) : (int)(RUN_NOTE_BEAT_S * 1000);
        int got = wait_jobs(r, timeout, signal_pipe[0], events, max_events, err);
        if (got < 0) return -1;
        on_signal(r);
        if (r->stopping && !r->hard_killed && provenance_now() - r->stop_time > grace) {
            r->hard_killed = 1;
            signal_jobs(r, SIGKILL);
        }
        for (int k = 0; k < got; k++) runner_finish_job(r, events[k].id, events[k].status);
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
    /* the boards: read from the `platform:` params the way their stages read them, from the
     * working directory */
    int rc = board_claims_init(&r->boards, dag->n, err) || board_claims_from_dag(&r->boards, dag, selected, ".", err) ? -1 : 0;
    free(selected);
    if (rc) return -1;
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
    snprintf(r->db_path, sizeof r->db_path, "%s", db_abs);
    fs_dirname(db_abs, r->state_dir, sizeof r->state_dir);
    if (fs_mkdir_p(r->state_dir, err)) return -1;
    if (db_open(db_abs, &r->db, err)) return -1;
    int reaped;
    if (run_note_reap(r->db, r->state_dir, &reaped, err)) return -1;
    remove_stale_work(r);
    if (uuid_v4(r->uuid, err)) return -1;
    snprintf(r->work_dir, sizeof r->work_dir, "%s/work/%s", r->state_dir, r->uuid);
    snprintf(r->log_dir, sizeof r->log_dir, "%s/logs/%s", r->state_dir, r->uuid);
    if (fs_mkdir_p(r->work_dir, err) || run_note_create(&r->note, r->work_dir, err)) return -1; /* logs/<run>/ is made when a first stage starts */
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
    if (running_jobs(r)) { /* only after an internal error: do not leave stages behind */
        signal_jobs(r, SIGKILL);
        ExecEvent ev[64];
        while (running_jobs(r) && wait_jobs(r, 1000, -1, ev, 64, NULL) >= 0) {
        }
    }
    for (size_t k = 0; k < r->n_exs; k++)
        if (r->exs[k]) r->exs[k]->destroy(r->exs[k]);
    free(r->exs);
    free(r->ex_names);
    free(r->stage_ex);
    run_note_close(&r->note);
    if (r->work_dir[0] && !r->note_kept) fs_remove_tree(r->work_dir, NULL); /* else removed once the run is over */
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
    board_claims_free(&r->boards);
    regex_free(r->force);
    db_close(r->db);
}

/* After an internal error (a database write that failed, a stage that could not start): the
 * running stages are stopped like after Ctrl-C and end KILLED, saying why. */
static void stop_after_error(Runner *r, const char *why) {
    size_t n = 0, *was = r->exs ? calloc(r->dag->n ? r->dag->n : 1, sizeof *was) : NULL;
    for (size_t i = 0; was && i < r->dag->n; i++)
        if (r->nodes[i].selected && r->nodes[i].state == NODE_RUNNING) was[n++] = i;
    if (running_jobs(r)) {
        r->stopping = 1;
        signal_jobs(r, SIGTERM);
        double t0 = provenance_now();
        int hard = 0, got;
        ExecEvent events[64];
        while (running_jobs(r)) {
            if (!hard && provenance_now() - t0 > kill_grace(r)) signal_jobs(r, SIGKILL), hard = 1;
            if ((got = wait_jobs(r, 100, -1, events, 64, NULL)) < 0) break; /* cleanup() kills them */
            for (int k = 0; k < got; k++) runner_finish_job(r, events[k].id, events[k].status);
        }
    }
    char msg[sizeof ((Err *)0)->msg + 32];
    snprintf(msg, sizeof msg, "the run stopped: %s", why);
    for (size_t k = 0; k < n; k++) {
        RunNode *node = &r->nodes[was[k]];
        if (node->state == NODE_FINISHED) continue;
        free(node->error);
        node->error = strdup(msg);
        if (node->state == NODE_RUNNING) {
            node->ended = provenance_now();
            runner_set_state(r, was[k], NODE_KILLED);
        }
    }
    free(was);
}

static int finish_run(Runner *r, const char *status, Err *err) {
    if (!r->run_id) return 0;
    if (db_begin(r->db, err)) return -1;
    if (db_finish_run(r->db, r->run_id, status, provenance_now(), err) || db_commit(r->db, err)) {
        db_rollback(r->db);
        return -1;
    }
    return 0;
}

/* The pending state changes and the run's end, retried once after emptying the write-ahead log
 * (what a full disk may need). When the database still refuses and the run is recorded, the end
 * goes to the runner's note, read by the next command that opens the database (run_note.h). */
static int record_end(Runner *r, const char *status, const char *cause, Err *err) {
    for (int attempt = 0;; attempt++) {
        if (runner_flush(r, err) == 0 && finish_run(r, status, err) == 0) return 0;
        if (attempt) break;
        db_checkpoint(r->db, NULL);
    }
    if (r->run_id && run_note_write_end(&r->note, "FAILED", provenance_now(), cause ? cause : err->msg, NULL) == 0)
        r->note_kept = 1;
    return -1;
}

int runner_run(const Spec *spec, const Dag *dag, const RunOptions *opt, RunResult *result, Err *err) {
    memset(result, 0, sizeof *result);
    Runner r = {.spec = spec, .dag = dag, .opt = opt, .note = {.fd = -1}};
    r.jobs = opt->jobs > 0 ? opt->jobs : 1;
    if (r.jobs > RUNNER_MAX_JOBS) r.jobs = RUNNER_MAX_JOBS;
    if ((size_t)r.jobs > dag->n && dag->n) r.jobs = (int)dag->n; /* no more job slots than instances */
    r.budget = opt->threads > 0 ? opt->threads : 1;
    int rc = prepare(&r, err);
    if (!rc) rc = plan_executors(&r, err);
    if (!rc) rc = open_state(&r, err);
    r.rs.nodes = r.nodes;
    if (!rc) rc = catch_signals(err);
    if (!rc && opt->observer.started) opt->observer.started(opt->observer.ctx, &r.rs);
    int looped = !rc;
    if (looped) rc = loop(&r, err);
    if (looped && rc) stop_after_error(&r, err->msg);
    for (size_t i = 0; looped && i < dag->n; i++)
        if (r.nodes[i].selected && r.nodes[i].state == NODE_QUEUED) runner_set_state(&r, i, NODE_SKIPPED);
    const char *status = rc ? "FAILED" : final_status(&r);
    Err werr;
    /* a run that failed before its first database write was never recorded: nothing to end */
    if (r.db && (!rc || r.run_id) && record_end(&r, status, rc ? err->msg : NULL, &werr)) {
        /* the run's end is lost to the database (or kept in the note for the next command) */
        char first[sizeof err->msg];
        snprintf(first, sizeof first, "%s", rc ? err->msg : werr.msg);
        if (r.note_kept)
            err_set(err, "%s (the run's end is kept in %s and recorded by the next dynn command on the database)", first, r.note.path);
        else if (rc)
            err_set(err, "%s (the run's end could not be recorded either: %s)", first, werr.msg);
        else
            err_set(err, "%s", first);
        rc = -1, status = "FAILED";
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
