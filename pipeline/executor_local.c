/* pipeline/executor_local.c — the default executor: one fork server (`dynn stage-exec --serve`)
 * per job slot, each forking a fresh stage process per job (see executor.h). The servers are started
 * with executor_start_child (they get SIGTERM when the runner dies) and ask the same for each stage
 * process they fork (pipeline/stage_exec.c). Admission: executor_admit_budget. A server reports a
 * stage's end once the stage and everything it left have ended; when a server itself dies, the
 * runner (a subreaper) inherits its stage process and ends it here. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/executor.h"
#include "pipeline/executor_common.h"

typedef struct Server {
    pid_t pid;    /* 0: not started (or gone) */
    int to, from; /* its stdin (requests) and stdout (answers) */
    int busy;
    size_t job;
    pid_t child;  /* the stage process, once the server said "S <pid>" */
    char buf[256];
    size_t len;
} Server;

typedef struct Local {
    Executor base;
    char *exe;
    Server *servers;
    size_t n_servers, n_busy;
    int pending_signal; /* delivered to stage processes whose pid is not known yet */
    struct pollfd *fds; /* wait()'s poll set: one per server and the wake fd (heap: -j may be large) */
    size_t *owner;      /* the server of each entry of fds, (size_t)-1 for the wake fd */
    int supervising;    /* executor_supervise(1) was called */
} Local;

static int start_server(Local *l, Server *s, Err *err) {
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC)) return err_set(err, "pipe: %s", strerror(errno));
    if (pipe2(from, O_CLOEXEC)) {
        close(to[0]), close(to[1]);
        return err_set(err, "pipe: %s", strerror(errno));
    }
    char *argv[] = {"dynn", "stage-exec", "--serve", NULL};
    int fds[3] = {to[0], from[1], -1};
    Err why;
    s->pid = executor_start_child(l->exe, argv, fds, &why);
    close(to[0]);
    close(from[1]);
    if (s->pid < 0) {
        close(to[1]), close(from[0]);
        s->pid = 0;
        return err_set(err, "cannot start the stage server (dynn stage-exec --serve): %s", why.msg);
    }
    s->to = to[1];
    s->from = from[0];
    s->len = 0;
    return 0;
}

static int write_line(int fd, const char *p, size_t left) {
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, left -= (size_t)w;
    }
    return 0;
}

static void stop_server(Server *s) {
    if (!s->pid) return;
    close(s->to);
    close(s->from);
    while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    executor_disown(s->pid);
    s->pid = 0;
}

static int local_submit(Executor *ex, const ExecJob *job, Err *err) {
    Local *l = (Local *)ex;
    if (strpbrk(job->desc_path, "\t\n") || strpbrk(job->log_path, "\t\n"))
        return err_set(err, "%s: paths with tabs or newlines are not supported", job->desc_path);
    Server *s = NULL;
    for (size_t i = 0; i < l->n_servers && !s; i++)
        if (!l->servers[i].busy) s = &l->servers[i];
    if (!s) return err_set(err, "local executor: all %zu slots are busy", l->n_servers);
    char line[3 * 4096 + 64];
    int n = snprintf(line, sizeof line, "RUN\t%s\t%s\n", job->desc_path, job->log_path);
    if (n < 0 || (size_t)n >= sizeof line) return err_set(err, "%s: path too long", job->desc_path);
    /* an idle server that died (killed from outside) is replaced once */
    for (int attempt = 0;; attempt++) {
        if (!s->pid && start_server(l, s, err)) return -1;
        if (write_line(s->to, line, (size_t)n) == 0) break;
        int saved = errno;
        stop_server(s);
        if (attempt) return err_set(err, "local executor: the stage server went away: %s", strerror(saved));
    }
    s->busy = 1;
    s->job = job->id;
    s->child = 0;
    l->n_busy++;
    return 0;
}

static void finish_job(Local *l, Server *s, int status, ExecEvent *events, size_t max, int *n) {
    if ((size_t)*n < max) events[(*n)++] = (ExecEvent){.id = s->job, .status = status};
    s->busy = 0;
    s->child = 0;
    l->n_busy--;
}

