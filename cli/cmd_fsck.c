/* cli/cmd_fsck.c — `dynn fsck [--repair] [--json] [--state-dir DIR | --db PATH]`: checks a state
 * directory — every store object against the hash its name claims, every artifact row of a cache
 * entry against a present, sound object, the results database (SQLite's integrity and foreign-key
 * checks), runs left RUNNING by a runner that is gone, temp files of store copies — and with
 * --repair moves bad objects to the quarantine, removes temp files whose writer is gone, voids the
 * cache entries whose objects are missing or bad and marks dead runs KILLED. Results rows are never
 * deleted; database corruption is reported, not repaired. Store rules: pipeline/store.h. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "util/provenance.h"
#include "pipeline/store.h"
#include "util/fs.h"
#include "util/grow.h"
#include "util/json_out.h"
#include "util/strmap.h"

static const char summary[] =
    "  Checks a state directory: every object of store/ against the hash its name claims, every artifact\n"
    "  row of a cache entry (a FINISHED stage) against a present, sound object, the results database\n"
    "  (PRAGMA integrity_check and foreign_key_check), runs left RUNNING by a runner that is gone, and temp\n"
    "  files of store copies (store/ab/<hash>.tmp.<pid>), and resume/<key> (what an interrupted stage left\n"
    "  to go on from: stale once a stage with that key has finished). One line per problem on stdout, then a\n"
    "  summary; a temp file whose writer still runs and a resume directory of an unfinished stage are\n"
    "  listed, not problems.\n";
static const char epilog[] =
    "  Exit status: 0 clean, 1 problems found (also when --repair fixed them all), 2 usage error.\n";

typedef struct Problem {
    const char *kind; /* bad-object, stray, dead-temp, missing-object, bad-artifact, database, dead-run, store,
                         stale-resume */
    char *subject;    /* a path below the state directory, "run UUID…", or the database's path */
    char *message;
    char *action;     /* what --repair did, or NULL */
} Problem;

typedef struct ObjectResult {
    char hash[SHA256_HEX_LEN + 1];
    StoreState state;
    uint64_t size;
} ObjectResult;

/* resume/<key>: what an interrupted stage left to go on from (StageRun.resume_dir). */
typedef struct Resumable {
    char rel[SHA256_HEX_LEN + 16];
    unsigned long long bytes;
} Resumable;

typedef struct Fsck {
    const char *state_dir;
    int repair;
    Problem *problems;
    size_t n_problems, cap_problems;
    StoreEntry *in_flight; /* temp files whose writer runs */
    size_t n_in_flight, cap_in_flight;
    ObjectResult *objects;
    size_t n_objects, cap_objects;
    size_t n_artifacts, n_repaired;
    Resumable *resumable; /* kept: their stages have not finished */
    size_t n_resumable, cap_resumable;
    int oom;
} Fsck;

static const char *plural(long long n) { return n == 1 ? "" : "s"; }

/* One more item of an array of f's, or NULL with f->oom set. */
static void *grow(Fsck *f, void *items_ptr, size_t *n, size_t *cap, size_t size) {
    void *slot = grow_one(items_ptr, n, cap, size);
    if (!slot) f->oom = 1;
    return slot;
}

static void problem(Fsck *f, const char *kind, const char *subject, const char *message, const char *action) {
    Problem *p = grow(f, &f->problems, &f->n_problems, &f->cap_problems, sizeof *p);
    if (!p) return;
    *p = (Problem){.kind = kind, .subject = strdup(subject), .message = strdup(message), .action = action ? strdup(action) : NULL};
    if (!p->subject || !p->message || (action && !p->action)) f->oom = 1;
    if (action) f->n_repaired++;
}

/* ---- the store ---- */

