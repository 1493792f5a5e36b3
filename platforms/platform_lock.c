/* platforms/platform_lock.c — board identities and the per-board lock every measuring process holds
 * (see platform_lock.h): the lock directory, the lock file of an identity, taking it with progress
 * lines and a time limit, naming its holder. */
#include "platforms/platform_lock.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/duration.h"
#include "util/fs.h"
#include "util/provenance.h"
#include "util/sha256.h"

#define HOLDER_LINE_MAX 1024

void platform_identity(const PlatformDesc *d, char *out, size_t size) {
    if (!strcmp(d->type, "local")) {
        snprintf(out, size, "local");
    } else if (!strcmp(d->type, "ssh")) {
        int n = snprintf(out, size, "ssh:%s:%d", d->host ? d->host : "", d->port);
        for (int i = 4; i < n && (size_t)i < size; i++) out[i] = (char)tolower((unsigned char)out[i]);
    } else {
        snprintf(out, size, "%s:%s", d->type, d->name);
    }
}

int platform_is_remote(const PlatformDesc *d) { return strcmp(d->type, "local") != 0; }

/* ---- the directory ---- */

int platform_lock_dir(char *out, size_t size, Err *err) {
    const char *env = getenv(PLATFORM_LOCK_DIR_ENV), *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && env[0]) {
        if ((size_t)snprintf(out, size, "%s", env) >= size)
            return err_set(err, "%s (dynn run --lock-dir): path too long", PLATFORM_LOCK_DIR_ENV);
        Err why;
        if (fs_mkdir_p(out, &why))
            return err_set(err, "%s (dynn run --lock-dir) %s: %s; point it to a directory you can write", PLATFORM_LOCK_DIR_ENV,
                           out, why.msg);
        if (access(out, W_OK | X_OK))
            return err_set(err, "%s (dynn run --lock-dir) %s: %s; point it to a directory you can write", PLATFORM_LOCK_DIR_ENV,
                           out, strerror(errno));
        return 0;
    }
    struct stat st;
    int private_tmp = !(xdg && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && access(xdg, W_OK | X_OK) == 0);
    int n = private_tmp ? snprintf(out, size, "/tmp/dynn-locks-%ld", (long)getuid()) : snprintf(out, size, "%s/dynn-locks", xdg);
    if (n < 0 || (size_t)n >= size) return err_set(err, "the board lock directory's path is too long; set %s", PLATFORM_LOCK_DIR_ENV);
    if (mkdir(out, 0700) && errno != EEXIST)
        return err_set(err, "cannot create the board lock directory %s: %s; set %s (dynn run --lock-dir)", out, strerror(errno),
                       PLATFORM_LOCK_DIR_ENV);
    /* in /tmp anyone could have made it first: it must be a real directory of this user */
    if (lstat(out, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
        return err_set(err, "the board lock directory %s is not a directory of this user; remove it or set %s (dynn run --lock-dir)",
                       out, PLATFORM_LOCK_DIR_ENV);
    return 0;
}

int platform_lock_wait_limit(double *seconds, Err *err) {
    const char *v = getenv(PLATFORM_LOCK_WAIT_ENV);
    *seconds = 0;
    if (!v || !v[0]) return 0;
    if (duration_parse(v, seconds))
        return err_set(err, "%s (dynn run --board-wait) '%s' is not a duration such as 90s, 10m or 2h", PLATFORM_LOCK_WAIT_ENV, v);
    return 0;
}

/* DIR/<identity, other characters as '_'>-<12 hex of its SHA-256>.lock: readable, and distinct even
 * when two identities differ only in the characters replaced. */
static int lock_path(const char *identity, char *out, size_t size, Err *err) {
    char dir[PATH_MAX - 160], safe[101], hex[SHA256_HEX_LEN + 1];
    if (platform_lock_dir(dir, sizeof dir, err)) return -1;
    size_t n = 0;
    for (const char *p = identity; *p && n < sizeof safe - 1; p++)
        safe[n++] = isalnum((unsigned char)*p) || *p == '.' || *p == '-' ? *p : '_';
    safe[n] = '\0';
    sha256_hex_of(identity, strlen(identity), hex);
    if ((size_t)snprintf(out, size, "%s/%s-%.12s.lock", dir, safe, hex) >= size) return err_set(err, "lock file path too long");
    return 0;
}

static int open_lock(const char *path, Err *err) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) return err_set(err, "cannot open the board lock %s: %s", path, strerror(errno));
    return fd;
}

