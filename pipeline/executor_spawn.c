/* pipeline/executor_spawn.c — one `dynn stage-exec FILE` process started per job (see executor.h).
 * Ends of jobs are noticed through SIGCHLD, turned into a readable pipe for poll(). A stage process
 * ends what it started itself; what one that died uncleanly left comes back to the runner (a
 * subreaper) and is ended when its end is noticed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/executor.h"
#include "pipeline/executor_common.h"

typedef struct Job {
    pid_t pid;
    size_t id;
} Job;

typedef struct Spawn {
    Executor base;
    char *exe;
    Job *jobs;
    size_t n_jobs, cap_jobs;
    struct sigaction old_chld;
} Spawn;

static int chld_pipe[2] = {-1, -1};

static void on_sigchld(int sig) {
    (void)sig;
    int saved = errno;
    if (write(chld_pipe[1], "c", 1) < 0) {
    }
    errno = saved;
}

static int spawn_submit(Executor *ex, const ExecJob *job, Err *err) {
    Spawn *s = (Spawn *)ex;
    if (s->n_jobs == s->cap_jobs) return err_set(err, "spawn executor: all %zu slots are busy", s->cap_jobs);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0) return err_set(err, "/dev/null: %s", strerror(errno));
    int log = open(job->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (log < 0) {
        close(null);
        return err_set(err, "%s: cannot open the log: %s", job->log_path, strerror(errno));
    }
    char *argv[] = {"dynn", "stage-exec", (char *)job->desc_path, NULL};
    int fds[3] = {null, log, log};
    Err why;
    pid_t pid = executor_start_child(s->exe, argv, fds, &why);
    close(null);
    close(log);
    if (pid < 0) return err_set(err, "cannot start dynn stage-exec: %s", why.msg);
    s->jobs[s->n_jobs++] = (Job){.pid = pid, .id = job->id};
    return 0;
}

static int reap(Spawn *s, ExecEvent *events, size_t max) {
    int n = 0;
    for (size_t i = 0; i < s->n_jobs && (size_t)n < max;) {
        int status;
        pid_t r = waitpid(s->jobs[i].pid, &status, WNOHANG);
        if (r == s->jobs[i].pid) {
            executor_disown(r);
            events[n++] = (ExecEvent){.id = s->jobs[i].id, .status = status};
            s->jobs[i] = s->jobs[--s->n_jobs];
        } else {
            i++;
        }
    }
    if (n) executor_kill_strays(); /* a job reported ended has nothing left running */
    return n;
}

static int spawn_wait(Executor *ex, int timeout_ms, int wake_fd, ExecEvent *events, size_t max, Err *err) {
    Spawn *s = (Spawn *)ex;
    int n = reap(s, events, max);
    if (n) return n;
    struct pollfd fds[2] = {{.fd = chld_pipe[0], .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
    int ready = poll(fds, wake_fd >= 0 ? 2 : 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return err_set(err, "poll: %s", strerror(errno));
    char drain[64];
    while (read(chld_pipe[0], drain, sizeof drain) > 0) {
    }
    return reap(s, events, max);
}

static void spawn_signal(Executor *ex, int sig) {
    Spawn *s = (Spawn *)ex;
    for (size_t i = 0; i < s->n_jobs; i++) kill(-s->jobs[i].pid, sig);
}

static size_t spawn_running(const Executor *ex) { return ((const Spawn *)ex)->n_jobs; }

static void spawn_destroy(Executor *ex) {
    Spawn *s = (Spawn *)ex;
    for (size_t i = 0; i < s->n_jobs; i++) waitpid(s->jobs[i].pid, NULL, 0), executor_disown(s->jobs[i].pid);
    s->n_jobs = 0;
    executor_kill_strays();
    executor_supervise(0);
    sigaction(SIGCHLD, &s->old_chld, NULL);
    if (chld_pipe[0] >= 0) close(chld_pipe[0]), close(chld_pipe[1]);
    chld_pipe[0] = chld_pipe[1] = -1;
    free(s->jobs);
    free(s->exe);
    free(s);
}

Executor *executor_spawn_new(const char *dynn_exe, size_t slots, Err *err) {
    if (chld_pipe[0] >= 0) return err_set(err, "only one spawn executor at a time"), NULL;
    Spawn *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, "out of memory"), NULL;
    s->base = (Executor){.name = "spawn", .admit = executor_admit_budget, .submit = spawn_submit, .wait = spawn_wait, .signal = spawn_signal,
                         .running = spawn_running, .destroy = spawn_destroy};
    s->cap_jobs = slots ? slots : 1;
    s->exe = strdup(dynn_exe);
    s->jobs = calloc(s->cap_jobs, sizeof *s->jobs);
    if (!s->exe || !s->jobs || pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK)) {
        free(s->jobs), free(s->exe), free(s);
        return err_set(err, "cannot set up the spawn executor: %s", strerror(errno)), NULL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &s->old_chld);
    executor_supervise(1);
    return &s->base;
}