static void check_object(Fsck *f, const StoreEntry *e) {
    StoreCheck c;
    StoreState s = store_check(f->state_dir, e->rel, STORE_ANY_SIZE, f->repair, &c);
    ObjectResult *o = grow(f, &f->objects, &f->n_objects, &f->cap_objects, sizeof *o);
    if (o) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(o->hash, sizeof o->hash, "%s", e->hash);
        o->state = s;
        o->size = s == STORE_OK && !store_abs(f->state_dir, e->rel, path, sizeof path) && !stat(path, &st) ? (uint64_t)st.st_size : 0;
    }
    if (s != STORE_BAD) return;
    if (c.quarantined[0] || !c.fate[0]) {
        problem(f, "bad-object", e->rel, c.why, c.quarantined[0] ? c.fate : NULL);
        return;
    }
    char msg[sizeof c.why + sizeof c.fate + 2]; /* --repair could not move it: say why */
    snprintf(msg, sizeof msg, "%s; %s", c.why, c.fate);
    problem(f, "bad-object", e->rel, msg, NULL);
}

static void in_flight(Fsck *f, const StoreEntry *e) {
    StoreEntry *t = grow(f, &f->in_flight, &f->n_in_flight, &f->cap_in_flight, sizeof *t);
    if (t) *t = *e;
}

static int visit(void *ctx, const StoreEntry *e) {
    Fsck *f = ctx;
    Err err;
    char msg[256], action[PATH_MAX + 64] = "", moved[PATH_MAX] = "";
    int rc;
    switch (e->kind) {
    case STORE_ENTRY_OBJECT: check_object(f, e); break;
    case STORE_ENTRY_TEMP:
        if (store_temp_alive(e)) {
            in_flight(f, e);
            break;
        }
        snprintf(msg, sizeof msg, "temp file of a store copy whose writer (pid %ld) is gone", e->pid);
        if (f->repair && (rc = store_remove_dead_temp(f->state_dir, e, &err)) != 1) {
            if (rc == 0) { /* its pid runs again: not ours to judge */
                in_flight(f, e);
                break;
            }
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "; not removed: %.160s", err.msg);
        } else if (f->repair) {
            snprintf(action, sizeof action, "removed");
        }
        problem(f, "dead-temp", e->rel, msg, action[0] ? action : NULL);
        break;
    case STORE_ENTRY_STRAY:
        snprintf(msg, sizeof msg, "not a store object (objects are store/<2 hex>/<62 hex>)");
        if (f->repair) {
            rc = store_quarantine_stray(f->state_dir, e, moved, sizeof moved, &err);
            if (rc == 0 && moved[0]) snprintf(action, sizeof action, "moved to %s", moved);
            else snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "; not moved: %.160s", rc ? err.msg : "it is gone");
        }
        problem(f, "stray", e->rel, msg, action[0] ? action : NULL);
        break;
    }
    return f->oom;
}

/* ---- the database ---- */

/* A database problem; db/ messages start with the database's path, which is the subject already. */
static void db_problem(Fsck *f, const char *db_path, const char *msg) {
    size_t len = strlen(db_path);
    if (!strncmp(msg, db_path, len) && !strncmp(msg + len, ": ", 2)) msg += len + 2;
    problem(f, "database", db_path, msg, NULL);
}