/* Handles every complete line in a server's buffer. */
static void handle_lines(Local *l, Server *s, ExecEvent *events, size_t max, int *n) {
    char *nl;
    while ((nl = memchr(s->buf, '\n', s->len))) {
        *nl = '\0';
        if (s->buf[0] == 'S') {
            s->child = (pid_t)atol(s->buf + 2);
            if (l->pending_signal && s->child > 0) kill(-s->child, l->pending_signal);
        } else if (s->buf[0] == 'X' && s->busy) {
            finish_job(l, s, atoi(s->buf + 2), events, max, n);
        }
        size_t used = (size_t)(nl - s->buf) + 1;
        memmove(s->buf, s->buf + used, s->len - used);
        s->len -= used;
    }
}

/* A server died (killed from outside) while it served a stage: its stage process and whatever that
 * started are now the runner's children (subreaper) and are ended here. The job's status is the
 * stage process's if it was still there, else 255. */
static int server_died(Server *s) {
    pid_t server = s->pid;
    stop_server(s); /* reaped: its children have been re-parented */
    int status = 255 << 8;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (server && s->child > 0 && waitid(P_PID, (id_t)s->child, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
        kill(-s->child, SIGKILL); /* its group: the pid is ours (alive or a zombie), so not reused */
        while (waitpid(s->child, &status, 0) < 0 && errno == EINTR) {
        }
    }
    executor_kill_strays();
    return status;
}

static int local_wait(Executor *ex, int timeout_ms, int wake_fd, ExecEvent *events, size_t max, Err *err) {
    Local *l = (Local *)ex;
    struct pollfd *fds = l->fds;
    size_t *owner = l->owner;
    nfds_t nfds = 0;
    for (size_t i = 0; i < l->n_servers; i++)
        if (l->servers[i].busy) fds[nfds] = (struct pollfd){.fd = l->servers[i].from, .events = POLLIN}, owner[nfds++] = i;
    if (wake_fd >= 0) fds[nfds] = (struct pollfd){.fd = wake_fd, .events = POLLIN}, owner[nfds++] = (size_t)-1;
    int ready = poll(fds, nfds, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : err_set(err, "poll: %s", strerror(errno));
    int n = 0;
    /* at most `max` ends per call: a server read now may end a job (at most one each), and an end
     * that found no room would be lost; the servers left unread are still readable next time */
    for (nfds_t k = 0; k < nfds && (size_t)n < max; k++) {
        if (owner[k] == (size_t)-1 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Server *s = &l->servers[owner[k]];
        ssize_t got = read(s->from, s->buf + s->len, sizeof s->buf - s->len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) { /* the server died */
            int status = server_died(s);
            if (s->busy) finish_job(l, s, status, events, max, &n);
            continue;
        }
        s->len += (size_t)got;
        handle_lines(l, s, events, max, &n);
    }
    return n;
}

static void local_signal(Executor *ex, int sig) {
    Local *l = (Local *)ex;
    l->pending_signal = sig;
    for (size_t i = 0; i < l->n_servers; i++)
        if (l->servers[i].busy && l->servers[i].child > 0) kill(-l->servers[i].child, sig);
}

static size_t local_running(const Executor *ex) { return ((const Local *)ex)->n_busy; }

static void local_destroy(Executor *ex) {
    Local *l = (Local *)ex;
    for (size_t i = 0; i < l->n_servers; i++) stop_server(&l->servers[i]);
    if (l->supervising) {
        executor_kill_strays();
        executor_supervise(0);
    }
    free(l->fds);
    free(l->owner);
    free(l->servers);
    free(l->exe);
    free(l);
}

Executor *executor_local_new(const char *dynn_exe, size_t slots, Err *err) {
    Local *l = calloc(1, sizeof *l);
    if (!l) return err_set(err, "out of memory"), NULL;
    l->base = (Executor){.name = "local", .admit = executor_admit_budget, .submit = local_submit, .wait = local_wait, .signal = local_signal,
                         .running = local_running, .destroy = local_destroy};
    l->exe = strdup(dynn_exe);
    l->n_servers = slots ? slots : 1;
    l->servers = calloc(l->n_servers, sizeof *l->servers);
    l->fds = calloc(l->n_servers + 1, sizeof *l->fds);
    l->owner = calloc(l->n_servers + 1, sizeof *l->owner);
    if (!l->exe || !l->servers || !l->fds || !l->owner) {
        local_destroy(&l->base);
        return err_set(err, "out of memory for %zu job slots", l->n_servers), NULL;
    }
    executor_supervise(1);
    l->supervising = 1;
    return &l->base;
}
