/* platforms/sysfs_restore.c — async-signal-safe sysfs I/O and the shared SIGINT/SIGTERM restore
 * handler (see sysfs_restore.h). */
#include "platforms/sysfs_restore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int sysfs_raw_read(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    if (n < 0) return -e;
    while (n > 0 && isspace((unsigned char)buf[n - 1])) n--;
    buf[n] = '\0';
    return 0;
}

int sysfs_raw_write(const char *path, const char *val) {
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0) return -errno;
    size_t len = strlen(val);
    ssize_t n = write(fd, val, len);
    int e = errno;
    if (close(fd) && n >= 0) return -errno; /* sysfs may report a refused value at close */
    if (n < 0) return -e;
    return (size_t)n == len ? 0 : -EIO;
}

void sysfs_fmt_ll(char *out, long long v) {
    char tmp[24];
    int n = 0, neg = v < 0;
    unsigned long long u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do tmp[n++] = (char)('0' + u % 10); while ((u /= 10));
    if (neg) tmp[n++] = '-';
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

long long sysfs_parse_ll(const char *s, int *ok) {
    long long v = 0;
    *ok = 0;
    if (!isdigit((unsigned char)*s)) return 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (0x7fffffffffffffffLL - 9) / 10) return 0; /* too large: not ok */
        v = v * 10 + (*s - '0');
    }
    *ok = *s == '\0';
    return v;
}

void sysfs_copy(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- the handler ---- */

typedef struct Entry {
    SysfsRestoreFn fn;
    void *owner;
} Entry;

static Entry g_entries[SYSFS_RESTORE_MAX];
static volatile sig_atomic_t g_n;
static struct sigaction g_old_int, g_old_term;
static int g_installed;

static void on_fatal_signal(int sig) {
    for (sig_atomic_t i = g_n; i > 0; i--) {
        Entry *e = &g_entries[i - 1];
        if (e->fn) e->fn(e->owner);
    }
    g_n = 0;
    signal(sig, SIG_DFL);
    raise(sig); /* delivered when the handler returns: the process ends by the same signal */
}

static void block(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, old);
}

int sysfs_restore_register(SysfsRestoreFn fn, void *owner) {
    sigset_t old;
    int rc = 0;
    block(&old);
    int found = 0;
    for (sig_atomic_t i = 0; i < g_n; i++) found |= g_entries[i].owner == owner;
    if (!found) {
        if (g_n == SYSFS_RESTORE_MAX) rc = -1;
        else {
            g_entries[g_n] = (Entry){fn, owner};
            g_n++;
        }
    }
    if (!rc && !g_installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigfillset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &g_old_int);
        sigaction(SIGTERM, &sa, &g_old_term);
        g_installed = 1;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void sysfs_restore_unregister(void *owner) {
    sigset_t old;
    block(&old);
    sig_atomic_t n = 0;
    for (sig_atomic_t i = 0; i < g_n; i++)
        if (g_entries[i].owner != owner) g_entries[n++] = g_entries[i];
    g_n = n;
    if (!g_n && g_installed) {
        sigaction(SIGINT, &g_old_int, NULL);
        sigaction(SIGTERM, &g_old_term, NULL);
        g_installed = 0;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}