static void check_artifacts(Fsck *f, Db *db, const char *db_path) {
    DbCacheArtifact *rows;
    size_t n;
    Err err;
    if (db_cache_artifacts(db, &rows, &n, &err)) {
        db_problem(f, db_path, err.msg);
        return;
    }
    f->n_artifacts = n;
    StrMap seen = {0};
    for (size_t i = 0; i < f->n_objects && !f->oom; i++)
        if (strmap_put(&seen, f->objects[i].hash, i)) f->oom = 1;
    int began = 0;
    for (size_t i = 0; i < n && !f->oom; i++) {
        const DbCacheArtifact *a = &rows[i];
        char rel[STORE_REL_MAX], subject[512], msg[512];
        size_t k;
        const char *kind = "bad-artifact";
        store_rel(a->hash, rel);
        snprintf(subject, sizeof subject, "run %.8s stage '%s' artifact '%s'", a->run, a->stage, a->name);
        if (strcmp(rel, a->path)) {
            snprintf(msg, sizeof msg, "path '%s' is not the object of its hash %.16s…", a->path, a->hash);
        } else if (strmap_get(&seen, a->hash, &k) && f->objects[k].state == STORE_OK) {
            if (f->objects[k].size == (uint64_t)a->size) continue;
            snprintf(msg, sizeof msg, "%s has %llu bytes, the row says %lld", a->path, (unsigned long long)f->objects[k].size,
                     (long long)a->size);
        } else {
            /* missing or bad during the walk: look again, a concurrent run may have stored it since */
            StoreCheck c;
            int was_bad = strmap_get(&seen, a->hash, &k) && f->objects[k].state == STORE_BAD; /* and maybe moved */
            StoreState now = store_check(f->state_dir, a->path, (uint64_t)a->size, f->repair, &c);
            if (now == STORE_OK) continue;
            if (now == STORE_MISSING && !was_bad) kind = "missing-object";
            snprintf(msg, sizeof msg, "%s %s", a->path, strcmp(kind, "missing-object") ? "does not match its hash (see bad-object above)" : "is not in the store");
        }
        const char *action = NULL;
        if (f->repair && (began || db_begin(db, &err) == 0)) {
            began = 1;
            if (db_void_cache_entry(db, a->stage_id, msg, provenance_now(), &err) == 0) action = "cache entry voided";
        }
        problem(f, kind, subject, msg, action);
    }
    strmap_free(&seen);
    if (began && db_commit(db, &err)) {
        db_rollback(db);
        db_problem(f, db_path, err.msg);
    }
    db_cache_artifacts_free(rows, n);
}

static void check_runs(Fsck *f, Db *db, const char *db_path) {
    DbDeadRun *runs;
    size_t n;
    Err err;
    if (db_dead_runs(db, provenance_run_alive, NULL, &runs, &n, &err)) {
        db_problem(f, db_path, err.msg);
        return;
    }
    int reaped = 0;
    if (n && f->repair && db_reap_dead_runs(db, provenance_run_alive, NULL, &reaped, &err))
        db_problem(f, db_path, err.msg);
    for (size_t i = 0; i < n; i++) {
        char subject[64], msg[512];
        snprintf(subject, sizeof subject, "run %s", runs[i].uuid);
        snprintf(msg, sizeof msg, "left RUNNING by pid %lld on %s, which is gone (%lld stage%s RUNNING)", runs[i].pid,
                 runs[i].host, runs[i].n_running, plural(runs[i].n_running));
        problem(f, "dead-run", subject, msg, reaped ? "marked KILLED" : NULL);
    }
    free(runs);
}

/* resume/<key>: kept while its stage has not finished; one whose key has a finished stage in the
 * database (the runner removes it then, unless it died in between) is stale: --repair removes it. */
static void check_resume(Fsck *f, Db *db, const char *db_path) {
    char root[PATH_MAX];
    if (fs_join(root, sizeof root, f->state_dir, "resume")) return;
    DIR *d = opendir(root);
    if (!d) return;
    const struct dirent *e;
    while ((e = readdir(d)) && !f->oom) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[PATH_MAX], rel[SHA256_HEX_LEN + 16];
        snprintf(rel, sizeof rel, "resume/%.*s", SHA256_HEX_LEN, e->d_name);
        if (fs_join(path, sizeof path, root, e->d_name)) continue;
        int64_t stage_id;
        DbArtifact *arts = NULL;
        size_t n_arts = 0;
        Err err;
        int finished = db ? db_find_cached(db, e->d_name, &stage_id, &arts, &n_arts, &err) : 0;
        db_artifacts_free(arts, n_arts);
        if (finished < 0) {
            db_problem(f, db_path, err.msg);
        } else if (finished) {
            int removed = f->repair && fs_remove_tree(path, &err) == 0;
            problem(f, "stale-resume", rel, "left by a stage that has finished since (its result is cached): nothing to go on from",
                    removed ? "removed" : NULL);
        } else {
            Resumable *r = grow(f, &f->resumable, &f->n_resumable, &f->cap_resumable, sizeof *r);
            if (r) {
                *r = (Resumable){0};
                snprintf(r->rel, sizeof r->rel, "%s", rel);
                fs_dir_files(path, &r->bytes);
            }
        }
    }
    closedir(d);
}

