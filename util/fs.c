/* util/fs.c — file-system helpers (see fs.h). */
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdir_p(const char *path, Err *err) {
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) return err_set(err, "%s: bad directory path", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set(err, "%s: cannot create directory: %s", buf, strerror(errno));
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return err_set(err, "%s: not a directory", path);
    return 0;
}

int fs_read_file(const char *path, char **data, size_t *len, Err *err) {
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            return err_set(err, "%s: out of memory", path);
        }
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = bigger, cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            return err_set(err, "%s: cannot read: %s", path, strerror(saved));
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

static void temp_name(char *out, size_t size, const char *path) {
    snprintf(out, size, "%s" FS_TEMP_INFIX "%ld", path, (long)getpid());
}

static int pwrite_all(int fd, const char *p, size_t len, off_t offset) {
    while (len) {
        ssize_t n = pwrite(fd, p, len, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n, len -= (size_t)n, offset += n;
    }
    return 0;
}

int fs_overwrite_file(const char *path, const void *data, size_t len, Err *err) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return err_set(err, "%s: cannot create: %s", path, strerror(errno));
    const char *p = data;
    int bad = len && (pwrite_all(fd, p + 1, len - 1, 1) || ftruncate(fd, (off_t)len) || pwrite_all(fd, p, 1, 0));
    if (!len) bad = ftruncate(fd, 0) != 0;
    int saved = errno;
    if (close(fd) != 0 && !bad) bad = 1, saved = errno;
    return bad ? err_set(err, "%s: cannot write: %s", path, strerror(saved)) : 0;
}

int fs_spoil_first_byte(const char *path, Err *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return err_set(err, "%s: cannot create: %s", path, strerror(errno));
    int bad = pwrite_all(fd, "!", 1, 0);
    int saved = errno;
    if (close(fd) != 0 && !bad) bad = 1, saved = errno;
    return bad ? err_set(err, "%s: cannot write: %s", path, strerror(saved)) : 0;
}

int fs_sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN + 1], uint64_t *size, Err *err) {
    Sha256 h;
    sha256_init(&h);
    char buf[1 << 16];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return err_set(err, "%s: cannot read: %s", name, strerror(errno));
        if (n == 0) break;
        sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    uint8_t digest[SHA256_BYTES];
    sha256_final(&h, digest);
    sha256_hex(digest, hex);
    if (size) *size = total;
    return 0;
}

int fs_sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *size, Err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = fs_sha256_fd(fd, path, hex, size, err);
    close(fd);
    return rc;
}

int fs_copy_fd(int in, const char *src, const char *dst, int durable, unsigned mode, const char *expect,
               char hex[SHA256_HEX_LEN + 1], uint64_t *size, Err *err) {
    char tmp[PATH_MAX + 32];
    temp_name(tmp, sizeof tmp, dst);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0) return err_set(err, "%s: cannot create: %s", tmp, strerror(errno));
    int hashing = hex || expect;
    Sha256 h;
    sha256_init(&h);
    char buf[1 << 16];
    uint64_t total = 0;
    int bad = 0, saved = 0;
    const char *culprit = src;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            bad = 1, saved = errno;
            break;
        }
        if (n == 0) break;
        if (hashing) sha256_update(&h, buf, (size_t)n);
        if (write_all(out, buf, (size_t)n)) {
            bad = 1, saved = errno, culprit = dst;
            break;
        }
        total += (uint64_t)n;
    }
    char got[SHA256_HEX_LEN + 1] = "";
    if (hashing && !bad) {
        uint8_t digest[SHA256_BYTES];
        sha256_final(&h, digest);
        sha256_hex(digest, got);
        if (hex) memcpy(hex, got, sizeof got);
    }
    int mismatch = !bad && expect && strcmp(got, expect);
    if (!bad && !mismatch && fchmod(out, mode) != 0) bad = 1, saved = errno, culprit = dst;
    if (!bad && !mismatch && durable && fsync(out) != 0) bad = 1, saved = errno, culprit = dst;
    if (close(out) != 0 && !bad) bad = 1, saved = errno, culprit = dst;
    if (!bad && !mismatch && rename(tmp, dst) != 0) bad = 1, saved = errno, culprit = dst;
    if (bad || mismatch) unlink(tmp);
    if (mismatch) {
        err_set(err, "%s: content hashes to %s, expected %s", src, got, expect);
        return FS_HASH_MISMATCH;
    }
    if (bad) return err_set(err, "%s: cannot copy: %s", culprit, strerror(saved));
    if (size) *size = total;
    return 0;
}

