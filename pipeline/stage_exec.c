/* pipeline/stage_exec.c — one stage instance in its own process, and the local executor's fork
 * server (see stage_exec.h). Both are child subreapers: whatever a stage starts stays their
 * descendant and is ended with it (util/proctree.h). */
#include "pipeline/stage_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/executor_common.h"
#include "pipeline/records.h"
#include "pipeline/stage_desc.h"
#include "pipeline/stage.h"
#include "util/fs.h"
#include "util/proctree.h"

/* The stop signals: SIGTERM (also what a dead parent sends, PR_SET_PDEATHSIG), SIGINT, SIGHUP. */
static void stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

static void on_stop_signals(void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    stop_signals(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* A stage process told to stop ends everything it started (SIGTERM, SIGKILL after the grace
 * period), then dies of the signal it got. Async-signal-safe; never returns. */
static void end_all_and_die(int sig) {
    proctree_end_all(EXECUTOR_KILL_GRACE_MS);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

void stage_exec_guard(void) {
    proctree_set_subreaper(1);
    on_stop_signals(end_all_and_die);
    sigset_t stop;
    stop_signals(&stop);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL); /* the fork server forks with them blocked */
}

static int run_stage(const StageDesc *d, RecordWriter *w, Err *err) {
    for (size_t i = 0; i < d->n_plugins; i++)
        if (stage_plugin_load(d->plugins[i], err)) return -1;
    const StageType *type = stage_type_find(d->type);
    if (!type) return err_set(err, "unknown stage type '%s'", d->type);
    int log_fd = open(d->log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (log_fd < 0) return err_set(err, "%s: cannot open the log: %s", d->log, strerror(errno));
    StageRun run = {
        .name = d->name,
        .type = d->type,
        .params = d->params,
        .inputs = d->inputs,
        .n_inputs = d->n_inputs,
        .workdir = d->workdir,
        .scratch = d->scratch,
        .slot_dir = d->slot_dir,
        .resume_dir = d->resume_dir,
        .log_path = d->log,
        .log_fd = log_fd,
        .threads = d->threads,
        .seed = d->seed,
        .sink = &w->sink,
        .db_path = d->db,
        .run_uuid = d->run,
    };
    int rc = type->run(&run, err);
    close(log_fd);
    return rc;
}

int stage_exec_run(const char *desc_path, Err *err) {
    StageDesc d;
    if (stage_desc_read(desc_path, &d, err)) return -1;
    RecordWriter w;
    records_writer_init(&w, d.state_dir);
    Err why = {{0}};
    int ok = run_stage(&d, &w, &why) == 0;
    /* under the slurm executor its job script passes the job id: recorded with the stage */
    const char *job = getenv("DYNN_SLURM_JOB_ID");
    if (ok && job && *job && w.sink.metric(&w.sink, "slurm_job_id", strtod(job, NULL), NULL, 0, &why)) ok = 0;
    fflush(stdout);
    /* nothing the stage started outlives it: not a background child, not a daemon (setsid, double fork) */
    int left = proctree_end_all(EXECUTOR_KILL_GRACE_MS);
    if (left)
        fprintf(stderr, "dynn: stage '%s' left %d process%s running; ended (SIGTERM, SIGKILL after %d s)\n", d.name, left,
                left == 1 ? "" : "es", EXECUTOR_KILL_GRACE_MS / 1000);
    if (!ok) fprintf(stderr, "dynn: stage '%s' failed: %s\n", d.name, why.msg);
    int rc = records_writer_finish(&w, d.records, ok, ok ? NULL : why.msg, err) ? -1 : ok ? 0 : 1;
    records_writer_free(&w);
    stage_desc_free(&d);
    return rc;
}

/* ---- fork server ---- */

static int write_all(int fd, const char *s, size_t len) {
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        s += n, len -= (size_t)n;
    }
    return 0;
}

/* The forked child: its own process group, output to the log, then the stage. It dies with its
 * server (SIGTERM, PR_SET_PDEATHSIG asked for here, after fork, by the server's code: the stage
 * process itself never looks at a parent pid). Never returns. */
static void serve_child(pid_t zygote, const char *desc, const char *log) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    stage_exec_guard();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != zygote) raise(SIGTERM); /* the server died before prctl took effect */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
    int null = open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(3);
    close(fd);
    close(null);
    Err err;
    int rc = stage_exec_run(desc, &err);
    if (rc < 0) fprintf(stderr, "dynn stage-exec: %s\n", err.msg);
    fflush(NULL);
    _exit(rc < 0 ? 2 : rc);
}

/* The stage process being served (0: none). A stop signal to the server goes to its process group:
 * when the runner dies, the server gets SIGTERM (PR_SET_PDEATHSIG, asked for by the local executor
 * when it started the server) and the stage ends its commands. */
static volatile sig_atomic_t serving;

static void forward_to_stage(int sig) {
    pid_t pid = serving;
    if (pid > 0) kill(-pid, sig);
}

/* A wait status rebuilt from waitid()'s answer. */
static int wait_status(const siginfo_t *si) {
    if (si->si_code == CLD_EXITED) return (si->si_status & 0xff) << 8;
    return (si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

static int serve_one(pid_t self, char *line) {
    char *desc = strchr(line, '\t'), *log = desc ? strchr(desc + 1, '\t') : NULL;
    if (strncmp(line, "RUN\t", 4) || !desc || !log) return -1;
    *desc++ = '\0';
    *log++ = '\0';
    sigset_t stop, old;
    stop_signals(&stop);
    sigprocmask(SIG_BLOCK, &stop, &old); /* until `serving` names the child */
    pid_t pid = fork();
    if (pid < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        char msg[64];
        int n = snprintf(msg, sizeof msg, "X %d\n", 4 << 8); /* exit status 4: could not fork */
        return write_all(1, msg, (size_t)n);
    }
    if (pid == 0) serve_child(self, desc, log);
    setpgid(pid, pid);
    serving = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    char msg[64];
    int n = snprintf(msg, sizeof msg, "S %ld\n", (long)pid);
    if (write_all(1, msg, (size_t)n)) return -1;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) /* the zombie keeps its pid from reuse ... */
        if (errno != EINTR) return -1;
    serving = 0; /* ... until no signal can be forwarded to it any more */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    /* What the stage process left (it died before ending them itself): after SIGKILL, at once;
     * otherwise SIGTERM and the grace period. They are this server's children now (subreaper). */
    int killed = si.si_code == CLD_KILLED && si.si_status == SIGKILL;
    proctree_end_all(killed ? 0 : EXECUTOR_KILL_GRACE_MS);
    n = snprintf(msg, sizeof msg, "X %d\n", wait_status(&si));
    return write_all(1, msg, (size_t)n);
}

int zygote_serve(void) {
    proctree_set_subreaper(1);
    on_stop_signals(forward_to_stage);
    signal(SIGPIPE, SIG_IGN);
    pid_t self = getpid();
    char buf[3 * 4096 + 64];
    size_t len = 0;
    for (;;) {
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = '\0';
            if (serve_one(self, buf)) return 1;
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, buf + used, len - used);
            len -= used;
            continue;
        }
        if (len == sizeof buf) return 1;
        ssize_t n = read(0, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        len += (size_t)n;
    }
}