static void check_database(Fsck *f, const char *db_path) {
    if (!fs_exists(db_path)) return;
    Db *db;
    Err err;
    if (db_open(db_path, &db, &err)) {
        db_problem(f, db_path, err.msg);
        return;
    }
    char **msgs = NULL;
    size_t n = 0;
    if (db_integrity_problems(db, &msgs, &n, &err)) db_problem(f, db_path, err.msg);
    for (size_t i = 0; i < n; i++) db_problem(f, db_path, msgs[i]);
    db_strings_free(msgs, n);
    check_artifacts(f, db, db_path);
    check_runs(f, db, db_path);
    check_resume(f, db, db_path);
    db_close(db);
}

/* ---- output ---- */

static void print_text(const Fsck *f, int has_db) {
    for (size_t i = 0; i < f->n_problems; i++) {
        const Problem *p = &f->problems[i];
        printf("%s %s: %s%s%s\n", p->kind, p->subject, p->message, p->action ? "; " : "", p->action ? p->action : "");
    }
    for (size_t i = 0; i < f->n_in_flight; i++)
        printf("in-flight %s: temp file of a store copy by pid %ld, still running (kept)\n", f->in_flight[i].rel,
               f->in_flight[i].pid);
    for (size_t i = 0; i < f->n_resumable; i++)
        printf("resumable %s: %llu bytes left by an interrupted stage: its next run goes on from them (kept; remove the "
               "directory to start that stage afresh)\n", f->resumable[i].rel, f->resumable[i].bytes);
    long long objects = (long long)f->n_objects, rows = (long long)f->n_artifacts, temps = (long long)f->n_in_flight,
              problems = (long long)f->n_problems;
    printf("fsck %s: %lld object%s, %lld artifact row%s%s, %lld temp file%s in flight: ", f->state_dir, objects,
           plural(objects), rows, plural(rows), has_db ? "" : " (no results database)", temps, plural(temps));
    if (!problems) printf("clean\n");
    else if (f->repair) printf("%lld problem%s, %zu repaired\n", problems, plural(problems), f->n_repaired);
    else printf("%lld problem%s (dynn fsck --repair fixes what it can)\n", problems, plural(problems));
}

