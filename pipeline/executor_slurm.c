/* pipeline/executor_slurm.c — the `slurm` executor: one `sbatch` job per stage instance, watched
 * through files it writes and Slurm's own commands (see executor_slurm.h).
 *
 * The executor's directory W (`<state dir>/slurm`, or --slurm-workdir) holds one directory per
 * stage cache key, W/jobs/<key>/: the job script, a copy of the stage description whose records
 * file, scratch and slot directory point into it, the records, the Slurm job id (`jobid`, written
 * right after sbatch answers) and the script's exit status (`exit`, written by the job when
 * `dynn stage-exec` returns). The job name is `dynn-<key>`. Its output goes to the stage log.
 *
 * Ends of jobs: `exit` files are looked for every few milliseconds (a stat per job); Slurm is asked
 * at most every SLURM_POLL_MS, one call for all jobs: `squeue` for those still queued or running,
 * then for the others `sacct` (when accounting is configured), else `scontrol -o show job`. A job
 * whose records are complete hands them to the runner (copied to the runner's records file). A job
 * that ended in Slurm without records (TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, PREEMPTED, a
 * FAILED script) gets a records file written here, failing the stage with Slurm's state, reason and
 * the log's path; NODE_FAIL and PREEMPTED are resubmitted up to --slurm-retries times.
 *
 * A runner killed with SIGKILL leaves W/jobs/<key>/ behind; the next run that submits the same key
 * takes the job over instead of submitting it again, when it is still queued or running or left
 * complete, successful records (the job id from `jobid`, or found by its name when the runner died
 * between sbatch and writing it). Directories of jobs whose end was handed to the runner are removed
 * when the executor is destroyed (after the run's last database write).
 *
 * With its first job the executor submits a probe job that writes a file into W (and checks the
 * state directory); jobs are held (not submitted) until the runner sees that file, and a runner that
 * does not see it once the probe ended stops with one line naming the directory. Waiting for it is
 * part of `wait`, so a Ctrl-C meanwhile stops the run (the probe is cancelled, held jobs fail). Stop
 * signals (Ctrl-C, SIGTERM) become one `scancel` of every job; SIGKILL (the grace period is over)
 * cancels again and reports every job ended. The Slurm commands run in their own process group, so a
 * Ctrl-C at the terminal reaches only the runner. */
#include "pipeline/executor_slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/records.h"
#include "pipeline/stage_desc.h"
#include "platforms/shell_quote.h"
#include "util/fs.h"
#include "util/provenance.h"

extern char **environ;

#define SCAN_MS 20            /* exit files looked for at most this often */
#define PROBE_WAIT_S 10.0     /* after the probe job ended, how long its file may take to appear */
#define QUERY_FAILURES_MAX 60 /* consecutive failed squeue calls before the run stops */

static SlurmSettings settings;

void executor_slurm_configure(const SlurmSettings *s) {
    if (s) settings = *s;
    else memset(&settings, 0, sizeof settings);
}

typedef struct SJob {
    size_t id;            /* the runner's instance index */
    char jobid[32];       /* Slurm's */
    char *dir;            /* W/jobs/<key> */
    char *records;        /* the runner's records file */
    char *log;
    char *name;
    char *key;
    char state[48];       /* last state Slurm gave ("" unknown); final ones stay */
    char reason[96];
    int gone;             /* Slurm no longer knows the job */
    int held;             /* not submitted yet: waiting for the probe */
    int retries;
    const Resources *res;
    int threads;
} SJob;

typedef struct Slurm {
    Executor base;
    char *exe;
    SJob *jobs;
    size_t n_jobs, cap_jobs;
    char **ended_dirs;    /* removed at destroy */
    size_t n_ended, cap_ended;
    char workdir[PATH_MAX - 200];
    int ready;            /* workdir made, probe submitted */
    int probe_state;      /* 0 waiting, 1 seen (jobs go to Slurm), -1 failed */
    char probe_id[32], probe_slurm[64];
    char probe_file[PATH_MAX];
    char state_dir[PATH_MAX - 200];
    double probe_ended, probe_asked;
    double last_query;
    int sacct;            /* 1 works, -1 accounting not configured, 0 not tried */
    int query_failures;
    int cancelled, abandoned;
} Slurm;

/* ---- running Slurm's commands ---- */

/* Runs argv (looked up in PATH) in its own process group with stdout and stderr into out. Returns
 * its exit status (128 + signal if killed), or -1 with err when it could not be started. */
static int run_tool(const char *const *argv, StrBuf *out, Err *err) {
    int p[2];
    if (pipe2(p, O_CLOEXEC)) return err_set(err, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawnattr_init(&at);
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGHUP);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(p[1]);
    if (rc) {
        close(p[0]);
        return err_set(err, "cannot start '%s': %s (is Slurm installed on this machine?)", argv[0], strerror(rc));
    }
    char buf[8192];
    for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        sb_append_len(out, buf, (size_t)n);
    }
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return err_set(err, "waiting for '%s': %s", argv[0], strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The last non-empty line of a tool's output, for messages. */
static const char *last_line(const StrBuf *sb, char *out, size_t size) {
    const char *text = sb_str(sb), *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == ' ')) end--;
    const char *start = end;
    while (start > text && start[-1] != '\n') start--;
    snprintf(out, size, "%.*s", (int)(end - start), start);
    if (!out[0]) snprintf(out, size, "no output");
    return out;
}

