/* util/proctree.c — finding, signalling and ending a process's descendants (see proctree.h).
 * Async-signal-safe throughout: paths are built by hand, directories read with getdents64. */
#include "util/proctree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int proctree_set_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0); }

/* Appends the decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned long v) {
    char digits[24];
    int n = 0;
    do digits[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n) *p++ = digits[--n];
    return p;
}

static char *put_str(char *p, const char *s) {
    while (*s) *p++ = *s++;
    return p;
}

/* Reads the space-separated pids of an open children file into out[n..max); returns the new n. */
static int read_pids(int fd, pid_t *out, int n, int max) {
    char buf[512];
    long cur = -1;
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                cur = (cur < 0 ? 0 : cur * 10) + (buf[i] - '0');
            } else if (cur >= 0) {
                if (n < max) out[n++] = (pid_t)cur;
                cur = -1;
            }
        }
    }
    if (cur >= 0 && n < max) out[n++] = (pid_t)cur;
    return n;
}

struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int proctree_children(pid_t pid, pid_t *out, int max) {
    char path[64];
    *put_str(put_uint(put_str(path, "/proc/"), (unsigned long)pid), "/task") = '\0';
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return 0;
    int n = 0;
    char buf[2048] __attribute__((aligned(8)));
    for (;;) {
        long got = syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        for (long off = 0; off < got;) {
            const struct dirent64_raw *d = (const void *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
            char rel[300];
            *put_str(put_str(rel, d->d_name), "/children") = '\0';
            int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            n = read_pids(fd, out, n, max);
            close(fd);
        }
    }
    close(dfd);
    return n;
}

int proctree_descendants(pid_t pid, pid_t *out, int max) {
    int n = proctree_children(pid, out, max);
    for (int i = 0; i < n && n < max; i++) n += proctree_children(out[i], out + n, max - n);
    return n;
}

int proctree_signal_tree(pid_t pid, int sig) {
    pid_t list[PROCTREE_MAX];
    int n = proctree_descendants(pid, list, PROCTREE_MAX); /* before the root dies and its children move */
    int sent = kill(pid, sig) == 0;
    for (int i = 0; i < n; i++) sent += kill(list[i], sig) == 0;
    return sent;
}

static long elapsed_ms(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reaps every child that has ended; 1 when the caller has no child left. */
static int reap_ended(void) {
    for (;;) {
        pid_t w = waitpid(-1, NULL, WNOHANG);
        if (w > 0) continue;
        if (w < 0 && errno == EINTR) continue;
        return w < 0 && errno == ECHILD;
    }
}

static int contains(const pid_t *set, int n, pid_t p) {
    for (int i = 0; i < n; i++)
        if (set[i] == p) return 1;
    return 0;
}

int proctree_end_all(int grace_ms) {
    pid_t self = getpid();
    pid_t list[PROCTREE_MAX], seen[PROCTREE_MAX];
    int n_seen = 0, found = 0, term = grace_ms > 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int n = proctree_descendants(self, list, PROCTREE_MAX);
        for (int i = 0; i < n; i++) {
            int known = contains(seen, n_seen, list[i]);
            if (!known) {
                found++;
                if (n_seen < PROCTREE_MAX) seen[n_seen++] = list[i];
            }
            if (!term) {
                kill(list[i], SIGKILL);
            } else if (!known) { /* SIGTERM once: a process cleaning up after it is not interrupted again */
                kill(list[i], SIGTERM);
                kill(list[i], SIGCONT);
            }
        }
        if (reap_ended()) return found;
        if (term && elapsed_ms(&t0) >= grace_ms) term = 0; /* escalate */
        struct timespec nap = {0, term ? 10000000 : 2000000};
        nanosleep(&nap, NULL);
    }
}
