/* pipeline/executor.c — the table of executors and choosing one by name, the admission the local
 * executors share, and what every executor needs from the runner's process: starting a child that
 * dies with it, and supervising strays (see executor.h, executor_common.h). */
#include "pipeline/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "pipeline/executor_common.h"
#include "util/proctree.h"
#include "util/strbuf.h"
#include "util/suggest.h"

extern char **environ;

/* ---- the table ---- */

#define MAX_EXECUTOR_TYPES 32

static const ExecutorType builtin_executors[] = {
    {"local", "one fork server per job slot, forking a stage process per job (default)", executor_local_new, 0},
    {"spawn", "one `dynn stage-exec FILE` process per job", executor_spawn_new, 0},
    {"slurm", "one sbatch job per stage on a Slurm cluster (shared storage for .dynn)", executor_slurm_new, .remote = 1},
};
#define N_BUILTIN (sizeof builtin_executors / sizeof *builtin_executors)

static const ExecutorType *registered[MAX_EXECUTOR_TYPES];
static size_t n_registered;

const ExecutorType *executor_type_find(const char *name) {
    for (size_t i = 0; i < N_BUILTIN; i++)
        if (!strcmp(builtin_executors[i].name, name)) return &builtin_executors[i];
    for (size_t i = 0; i < n_registered; i++)
        if (!strcmp(registered[i]->name, name)) return registered[i];
    return NULL;
}

size_t executor_type_names(const char **out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < N_BUILTIN && n < max; i++) out[n++] = builtin_executors[i].name;
    for (size_t i = 0; i < n_registered && n < max; i++) out[n++] = registered[i]->name;
    return n;
}

int executor_type_register(const ExecutorType *type, Err *err) {
    if (!type || !type->name || !type->name[0] || !type->create)
        return err_set(err, "an executor type needs a name and a create function");
    if (executor_type_find(type->name)) return err_set(err, "executor '%s' is already registered", type->name);
    if (n_registered == MAX_EXECUTOR_TYPES) return err_set(err, "too many executors (at most %d)", MAX_EXECUTOR_TYPES);
    registered[n_registered++] = type;
    return 0;
}

const char *executor_unknown_message(const char *name, char *buf, size_t size) {
    const char *names[N_BUILTIN + MAX_EXECUTOR_TYPES];
    size_t n = executor_type_names(names, sizeof names / sizeof *names);
    char hint[160];
    StrBuf list = {0};
    for (size_t i = 0; i < n; i++) sb_printf(&list, "%s%s", i ? ", " : "", names[i]);
    snprintf(buf, size, "unknown executor '%s'%s; known executors: %s", name, suggest_hint(hint, sizeof hint, name, names, n),
             sb_str(&list));
    sb_free(&list);
    return buf;
}

const char *executor_for_stage(const char *type, const char *named, const char *run_default) {
    static const char *const stay[] = {"aggregate", "report", "profile"};
    if (named) return named;
    const ExecutorType *t = executor_type_find(run_default);
    for (size_t i = 0; t && t->remote && i < sizeof stay / sizeof *stay; i++)
        if (!strcmp(type, stay[i])) return "local";
    return run_default;
}

Executor *executor_new(const char *name, const char *dynn_exe, size_t slots, Err *err) {
    const ExecutorType *type = executor_type_find(name);
    if (!type) {
        char msg[512];
        err_set(err, "%s", executor_unknown_message(name, msg, sizeof msg));
        return NULL;
    }
    return type->create(dynn_exe, slots, err);
}

/* ---- admission ---- */

int executor_thread_demand(const ExecJob *job, int budget) {
    int t = job->resources && job->resources->cpus > 0 ? job->resources->cpus : job->platform_remote ? 1 : job->threads;
    if (t < 1) t = 1;
    return budget > 0 && t > budget ? budget : t;
}

int executor_admit_budget(Executor *ex, const ExecJob *job, const ExecLoad *load) {
    (void)ex;
    if (load->running >= load->jobs) return 0;
    return !load->running || load->threads_in_use + executor_thread_demand(job, load->budget) <= load->budget;
}

/* ---- children of the runner ---- */

static pid_t *owned;
static size_t n_owned, cap_owned;

/* Room for one more owned pid (made before forking, so that a started child is always owned). */
static int reserve(void) {
    if (n_owned < cap_owned) return 0;
    size_t cap = cap_owned ? 2 * cap_owned : 16;
    pid_t *p = realloc(owned, cap * sizeof *p);
    if (!p) return -1;
    owned = p, cap_owned = cap;
    return 0;
}

void executor_disown(pid_t pid) {
    for (size_t i = 0; i < n_owned; i++)
        if (owned[i] == pid) {
            owned[i] = owned[--n_owned];
            return;
        }
}

static int is_owned(pid_t pid) {
    for (size_t i = 0; i < n_owned; i++)
        if (owned[i] == pid) return 1;
    return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. Never returns. */
static void child_exec(pid_t parent, const char *exe, char *const argv[], const int fds[3], int report) {
    setpgid(0, 0);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    static const int reset[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof reset / sizeof *reset; i++) sigaction(reset[i], &dfl, NULL);
#ifdef __linux__
    /* dies with the process that started it; getppid() closes the race with a parent that died
     * before prctl took effect (the child then belongs to a subreaper or init) */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(128 + SIGTERM);
#else
    (void)parent;
#endif
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 0) continue;
        if (fds[i] == i) fcntl(i, F_SETFD, 0);
        else if (dup2(fds[i], i) < 0) goto failed;
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(exe, argv, environ);
failed:;
    int e = errno;
    if (write(report, &e, sizeof e) < 0) {
    }
    _exit(127);
}

pid_t executor_start_child(const char *exe, char *const argv[], const int fds[3], Err *err) {
    int report[2];
    if (pipe2(report, O_CLOEXEC)) return err_set(err, "pipe: %s", strerror(errno)), -1;
    if (reserve()) {
        close(report[0]), close(report[1]);
        return err_set(err, "out of memory"), -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old); /* no handler of the runner runs in the child */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) child_exec(parent, exe, argv, fds, report[1]);
    int fork_errno = errno;
    if (pid > 0) setpgid(pid, pid); /* also here: the group exists when this returns */
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        return err_set(err, "cannot start %s: fork: %s", exe, strerror(fork_errno)), -1;
    }
    int child_errno = 0;
    ssize_t got;
    while ((got = read(report[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
    }
    close(report[0]);
    if (got > 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        return err_set(err, "cannot start %s: %s", exe, strerror(child_errno)), -1;
    }
    owned[n_owned++] = pid; /* room was made above */
    return pid;
}

static int supervisors;

void executor_supervise(int on) {
    if (on && supervisors++ == 0) proctree_set_subreaper(1);
    if (!on && supervisors > 0 && --supervisors == 0) {
        proctree_set_subreaper(0);
        if (!n_owned) free(owned), owned = NULL, cap_owned = 0;
    }
}

void executor_kill_strays(void) {
    pid_t kids[PROCTREE_MAX];
    for (;;) { /* a killed stray's own children come back here in turn */
        int n = proctree_children(getpid(), kids, PROCTREE_MAX), strays = 0;
        for (int i = 0; i < n; i++)
            if (!is_owned(kids[i])) proctree_signal_tree(kids[i], SIGKILL), strays++;
        if (!strays) return;
        for (int i = 0; i < n; i++)
            if (!is_owned(kids[i]))
                while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR) {
                }
    }
}