/* ---- words ---- */

void slurm_free_words(char **words, size_t n) {
    for (size_t i = 0; i < n; i++) free(words[i]);
    free(words);
}

static int push_word(char ***words, size_t *n, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int push_word(char ***words, size_t *n, size_t *cap, const char *fmt, ...) {
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **w = realloc(*words, c * sizeof *w);
        if (!w) return -1;
        *words = w, *cap = c;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&(*words)[*n], fmt, ap);
    va_end(ap);
    if (rc < 0) return -1;
    (*n)++;
    return 0;
}

int slurm_resource_options(const Resources *r, int threads, char ***words, size_t *n, Err *err) {
    size_t cap = *n;
    int bad = 0;
    int cpus = r->cpus > 0 ? r->cpus : threads > 0 ? threads : 1;
    bad |= push_word(words, n, &cap, "--cpus-per-task=%d", cpus);
    if (r->memory) bad |= push_word(words, n, &cap, "--mem=%lluM", (unsigned long long)((r->memory + (1u << 20) - 1) >> 20));
    if (r->time_s > 0) bad |= push_word(words, n, &cap, "--time=%.0f", ceil(r->time_s / 60.0));
    if (r->gpus > 0) bad |= push_word(words, n, &cap, "--gpus=%d", r->gpus);
    if (r->partition[0]) bad |= push_word(words, n, &cap, "--partition=%s", r->partition);
    if (r->account[0]) bad |= push_word(words, n, &cap, "--account=%s", r->account);
    if (r->qos[0]) bad |= push_word(words, n, &cap, "--qos=%s", r->qos);
    if (r->constraint[0]) bad |= push_word(words, n, &cap, "--constraint=%s", r->constraint);
    for (size_t i = 0; r->sbatch && i < r->sbatch->len; i++) bad |= push_word(words, n, &cap, "%s", r->sbatch->items[i]->str);
    return bad ? err_set(err, "out of memory") : 0;
}

static const char *const final_states[] = {"COMPLETED", "FAILED",   "TIMEOUT",  "CANCELLED", "OUT_OF_MEMORY",
                                           "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED"};

int slurm_state_final(const char *state) {
    for (size_t i = 0; i < sizeof final_states / sizeof *final_states; i++) {
        size_t len = strlen(final_states[i]);
        if (!strncmp(state, final_states[i], len) && (!state[len] || state[len] == ' ')) return 1;
    }
    return 0;
}

/* ---- files of a job ---- */

static void job_file(const SJob *j, const char *name, char *out, size_t size) { snprintf(out, size, "%s/%s", j->dir, name); }