static void print_json(const Fsck *f, int has_db) {
    JsonOut j;
    json_init(&j, stdout);
    json_object_begin(&j);
    json_key(&j, "format"), json_string(&j, "dynn-fsck");
    json_key(&j, "version"), json_int(&j, 1);
    json_key(&j, "state_dir"), json_string(&j, f->state_dir);
    json_key(&j, "repair"), json_bool(&j, f->repair);
    json_key(&j, "clean"), json_bool(&j, f->n_problems == 0);
    json_key(&j, "database"), json_bool(&j, has_db);
    json_key(&j, "objects"), json_int(&j, (long long)f->n_objects);
    json_key(&j, "artifacts"), json_int(&j, (long long)f->n_artifacts);
    json_key(&j, "problems");
    json_array_begin(&j);
    for (size_t i = 0; i < f->n_problems; i++) {
        const Problem *p = &f->problems[i];
        json_object_begin(&j);
        json_key(&j, "kind"), json_string(&j, p->kind);
        json_key(&j, "subject"), json_string(&j, p->subject);
        json_key(&j, "message"), json_string(&j, p->message);
        json_key(&j, "repaired"), json_bool(&j, p->action != NULL);
        json_key(&j, "action");
        if (p->action) json_string(&j, p->action);
        else json_null(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_key(&j, "in_flight");
    json_array_begin(&j);
    for (size_t i = 0; i < f->n_in_flight; i++) {
        json_object_begin(&j);
        json_key(&j, "path"), json_string(&j, f->in_flight[i].rel);
        json_key(&j, "pid"), json_int(&j, f->in_flight[i].pid);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_key(&j, "resumable");
    json_array_begin(&j);
    for (size_t i = 0; i < f->n_resumable; i++) {
        json_object_begin(&j);
        json_key(&j, "path"), json_string(&j, f->resumable[i].rel);
        json_key(&j, "bytes"), json_int(&j, (long long)f->resumable[i].bytes);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_finish(&j);
}

static void fsck_free(Fsck *f) {
    for (size_t i = 0; i < f->n_problems; i++) free(f->problems[i].subject), free(f->problems[i].message), free(f->problems[i].action);
    free(f->problems);
    free(f->in_flight);
    free(f->objects);
    free(f->resumable);
}

int cmd_fsck(int argc, char **argv) {
    const char *state_dir = NULL, *db_path = NULL;
    int json = 0, repair = 0;
    const CliOpt opts[] = {
        {.name = "repair", .kind = CLIOPT_FLAG, .dest = &repair,
         .help = "move bad objects and strays to DIR/quarantine/, remove temp files whose writer\n"
                 "is gone, void the cache entries whose objects are missing or bad (those stages\n"
                 "run again; no results row is deleted), mark runs of dead runners KILLED, remove\n"
                 "the resume directories of stages that have finished since.\n"
                 "Database corruption is reported, never repaired"},
        {.name = "state-dir", .kind = CLIOPT_STRING, .metavar = "DIR", .dest = &state_dir,
         .help = "the state directory (default .dynn); its database is DIR/results.db"},
        {.name = "db", .kind = CLIOPT_STRING, .metavar = "PATH", .dest = &db_path,
         .help = "the results database; the state directory is its directory"},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "one JSON object on stdout (docs/FORMATS.md, \"dynn fsck\")"},
    };
    const CliOptCommand c = {.name = "fsck", .synopsis = "[--repair] [--json] [--state-dir DIR | --db PATH]",
                             .summary = summary, .epilog = epilog, .opts = opts, .n_opts = sizeof opts / sizeof *opts};
    int prc = cliopt_main(&c, argc, argv);
    if (prc >= 0) return prc;
    if (state_dir && db_path) {
        fprintf(stderr, "dynn fsck: give --state-dir or --db, not both (the state directory is the database's directory)\n");
        return 2;
    }
    char dir[PATH_MAX], db_file[PATH_MAX];
    if (db_path) {
        fs_dirname(db_path, dir, sizeof dir);
        snprintf(db_file, sizeof db_file, "%s", db_path);
    } else {
        fs_dirname(DB_DEFAULT_PATH, dir, sizeof dir);
        if (state_dir) snprintf(dir, sizeof dir, "%s", state_dir);
        if (fs_join(db_file, sizeof db_file, dir, "results.db")) {
            fprintf(stderr, "dynn fsck: --state-dir: path too long\n");
            return 2;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "dynn fsck: %s: no state directory here (run an experiment first, or pass --state-dir DIR)\n", dir);
        return 2;
    }
    Fsck f = {.state_dir = dir, .repair = repair};
    Err err;
    if (store_walk(dir, visit, &f, &err) < 0) problem(&f, "store", "store", err.msg, NULL);
    int has_db = fs_exists(db_file);
    if (!f.oom) check_database(&f, db_file);
    if (!has_db && !f.oom) check_resume(&f, NULL, db_file); /* none stale without a database to say so */
    if (f.oom) {
        fprintf(stderr, "dynn fsck: out of memory\n");
        fsck_free(&f);
        return 1;
    }
    if (json) print_json(&f, has_db);
    else print_text(&f, has_db);
    int rc = f.n_problems ? 1 : 0;
    fsck_free(&f);
    return rc;
}