int fs_copy_file(const char *src, const char *dst, int durable, unsigned mode, char hex[SHA256_HEX_LEN + 1],
                 uint64_t *size, Err *err) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return err_set(err, "%s: cannot open: %s", src, strerror(errno));
    int rc = fs_copy_fd(in, src, dst, durable, mode, NULL, hex, size, err);
    close(in);
    return rc;
}

long fs_temp_writer(const char *name) {
    const char *infix = NULL;
    for (const char *p = strstr(name, FS_TEMP_INFIX); p; p = strstr(p + 1, FS_TEMP_INFIX)) infix = p;
    if (!infix || infix == name || infix[-1] == '/') return -1;
    const char *digits = infix + strlen(FS_TEMP_INFIX);
    if (!*digits || strlen(digits) > 9) return -1;
    long pid = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        pid = pid * 10 + (*p - '0');
    }
    return pid > 0 ? pid : -1;
}

int fs_absolute(const char *path, char *out, size_t size, Err *err) {
    if (path[0] == '/') {
        if (strlen(path) >= size) return err_set(err, "%s: path too long", path);
        snprintf(out, size, "%s", path);
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return err_set(err, "cannot read the current directory: %s", strerror(errno));
    const char *rest = path;
    while (rest[0] == '.' && rest[1] == '/') rest += 2;
    if (!strcmp(rest, ".")) rest = "";
    int n = rest[0] ? snprintf(out, size, "%s/%s", cwd, rest) : snprintf(out, size, "%s", cwd);
    if (n < 0 || (size_t)n >= size) return err_set(err, "%s: path too long", path);
    return 0;
}

void fs_dirname(const char *path, char *out, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, size, ".");
        return;
    }
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= size) len = size - 1;
    memcpy(out, path, len);
    out[len] = '\0';
}

