/* stages/exec_proc.c — starting, waiting for and ending the exec stage's command (see exec_proc.h). */
#include "stages/exec_proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/duration.h"

int exec_proc_start(char *const *argv, char *const *envp, const char *cwd, ExecProc *p, Err *err) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    int own_group = getpgrp() != getpid();
    if (own_group) {
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc) return err_set(err, "cannot start '%s' in %s: %s", argv[0], cwd, strerror(rc));
    p->pid = pid;
    p->pgid = own_group ? pid : getpgrp();
    return 0;
}

static void sleep_s(double s) {
    struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* Waits until the command exits (1, *status set) or `deadline` passes (0); -1 on error. A pidfd
 * wakes the wait as soon as the command exits; without one (kernels before 5.3) it polls. */
static int wait_until(const ExecProc *p, double deadline, int *status) {
    int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    int rc;
    for (;;) {
        pid_t r = waitpid(p->pid, status, WNOHANG);
        if (r == p->pid) {
            rc = 1;
            break;
        }
        if (r < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        double left = deadline - duration_now_s();
        if (left <= 0) {
            rc = 0;
            break;
        }
        if (fd >= 0) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            double ms = left * 1000 + 1;
            poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        } else {
            sleep_s(left < 0.02 ? left : 0.02);
        }
    }
    if (fd >= 0) close(fd);
    return rc;
}

/* Live (not zombie) processes of group pgid other than this one, each sent sig (0: only counted).
 * A zombie of the group that is this process's child (a process the command left, re-parented here
 * because the stage process is a subreaper) is reaped, except `keep` (the command: its status is
 * wanted). -1 when /proc cannot be read. */
static int group_members(pid_t pgid, pid_t keep, int sig) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    pid_t self = getpid();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        pid_t pid = (pid_t)atol(e->d_name);
        if (pid == self) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0) continue;
        buf[len] = '\0';
        const char *close_paren = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
        char state;
        int ppid, pgrp;
        if (!close_paren || sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) continue;
        if (pgrp != pgid) continue;
        if (state == 'Z' || state == 'X') {
            if (ppid == self && pid != keep) waitpid(pid, NULL, WNOHANG);
            continue;
        }
        n++;
        if (sig) kill(pid, sig);
    }
    closedir(d);
    return n;
}

/* Sends sig to every process of the command's group but this one; returns how many were alive. */
static int signal_command(const ExecProc *p, int sig) {
    int own_group = p->pgid != getpgrp();
    if (own_group) kill(-p->pgid, sig); /* one call reaches them all */
    int n = group_members(p->pgid, p->pid, own_group ? 0 : sig);
    if (n < 0) { /* no /proc: the command itself at least */
        n = kill(p->pid, 0) == 0;
        if (n) kill(p->pid, sig);
    }
    return n;
}

int exec_proc_wait(ExecProc *p, double timeout_s, int *status, int *killed, Err *err) {
    *killed = 0;
    if (timeout_s <= 0) {
        while (waitpid(p->pid, status, 0) < 0)
            if (errno != EINTR) return err_set(err, "waiting for the command: %s", strerror(errno));
        return 0;
    }
    int rc = wait_until(p, duration_now_s() + timeout_s, status);
    if (rc < 0) return err_set(err, "waiting for the command: %s", strerror(errno));
    if (rc == 1) return 0;
    int reaped = 0, alive = signal_command(p, SIGTERM);
    for (double grace_end = duration_now_s() + EXEC_KILL_GRACE_S; alive > 0 && duration_now_s() < grace_end;) {
        sleep_s(0.02);
        if (!reaped) reaped = waitpid(p->pid, status, WNOHANG) == p->pid;
        alive = signal_command(p, 0);
    }
    for (double give_up = duration_now_s() + 10; alive > 0; sleep_s(0.01)) {
        *killed = 1;
        alive = signal_command(p, SIGKILL);
        if (!reaped) reaped = waitpid(p->pid, status, WNOHANG) == p->pid;
        if (alive > 0 && duration_now_s() > give_up)
            return err_set(err, "%d of the command's processes are still alive 10 s after SIGKILL", alive);
    }
    while (!reaped && waitpid(p->pid, status, 0) < 0)
        if (errno != EINTR) return err_set(err, "waiting for the command: %s", strerror(errno));
    return 1;
}