/* ---- the holder ---- */

/* The holder's pid from the kernel and its line from the file (kept only when it names that pid). */
static int read_holder(int fd, long *pid, char *line, size_t size) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    *pid = 0;
    if (size) line[0] = '\0';
    if (fcntl(fd, F_GETLK, &fl)) return -1;
    if (fl.l_type == F_UNLCK) return 0;
    *pid = (long)fl.l_pid;
    char buf[HOLDER_LINE_MAX];
    ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
    if (got <= 0) return 0;
    buf[got] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    char *end;
    if (strncmp(buf, "pid ", 4) || strtol(buf + 4, &end, 10) != *pid || *end != ' ') return 0; /* stale or being written */
    snprintf(line, size, "%s", end + 1);
    return 0;
}

int platform_lock_holder(const char *identity, long *pid, char *line, size_t size, Err *err) {
    char path[PATH_MAX];
    if (lock_path(identity, path, sizeof path, err)) return -1;
    int fd = open_lock(path, err);
    if (fd < 0) return -1;
    int rc = read_holder(fd, pid, line, size);
    close(fd);
    return rc ? err_set(err, "%s: cannot read its lock: %s", path, strerror(errno)) : 0;
}

static void holder_text(long pid, const char *line, char *out, size_t size) {
    if (!pid) snprintf(out, size, "another process");
    else if (line[0]) snprintf(out, size, "pid %ld (%s)", pid, line);
    else snprintf(out, size, "pid %ld", pid);
}

/* "pid N since 2026-12-05 20:51:03 UTC: WHO" */
static void write_holder(int fd, const char *who) {
    char line[HOLDER_LINE_MAX], when[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    int n = snprintf(line, sizeof line, "pid %ld since %s: %s\n", (long)getpid(), when, who ? who : "dynn");
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1, line[n - 1] = '\n';
    if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)n, 0) < 0) {
    } /* only a courtesy to waiters: the lock is what counts */
}

/* ---- taking and releasing ---- */

static void nap(double seconds) {
    struct timespec ts = {.tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - floor(seconds)) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

int platform_lock_acquire(const PlatformLockRequest *req, PlatformLock *lock, Err *err) {
    lock->fd = -1;
    lock->waited_s = 0;
    if (lock_path(req->identity, lock->path, sizeof lock->path, err)) return -1;
    int fd = open_lock(lock->path, err);
    if (fd < 0) return -1;
    double t0 = provenance_now(), next_report = t0, pause = 0.05;
    double every = req->report_s > 0 ? req->report_s : 30;
    int reported = 0;
    long pid = 0;
    char line[HOLDER_LINE_MAX] = "", who[HOLDER_LINE_MAX + 64];
    for (;;) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_SETLK, &fl) == 0) break;
        if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
            int e = errno;
            close(fd);
            return err_set(err, "cannot lock %s (%s): %s", req->label, lock->path, strerror(e));
        }
        read_holder(fd, &pid, line, sizeof line);
        holder_text(pid, line, who, sizeof who);
        double now = provenance_now(), waited = now - t0;
        if (req->timeout_s > 0 && waited >= req->timeout_s) {
            close(fd);
            return err_set(err, "%s is still held by %s after waiting %.1f s (limit %s, dynn run --board-wait); let that run "
                                "finish or raise the limit", req->label, who, waited, PLATFORM_LOCK_WAIT_ENV);
        }
        if (req->progress && now >= next_report) {
            if (!reported++) fprintf(req->progress, "waiting for %s, held by %s\n", req->label, who);
            else fprintf(req->progress, "still waiting for %s after %.0f s, held by %s\n", req->label, waited, who);
            fflush(req->progress);
            next_report = now + every;
        }
        double left = req->timeout_s > 0 ? req->timeout_s - waited : pause;
        nap(left < pause ? (left > 0.001 ? left : 0.001) : pause);
        if (pause < 0.25) pause *= 2;
    }
    write_holder(fd, req->holder);
    lock->fd = fd;
    lock->waited_s = provenance_now() - t0;
    return 0;
}

void platform_lock_release(PlatformLock *lock) {
    if (lock->fd < 0) return;
    if (ftruncate(lock->fd, 0)) {
    } /* the next holder writes its own line anyway */
    close(lock->fd); /* drops the lock */
    lock->fd = -1;
}