/* The number in W/jobs/<key>/NAME (jobid, exit), or -1 when there is none. */
static long long read_number(const char *dir, const char *name) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long v = -1;
    if (fscanf(f, "%lld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

/* Writes text to dir/name through a temporary file and a rename (so a reader sees all or nothing). */
static int write_small(const char *dir, const char *name, const char *text, Err *err) {
    char path[PATH_MAX], tmp[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return err_set(err, "%s: %s", tmp, strerror(errno));
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) return err_set(err, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

/* The job's records are complete (the stage process ended and wrote them); ok set from them. */
static int records_complete(const SJob *j, int *ok) {
    char path[PATH_MAX];
    job_file(j, "records", path, sizeof path);
    Records rec;
    Err err;
    if (records_read(path, &rec, &err)) return 0;
    *ok = rec.ok;
    records_free(&rec);
    return 1;
}

/* One line at the end of the stage log (the runner's side). */
static void log_line(const char *log, const char *line) {
    FILE *f = fopen(log, "a");
    if (f) fprintf(f, "%s\n", line), fclose(f);
}

/* ---- the probe ---- */

/* Submits a tiny job that writes W/probe-<token> ("ok", or "no-state-dir" when the state directory
 * is not there on the node); jobs are held until the runner sees the file (check_probe). */
static int start_probe(Slurm *s, const SJob *first, Err *err) {
    char token[64];
    snprintf(token, sizeof token, "%ld-%lld", (long)getpid(), (long long)(provenance_now() * 1000));
    snprintf(s->probe_file, sizeof s->probe_file, "%.3900s/probe-%s", s->workdir, token);
    StrBuf cmd = {0}, out = {0};
    sb_append(&cmd, "if test -d ");
    shell_quote(&cmd, s->state_dir);
    sb_append(&cmd, "; then echo ok; else echo no-state-dir; fi > ");
    shell_quote(&cmd, s->probe_file);
    char **words = NULL;
    size_t n = 0, cap = 0;
    int bad = push_word(&words, &n, &cap, "sbatch");
    bad |= push_word(&words, &n, &cap, "--parsable");
    bad |= push_word(&words, &n, &cap, "--job-name=dynn-probe");
    bad |= push_word(&words, &n, &cap, "--output=/dev/null");
    bad |= push_word(&words, &n, &cap, "--time=1");
    bad |= push_word(&words, &n, &cap, "--cpus-per-task=1");
    if (first->res->partition[0]) bad |= push_word(&words, &n, &cap, "--partition=%s", first->res->partition);
    if (first->res->account[0]) bad |= push_word(&words, &n, &cap, "--account=%s", first->res->account);
    if (first->res->qos[0]) bad |= push_word(&words, &n, &cap, "--qos=%s", first->res->qos);
    for (size_t i = 0; i < settings.n_opts; i++) bad |= push_word(&words, &n, &cap, "%s", settings.opts[i]);
    bad |= push_word(&words, &n, &cap, "--wrap=%s", sb_str(&cmd));
    bad |= push_word(&words, &n, &cap, "%s", "");
    sb_free(&cmd);
    if (bad) {
        slurm_free_words(words, n);
        return err_set(err, "out of memory");
    }
    free(words[n - 1]), words[n - 1] = NULL; /* argv's end */
    int rc = run_tool((const char *const *)words, &out, err);
    slurm_free_words(words, n - 1);
    char line[512];
    if (rc != 0) {
        if (rc > 0) err_set(err, "slurm executor: the probe job could not be submitted: sbatch: %s", last_line(&out, line, sizeof line));
        sb_free(&out);
        return -1;
    }
    snprintf(s->probe_id, sizeof s->probe_id, "%s", sb_str(&out));
    s->probe_id[strcspn(s->probe_id, ";\n")] = '\0';
    sb_free(&out);
    return 0;
}

static int sbatch(Slurm *s, SJob *j, Err *err);

/* Whether the probe's file is here: 1 yes (the held jobs are submitted), 0 not yet, -1 the probe
 * failed (once: err says why; afterwards 0 with probe_state -1). Slurm is asked about the probe job
 * at most every poll interval; after it ended, its file has PROBE_WAIT_S to appear. */
static int check_probe(Slurm *s, Err *err) {
    if (s->probe_state) return s->probe_state > 0;
    struct stat st;
    double now = provenance_now();
    if (!stat(s->probe_file, &st) && st.st_size > 0) {
        char *text = NULL;
        size_t len = 0;
        int seen = fs_read_file(s->probe_file, &text, &len, NULL) == 0 && !strncmp(text, "ok", 2);
        free(text);
        unlink(s->probe_file);
        if (!seen) {
            s->probe_state = -1;
            return err_set(err, "slurm executor: the state directory %s is not visible from the compute nodes (probe job %s): put "
                                "it on shared storage (dynn run --db PATH moves it)", s->state_dir, s->probe_id);
        }
        s->probe_state = 1;
        for (size_t i = 0; i < s->n_jobs; i++)
            if (s->jobs[i].held) {
                s->jobs[i].held = 0;
                if (sbatch(s, &s->jobs[i], err)) return -1;
            }
        return 1;
    }
    if (s->probe_ended && now - s->probe_ended > PROBE_WAIT_S) {
        s->probe_state = -1;
        return err_set(err, "slurm executor: %s is not visible from the compute nodes: the probe job %s ended %s without "
                            "its file appearing here (put it on shared storage, or point --slurm-workdir at a shared directory)",
                       s->workdir, s->probe_id, s->probe_slurm);
    }
    int poll_ms = settings.poll_ms > 0 ? settings.poll_ms : SLURM_POLL_MS;
    if (!s->probe_ended && now - s->probe_asked >= poll_ms / 1000.0) {
        s->probe_asked = now;
        const char *q[] = {"squeue", "-h", "-o", "%T", "-j", s->probe_id, NULL};
        StrBuf o = {0};
        Err e;
        int qrc = run_tool(q, &o, &e);
        char state[64];
        snprintf(state, sizeof state, "%s", qrc == 0 ? sb_str(&o) : "");
        state[strcspn(state, "\n")] = '\0';
        sb_free(&o);
        if (qrc == 0 && (!state[0] || slurm_state_final(state))) {
            snprintf(s->probe_slurm, sizeof s->probe_slurm, "%s", state[0] ? state : "(it left the queue)");
            s->probe_ended = now;
        }
    }
    return 0;
}

/* W made and the probe submitted before the first job: W from the first job's state directory
 * unless --slurm-workdir gave it. */
static int get_ready(Slurm *s, const StageDesc *d, const SJob *first, Err *err) {
    if (s->ready) return 0;
    char wd[PATH_MAX];
    if (settings.workdir) {
        if (fs_absolute(settings.workdir, wd, sizeof wd, err)) return -1;
    } else {
        snprintf(wd, sizeof wd, "%s/slurm", d->state_dir);
    }
    if (strlen(wd) >= sizeof s->workdir || strlen(d->state_dir) >= sizeof s->state_dir)
        return err_set(err, "slurm executor: path too long: %s", wd);
    memcpy(s->workdir, wd, strlen(wd) + 1); /* the lengths were checked */
    memcpy(s->state_dir, d->state_dir, strlen(d->state_dir) + 1);
    char jobs[PATH_MAX];
    snprintf(jobs, sizeof jobs, "%s/jobs", s->workdir);
    Err why;
    if (fs_mkdir_p(jobs, &why)) return err_set(err, "slurm executor: cannot make its directory (--slurm-workdir): %s", why.msg);
    if (start_probe(s, first, err)) return -1;
    s->ready = 1;
    return 0;
}

/* ---- submitting ---- */

static int sbatch(Slurm *s, SJob *j, Err *err) {
    char script[PATH_MAX], desc[PATH_MAX], exitf[PATH_MAX];
    job_file(j, "job.sh", script, sizeof script);
    job_file(j, "desc.json", desc, sizeof desc);
    job_file(j, "exit", exitf, sizeof exitf);
    unlink(exitf);
    StrBuf sh = {0};
    sb_printf(&sh, "#!/bin/sh\n# dynn: stage '%s' (cache key %s), written by dynn run's slurm executor\n", j->name, j->key);
    sb_append(&sh, "DYNN_SLURM_JOB_ID=\"$SLURM_JOB_ID\"; export DYNN_SLURM_JOB_ID\n");
    shell_quote(&sh, s->exe);
    sb_append(&sh, " stage-exec");
    shell_quote_word(&sh, desc);
    sb_append(&sh, "\nrc=$?\necho $rc >");
    shell_quote_word(&sh, exitf);
    sb_append(&sh, ".tmp && mv -f");
    shell_quote_word(&sh, exitf);
    sb_append(&sh, ".tmp");
    shell_quote_word(&sh, exitf);
    sb_append(&sh, "\nexit $rc\n");
    Err why;
    int rc = fs_overwrite_file(script, sb_str(&sh), strlen(sb_str(&sh)), &why);
    sb_free(&sh);
    if (rc) return err_set(err, "slurm executor: %s", why.msg);
    chmod(script, 0755);
    char **words = NULL;
    size_t n = 0, cap = 0;
    int bad = push_word(&words, &n, &cap, "sbatch");
    bad |= push_word(&words, &n, &cap, "--parsable");
    bad |= push_word(&words, &n, &cap, "--job-name=dynn-%s", j->key);
    bad |= push_word(&words, &n, &cap, "--output=%s", j->log);
    bad |= push_word(&words, &n, &cap, "--open-mode=append");
    cap = n; /* slurm_resource_options grows from n */
    if (!bad && slurm_resource_options(j->res, j->threads, &words, &n, err)) bad = 1;
    cap = n;
    for (size_t i = 0; !bad && i < settings.n_opts; i++) bad |= push_word(&words, &n, &cap, "%s", settings.opts[i]);
    if (!bad) bad |= push_word(&words, &n, &cap, "%s", script);
    if (!bad) bad |= push_word(&words, &n, &cap, "%s", "");
    if (bad) {
        slurm_free_words(words, n);
        return err_set(err, "out of memory");
    }
    free(words[n - 1]), words[n - 1] = NULL;
    StrBuf out = {0};
    rc = run_tool((const char *const *)words, &out, err);
    slurm_free_words(words, n - 1);
    char line[512];
    if (rc != 0) {
        if (rc > 0) err_set(err, "stage '%s': sbatch refused the job: %s", j->name, last_line(&out, line, sizeof line));
        sb_free(&out);
        return -1;
    }
    snprintf(j->jobid, sizeof j->jobid, "%s", sb_str(&out));
    j->jobid[strcspn(j->jobid, ";\n ")] = '\0'; /* "ID" or "ID;cluster" */
    sb_free(&out);
    if (!j->jobid[0]) return err_set(err, "stage '%s': sbatch printed no job id", j->name);
    char text[48];
    snprintf(text, sizeof text, "%s\n", j->jobid);
    if (write_small(j->dir, "jobid", text, &why)) return err_set(err, "slurm executor: %s", why.msg);
    j->state[0] = j->reason[0] = '\0';
    j->gone = 0;
    char note[PATH_MAX + 128];
    snprintf(note, sizeof note, "dynn run: stage '%s' submitted as Slurm job %s", j->name, j->jobid);
    log_line(j->log, note);
    return 0;
}

/* Slurm's state of one job (squeue), "" when it is no longer queued or running. */
static int queued_state(const char *jobid, char *state, size_t size) {
    const char *q[] = {"squeue", "-h", "-o", "%T", "-j", jobid, NULL};
    StrBuf o = {0};
    Err e;
    int rc = run_tool(q, &o, &e);
    snprintf(state, size, "%s", rc == 0 ? sb_str(&o) : "");
    state[strcspn(state, "\n")] = '\0';
    sb_free(&o);
    return rc == 0 || rc == 1 ? 0 : -1; /* 1: "Invalid job id specified" (purged) */
}

/* A job a killed runner left for this key: 1 taken over (j->jobid set), 0 none usable (the directory
 * is emptied for a new submission). */
static int take_over(SJob *j) {
    long long id = read_number(j->dir, "jobid");
    char state[64] = "";
    if (id < 0) { /* the runner died between sbatch and writing the id: find it by name */
        char name[96];
        snprintf(name, sizeof name, "dynn-%s", j->key);
        const char *q[] = {"squeue", "-h", "-o", "%i", "-n", name, NULL};
        StrBuf o = {0};
        Err e;
        if (run_tool(q, &o, &e) == 0) id = atoll(sb_str(&o)) > 0 ? atoll(sb_str(&o)) : -1;
        sb_free(&o);
        if (id < 0) return 0;
        char text[48];
        snprintf(text, sizeof text, "%lld\n", id);
        if (write_small(j->dir, "jobid", text, &e)) return 0;
    }
    snprintf(j->jobid, sizeof j->jobid, "%lld", id);
    int ok = 0;
    if (records_complete(j, &ok) && ok) return 1; /* finished while no runner watched */
    if (queued_state(j->jobid, state, sizeof state) == 0 && state[0] && !slurm_state_final(state)) return 1;
    return 0;
}

static void empty_dir(const char *dir) {
    static const char *const files[] = {"jobid", "exit", "records", "desc.json", "job.sh"};
    char path[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/scratch", dir);
    fs_remove_tree(path, NULL);
}

static void free_job(SJob *j) {
    free(j->dir), free(j->records), free(j->log), free(j->name), free(j->key);
    memset(j, 0, sizeof *j);
}

static int slurm_submit(Executor *ex, const ExecJob *job, Err *err) {
    Slurm *s = (Slurm *)ex;
    if (s->n_jobs == s->cap_jobs) return err_set(err, "slurm executor: all %zu slots are busy", s->cap_jobs);
    StageDesc d;
    if (stage_desc_read(job->desc_path, &d, err)) return -1;
    SJob *j = &s->jobs[s->n_jobs];
    memset(j, 0, sizeof *j);
    j->id = job->id;
    j->res = job->resources;
    j->threads = job->threads;
    j->records = strdup(d.records);
    j->log = strdup(job->log_path);
    j->name = strdup(job->name);
    j->key = strdup(d.key);
    int rc = j->records && j->log && j->name && j->key ? 0 : err_set(err, "out of memory");
    if (!rc) rc = get_ready(s, &d, j, err);
    char dir[PATH_MAX];
    if (!rc) {
        snprintf(dir, sizeof dir, "%s/jobs/%s", s->workdir, d.key);
        if (!(j->dir = strdup(dir))) rc = err_set(err, "out of memory");
    }
    int taken = 0;
    if (!rc && fs_exists(dir)) {
        taken = take_over(j);
        if (taken) {
            char note[PATH_MAX + 256];
            snprintf(note, sizeof note, "dynn run: stage '%s' is Slurm job %s, submitted by an earlier run that was killed: "
                                        "taken over, not submitted again (its output is in that run's log)", j->name, j->jobid);
            log_line(j->log, note);
        } else {
            empty_dir(dir);
        }
    }
    if (!rc && !taken) {
        Err why;
        char records[PATH_MAX + 32], scratch[PATH_MAX + 32], slot[PATH_MAX + 32], desc[PATH_MAX + 32];
        snprintf(records, sizeof records, "%s/records", dir);
        snprintf(scratch, sizeof scratch, "%s/scratch", dir);
        snprintf(slot, sizeof slot, "%s/dir", dir);
        snprintf(desc, sizeof desc, "%s/desc.json", dir);
        if (fs_mkdir_p(dir, &why)) rc = err_set(err, "slurm executor: %s", why.msg);
        StageDesc copy = d;
        copy.records = records, copy.scratch = scratch, copy.slot_dir = slot;
        if (!rc && (stage_desc_write(desc, &copy, err) || fs_spoil_first_byte(records, err))) rc = -1;
        if (!rc && s->probe_state < 0) rc = err_set(err, "slurm executor: the probe job failed (see above)");
        if (!rc && s->probe_state > 0) rc = sbatch(s, j, err);
        if (!rc && !s->probe_state) j->held = 1; /* submitted when the probe's file is seen */
    }
    stage_desc_free(&d);
    if (rc) {
        free_job(j);
        return -1;
    }
    s->n_jobs++;
    return 0;
}

/* ---- watching ---- */

/* Slurm's view of every job without an end yet: squeue for those queued or running, then sacct or
 * scontrol for the rest. Rate-limited by the caller. Returns -1 only when squeue keeps failing. */
static int query(Slurm *s, Err *err) {
    StrBuf ids = {0}, out = {0};
    size_t asked = 0;
    for (size_t i = 0; i < s->n_jobs; i++) {
        SJob *j = &s->jobs[i];
        if (slurm_state_final(j->state) || j->gone || j->held) continue;
        sb_printf(&ids, "%s%s", asked++ ? "," : "", j->jobid);
    }
    if (!asked) return sb_free(&ids), 0;
    const char *q[] = {"squeue", "-h", "-o", "%i %T %r", "-j", sb_str(&ids), NULL};
    Err e;
    int rc = run_tool(q, &out, &e);
    if (rc != 0 && !(rc == 1 && strstr(sb_str(&out), "Invalid job id"))) {
        char line[512];
        if (++s->query_failures >= QUERY_FAILURES_MAX) {
            err_set(err, "slurm executor: squeue failed %d times in a row: %s", s->query_failures,
                    rc < 0 ? e.msg : last_line(&out, line, sizeof line));
            sb_free(&ids), sb_free(&out);
            return -1;
        }
        sb_free(&ids), sb_free(&out);
        return 0; /* a controller restarting: asked again next time */
    }
    s->query_failures = 0;
    /* every asked job not listed has left the queue */
    int *listed = calloc(s->n_jobs, sizeof *listed);
    if (!listed) return sb_free(&ids), sb_free(&out), err_set(err, "out of memory");
    for (char *line = rc == 0 ? (char *)sb_str(&out) : ""; *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        else next = line + strlen(line);
        char id[32], state[48], reason[96] = "";
        if (sscanf(line, "%31s %47s %95[^\n]", id, state, reason) >= 2)
            for (size_t i = 0; i < s->n_jobs; i++)
                if (!strcmp(s->jobs[i].jobid, id)) {
                    listed[i] = 1;
                    snprintf(s->jobs[i].state, sizeof s->jobs[i].state, "%s", state);
                    snprintf(s->jobs[i].reason, sizeof s->jobs[i].reason, "%s", reason);
                }
        line = next;
    }
    /* those that left: sacct when accounting is configured, else scontrol (what slurmctld still remembers) */
    StrBuf left = {0};
    size_t n_left = 0;
    for (size_t i = 0; i < s->n_jobs; i++) {
        SJob *j = &s->jobs[i];
        if (listed[i] || slurm_state_final(j->state) || j->gone || j->held) continue;
        sb_printf(&left, "%s%s", n_left++ ? "," : "", j->jobid);
        j->state[0] = '\0';
    }
    if (n_left && s->sacct >= 0) {
        const char *a[] = {"sacct", "-n", "-P", "-X", "-o", "JobIDRaw,State,Reason", "-j", sb_str(&left), NULL};
        sb_clear(&out);
        int arc = run_tool(a, &out, &e);
        if (arc != 0) {
            s->sacct = -1; /* "Slurm accounting storage is disabled": scontrol from now on */
        } else {
            s->sacct = 1;
            for (char *line = (char *)sb_str(&out); *line;) {
                char *next = strchr(line, '\n');
                if (next) *next++ = '\0';
                else next = line + strlen(line);
                char *f2 = strchr(line, '|'), *f3 = f2 ? strchr(f2 + 1, '|') : NULL;
                if (f2 && f3) {
                    *f2++ = '\0', *f3++ = '\0';
                    for (size_t i = 0; i < s->n_jobs; i++)
                        if (!listed[i] && !strcmp(s->jobs[i].jobid, line) && slurm_state_final(f2)) {
                            snprintf(s->jobs[i].state, sizeof s->jobs[i].state, "%s", f2);
                            snprintf(s->jobs[i].reason, sizeof s->jobs[i].reason, "%s", f3);
                        }
                }
                line = next;
            }
        }
    }
    int unresolved = 0;
    for (size_t i = 0; i < s->n_jobs; i++)
        if (!listed[i] && !s->jobs[i].state[0] && !s->jobs[i].gone && !s->jobs[i].held) unresolved = 1;
    if (unresolved) {
        const char *c[] = {"scontrol", "-o", "show", "job", NULL};
        sb_clear(&out);
        int known = run_tool(c, &out, &e) == 0;
        if (known) {
            for (char *line = (char *)sb_str(&out); *line;) {
                char *next = strchr(line, '\n');
                if (next) *next++ = '\0';
                else next = line + strlen(line);
                char id[32], state[48] = "", reason[96] = "";
                const char *js = strstr(line, " JobState="), *rs = strstr(line, " Reason=");
                if (sscanf(line, "JobId=%31s", id) == 1 && js) {
                    sscanf(js, " JobState=%47s", state);
                    if (rs) sscanf(rs, " Reason=%95s", reason);
                    for (size_t i = 0; i < s->n_jobs; i++)
                        if (!listed[i] && !s->jobs[i].state[0] && !strcmp(s->jobs[i].jobid, id)) {
                            snprintf(s->jobs[i].state, sizeof s->jobs[i].state, "%s", state);
                            snprintf(s->jobs[i].reason, sizeof s->jobs[i].reason, "%s", reason);
                        }
                }
                line = next;
            }
        }
        for (size_t i = 0; known && i < s->n_jobs; i++)
            if (!listed[i] && !s->jobs[i].state[0] && !s->jobs[i].held) s->jobs[i].gone = 1; /* ended; Slurm has forgotten how */
    }
    free(listed);
    sb_free(&ids), sb_free(&out), sb_free(&left);
    return 0;
}

/* Copies the job's records to the runner's records file; a failed stage's error gets the job id,
 * Slurm's state (a script that exited non-zero is FAILED to Slurm) and the log. */
static int hand_records(const SJob *j, int ok, long long code) {
    char path[PATH_MAX], note[PATH_MAX + 128];
    job_file(j, "records", path, sizeof path);
    if (code > 0) snprintf(note, sizeof note, " (Slurm job %s FAILED, exit code %lld; see %s)", j->jobid, code, j->log);
    else snprintf(note, sizeof note, " (Slurm job %s %s; see %s)", j->jobid, j->state[0] ? j->state : "ended", j->log);
    Err err;
    return records_copy_noting(path, j->records, ok ? NULL : note, &err);
}

/* The stage failed in Slurm without records of its own: a records file saying so. */
static void write_failure(const SJob *j, const char *why) {
    RecordWriter w;
    Err err;
    records_writer_init(&w, ""); /* a failed stage's records copy no artifact */
    if (records_writer_finish(&w, j->records, 0, why, &err))
        fprintf(stderr, "dynn run: stage '%s': %s (and its records could not be written: %s)\n", j->name, why, err.msg);
    records_writer_free(&w);
}

static void remember_ended(Slurm *s, SJob *j) {
    if (s->n_ended == s->cap_ended) {
        size_t c = s->cap_ended ? 2 * s->cap_ended : 16;
        char **d = realloc(s->ended_dirs, c * sizeof *d);
        if (!d) {
            free(j->dir), j->dir = NULL; /* left behind; taken over or emptied by a later run */
            return;
        }
        s->ended_dirs = d, s->cap_ended = c;
    }
    s->ended_dirs[s->n_ended++] = j->dir;
    j->dir = NULL;
}

/* 1 when the job is over and its event is filled; 0 not yet; -1 a resubmission failed. */
static int settle(Slurm *s, SJob *j, ExecEvent *ev, Err *err) {
    if (j->held) {
        if (!s->cancelled && s->probe_state >= 0) return 0;
        char why[256];
        snprintf(why, sizeof why, "not submitted to Slurm: %s", s->cancelled ? "the run stopped" : "the probe job failed");
        write_failure(j, why);
        *ev = (ExecEvent){.id = j->id, .status = SIGTERM};
        return 1;
    }
    long long code = read_number(j->dir, "exit");
    int ended = slurm_state_final(j->state) || j->gone; /* Slurm says so */
    if (code < 0 && !ended && !s->abandoned) return 0;
    int ok = 0;
    if (records_complete(j, &ok) && hand_records(j, ok, code) == 0) {
        *ev = (ExecEvent){.id = j->id, .status = (int)((code >= 0 ? code : ok ? 0 : 1) & 0xff) << 8};
        return 1;
    }
    if (!ended && !s->abandoned) return 0; /* the script ended without records: Slurm's state will say why */
    const char *state = j->gone ? "" : j->state;
    if (ended && !s->cancelled && (!strncmp(state, "NODE_FAIL", 9) || !strncmp(state, "PREEMPTED", 9)) &&
        j->retries < settings.retries) {
        char note[PATH_MAX + 256], path[PATH_MAX];
        j->retries++;
        snprintf(note, sizeof note, "dynn run: Slurm job %s ended %s; submitting stage '%s' again (retry %d of %d)", j->jobid, state,
                 j->name, j->retries, settings.retries);
        log_line(j->log, note);
        job_file(j, "records", path, sizeof path);
        Err why;
        if (fs_spoil_first_byte(path, &why)) return err_set(err, "slurm executor: %s", why.msg);
        return sbatch(s, j, err) ? -1 : 0;
    }
    char why[PATH_MAX + 512];
    if (!ended)
        snprintf(why, sizeof why, "Slurm job %s cancelled by the run's stop (scancel); see %s", j->jobid, j->log);
    else if (j->gone)
        snprintf(why, sizeof why, "Slurm job %s ended without handing back records and Slurm no longer knows its state; see %s",
                 j->jobid, j->log);
    else if (j->reason[0] && strcmp(j->reason, "None"))
        snprintf(why, sizeof why, "Slurm job %s ended %s (%s) without handing back records; see %s", j->jobid, state, j->reason, j->log);
    else
        snprintf(why, sizeof why, "Slurm job %s ended %s without handing back records; see %s", j->jobid, state, j->log);
    write_failure(j, why);
    log_line(j->log, why);
    *ev = (ExecEvent){.id = j->id, .status = code >= 0 ? (int)(code & 0xff) << 8 : SIGKILL};
    return 1;
}

static int collect(Slurm *s, int query_now, ExecEvent *events, size_t max, Err *err) {
    if (s->ready && !s->cancelled && check_probe(s, err) < 0) return -1;
    double now = provenance_now();
    int poll_ms = settings.poll_ms > 0 ? settings.poll_ms : SLURM_POLL_MS;
    if (!s->abandoned && (query_now || now - s->last_query >= poll_ms / 1000.0)) {
        if (s->n_jobs) {
            if (query(s, err)) return -1;
            s->last_query = provenance_now();
        }
    }
    int n = 0;
    for (size_t i = 0; i < s->n_jobs && (size_t)n < max;) {
        int r = settle(s, &s->jobs[i], &events[n], err);
        if (r < 0) return -1;
        if (r == 0) {
            i++;
            continue;
        }
        n++;
        remember_ended(s, &s->jobs[i]);
        free_job(&s->jobs[i]);
        s->jobs[i] = s->jobs[--s->n_jobs];
    }
    return n;
}

static int slurm_wait(Executor *ex, int timeout_ms, int wake_fd, ExecEvent *events, size_t max, Err *err) {
    Slurm *s = (Slurm *)ex;
    double deadline = timeout_ms < 0 ? -1 : provenance_now() + timeout_ms / 1000.0;
    for (;;) {
        int n = collect(s, 0, events, max, err);
        if (n) return n;
        double now = provenance_now();
        if (deadline >= 0 && now >= deadline) return 0;
        int slice = SCAN_MS;
        if (deadline >= 0 && (deadline - now) * 1000 < slice) slice = (int)((deadline - now) * 1000) + 1;
        struct pollfd p = {.fd = wake_fd, .events = POLLIN};
        int ready = poll(&p, wake_fd >= 0 ? 1 : 0, slice);
        if (ready < 0 && errno != EINTR) return err_set(err, "poll: %s", strerror(errno));
        if (ready > 0) return 0;
    }
}

/* SIGTERM (a stop): one scancel of every job; SIGKILL (the grace period is over): scancel again
 * and every job counts as ended. */
static void slurm_signal(Executor *ex, int sig) {
    Slurm *s = (Slurm *)ex;
    if (!s->n_jobs) return;
    size_t n = 0;
    const char **argv = calloc(s->n_jobs + 3, sizeof *argv);
    if (!argv) return;
    argv[n++] = "scancel";
    for (size_t i = 0; i < s->n_jobs; i++)
        if (!s->jobs[i].held) argv[n++] = s->jobs[i].jobid;
    if (!s->probe_state && s->probe_id[0]) argv[n++] = s->probe_id;
    StrBuf out = {0};
    Err e;
    int rc = n > 1 ? run_tool(argv, &out, &e) : 0;
    if (rc) {
        char line[512];
        fprintf(stderr, "dynn run: scancel failed: %s\n", rc < 0 ? e.msg : last_line(&out, line, sizeof line));
    }
    sb_free(&out);
    free(argv);
    s->cancelled = 1;
    s->last_query = 0; /* ask Slurm at once */
    if (sig == SIGKILL) s->abandoned = 1;
}

static size_t slurm_running(const Executor *ex) { return ((const Slurm *)ex)->n_jobs; }

/* Jobs go to Slurm while the run has a free job slot (`-j`); the thread budget is the cluster's. */
static int slurm_admit(Executor *ex, const ExecJob *job, const ExecLoad *load) {
    (void)ex, (void)job;
    return load->running < load->jobs;
}

static void slurm_destroy(Executor *ex) {
    Slurm *s = (Slurm *)ex;
    for (size_t i = 0; i < s->n_jobs; i++) free_job(&s->jobs[i]); /* left for a later run to take over */
    for (size_t i = 0; i < s->n_ended; i++) {
        fs_remove_tree(s->ended_dirs[i], NULL);
        free(s->ended_dirs[i]);
    }
    free(s->ended_dirs);
    free(s->jobs);
    free(s->exe);
    free(s);
}

Executor *executor_slurm_new(const char *dynn_exe, size_t slots, Err *err) {
    Slurm *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, "out of memory"), NULL;
    s->base = (Executor){.name = "slurm", .admit = slurm_admit, .submit = slurm_submit, .wait = slurm_wait, .signal = slurm_signal,
                         .running = slurm_running, .destroy = slurm_destroy};
    s->cap_jobs = slots ? slots : 1;
    s->exe = strdup(dynn_exe);
    s->jobs = calloc(s->cap_jobs, sizeof *s->jobs);
    if (!s->exe || !s->jobs) {
        free(s->jobs), free(s->exe), free(s);
        return err_set(err, "out of memory"), NULL;
    }
    return &s->base;
}
