/* util/proc.c — spawning a program from an argv array, collecting stdout and stderr (see proc.h). */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Reads both pipes until both are closed. */
static void collect(int out_fd, int err_fd, ProcResult *r) {
    struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    StrBuf *bufs[2] = {&r->out, &r->errout};
    int open_fds = 2;
    char buf[65536];
    while (open_fds) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            sb_append_len(bufs[i], buf, (size_t)n);
            if (i == 1 && write(2, buf, (size_t)n) < 0) { /* the log; nothing to do if it fails */ }
        }
    }
}

int proc_run(const char *const *argv, const char *stdin_path, ProcResult *r, Err *err) {
    memset(r, 0, sizeof *r);
    r->status = -1;
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC)) return err_set(err, "pipe: %s", strerror(errno));
    if (pipe2(err_pipe, O_CLOEXEC)) {
        close(out_pipe[0]), close(out_pipe[1]);
        return err_set(err, "pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out_pipe[1]), close(err_pipe[1]);
    if (rc) {
        close(out_pipe[0]), close(err_pipe[0]);
        return err_set(err, "cannot start '%s': %s", argv[0], strerror(rc));
    }
    collect(out_pipe[0], err_pipe[0], r);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return err_set(err, "waiting for '%s': %s", argv[0], strerror(errno));
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r->out.oom || r->errout.oom) return err_set(err, "out of memory reading the output of '%s'", argv[0]);
    return 0;
}

void proc_result_free(ProcResult *r) {
    sb_free(&r->out);
    sb_free(&r->errout);
}

void proc_last_line(const char *text, char *out, size_t size) {
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) end--;
    const char *start = end;
    while (start > text && start[-1] != '\n') start--;
    snprintf(out, size, "%.*s", (int)(end - start), start);
}