int fs_join(char *out, size_t size, const char *a, const char *b) {
    int n = b[0] == '/' ? snprintf(out, size, "%s", b) : snprintf(out, size, "%s/%s", a, b);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int fs_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

size_t fs_dir_files(const char *dir, unsigned long long *bytes) {
    size_t files = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    const struct dirent *e;
    while ((e = readdir(d))) {
        char path[PATH_MAX];
        struct stat st;
        if (fs_join(path, sizeof path, dir, e->d_name) || lstat(path, &st) || !S_ISREG(st.st_mode)) continue;
        files++;
        if (bytes) *bytes += (unsigned long long)st.st_size;
    }
    closedir(d);
    return files;
}

int fs_check_writable_target(const char *path, const char *what, Err *err) {
    struct stat st;
    size_t len = strlen(path);
    if (len == 0) return err_set(err, "%s: an empty path", what);
    if (path[len - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        return err_set(err, "%s %s: is a directory; give a file name", what, path);
    char dir[PATH_MAX];
    fs_dirname(path, dir, sizeof dir);
    if (stat(dir, &st) != 0)
        return err_set(err, "%s %s: directory %s: %s; create it first", what, path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return err_set(err, "%s %s: %s is not a directory", what, path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return err_set(err, "%s %s: cannot write in %s: %s", what, path, dir, strerror(errno));
    return 0;
}

/* The root of a mount: on another device than the tree's top, or marked so by statx (a bind mount
 * of the same file system has the same device). */
static int is_mount_root(int dirfd, const char *name, const struct stat *st, dev_t top_dev) {
    if (st->st_dev != top_dev) return 1;
    struct statx sx;
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &sx) == 0 &&
        (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
        return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    return 0;
}

/* Depth first from `name` in dirfd; path[len] is its name for messages (PATH_MAX bytes, extended
 * and restored on the way down). Symlinks are entries, never followed; a mount point stops the walk.
 * With `remove`, every entry is removed after its contents. */
static int walk_tree(int dirfd, const char *name, char *path, size_t len, dev_t top_dev, int remove, Err *err) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : err_set(err, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (remove && unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
            return err_set(err, "%s: cannot remove: %s", path, strerror(errno));
        return 0;
    }
    if (is_mount_root(dirfd, name, &st, top_dev)) return err_set(err, "%s is a mount point; not removed", path);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat opened;
    if (fstat(fd, &opened) != 0 || opened.st_dev != st.st_dev || opened.st_ino != st.st_ino) {
        close(fd);
        return err_set(err, "%s: replaced while being walked; not removed", path);
    }
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int e = errno;
        close(fd);
        return err_set(err, "%s: cannot read: %s", path, strerror(e));
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (!e) {
            if (errno) rc = err_set(err, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        int n = snprintf(path + len, PATH_MAX - len, "/%s", e->d_name);
        if (n < 0 || (size_t)n >= PATH_MAX - len) {
            path[len] = '\0';
            rc = err_set(err, "%s: path too long below it", path);
            break;
        }
        rc = walk_tree(fd, e->d_name, path, len + (size_t)n, top_dev, remove, err);
        path[len] = '\0';
        if (rc) break;
    }
    closedir(dir);
    if (!rc && remove && unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = err_set(err, "%s: cannot remove: %s", path, strerror(errno));
    return rc;
}

static int tree(const char *top, int remove, Err *err) {
    char path[PATH_MAX];
    if (strlen(top) >= sizeof path) return err_set(err, "%s: path too long", top);
    snprintf(path, sizeof path, "%s", top);
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : err_set(err, "%s: %s", path, strerror(errno));
    return walk_tree(AT_FDCWD, top, path, strlen(path), st.st_dev, remove, err);
}

int fs_remove_tree(const char *path, Err *err) { return tree(path, 0, err) || tree(path, 1, err) ? -1 : 0; }

int fs_check_tree(const char *path, Err *err) { return tree(path, 0, err); }

int fs_resolve(const char *path, char *out, size_t size, Err *err) {
    char abs[PATH_MAX], real[PATH_MAX];
    if (fs_absolute(path, abs, sizeof abs, err)) return -1;
    if (realpath(abs, real)) {
        if (strlen(real) >= size) return err_set(err, "%s: path too long", real);
        snprintf(out, size, "%s", real);
        return 0;
    }
    int e = errno;
    struct stat st;
    if (e != ENOENT) return err_set(err, "%s: cannot resolve: %s", path, strerror(e));
    if (lstat(abs, &st) == 0) /* it is there, but leads to nothing */
        return err_set(err, "%s: cannot resolve: %s", path, S_ISLNK(st.st_mode) ? "a symlink that leads nowhere" : strerror(e));
    /* missing: resolve the parent, then add the last name (which no symlink can hide) */
    char *slash = strrchr(abs, '/'); /* abs is absolute and "/" exists, so there is a parent */
    char name[NAME_MAX + 1], parent[PATH_MAX];
    if (strlen(slash + 1) > NAME_MAX) return err_set(err, "%s: name too long", path);
    snprintf(name, sizeof name, "%s", slash + 1);
    slash[slash == abs] = '\0';
    if (fs_resolve(abs, parent, sizeof parent, err)) return -1;
    if (!name[0] || !strcmp(name, ".")) {
        snprintf(out, size, "%s", parent);
        return strlen(parent) >= size ? err_set(err, "%s: path too long", parent) : 0;
    }
    if (!strcmp(name, "..")) {
        fs_dirname(parent, out, size);
        return 0;
    }
    int n = snprintf(out, size, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", name);
    return n < 0 || (size_t)n >= size ? err_set(err, "%s: path too long", path) : 0;
}

int fs_within(const char *path, const char *base) {
    size_t n = strlen(base);
    if (n == 1 && base[0] == '/') return path[0] == '/';
    return !strncmp(path, base, n) && (path[n] == '\0' || path[n] == '/');
}
