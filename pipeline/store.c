/* pipeline/store.c — the content-addressed artifact store and its quarantine (see store.h). */
#include "pipeline/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/provenance.h"
#include "util/fs.h"

#define STORE_PREFIX "store/"
#define REL_LEN (sizeof STORE_PREFIX - 1 + 2 + 1 + SHA256_HEX_LEN - 2) /* store/ab/ + 62 */

int store_abs(const char *state_dir, const char *rel, char *out, size_t size) { return fs_join(out, size, state_dir, rel); }

void store_rel(const char *hash, char rel[STORE_REL_MAX]) { snprintf(rel, STORE_REL_MAX, STORE_PREFIX "%.2s/%s", hash, hash + 2); }

static int is_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* The hash an object path claims ("store/ab/cdef…" → "abcdef…"); 0 when rel is not one. */
static int claimed_hash(const char *rel, char hash[SHA256_HEX_LEN + 1]) {
    const size_t p = sizeof STORE_PREFIX - 1;
    if (strlen(rel) != REL_LEN || strncmp(rel, STORE_PREFIX, p) || rel[p + 2] != '/' || !is_hex(rel + p, 2) ||
        !is_hex(rel + p + 3, SHA256_HEX_LEN - 2))
        return 0;
    snprintf(hash, SHA256_HEX_LEN + 1, "%.2s%s", rel + p, rel + p + 3);
    return 1;
}

/* ---- quarantine ---- */

/* Moves path to quarantine/<label>.<UTC time>.<pid>[-N]. With `hashed`, the move must have taken
 * that very file (device and inode): if another process replaced it meanwhile (with a good copy),
 * it is put back. Returns 0 moved (moved[] set), 1 the file was gone or replaced (nothing moved),
 * -1 error. */
static int quarantine(const char *state_dir, const char *path, const char *label, const struct stat *hashed, char *moved,
                      size_t size, Err *err) {
    char dir[PATH_MAX], stamp[32];
    if (fs_join(dir, sizeof dir, state_dir, STORE_QUARANTINE_DIR)) return err_set(err, "%s: path too long", state_dir);
    if (fs_mkdir_p(dir, err)) return -1;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    struct stat st;
    int n = snprintf(moved, size, "%s/%s.%s.%ld", dir, label, stamp, (long)getpid());
    for (int k = 2; n > 0 && (size_t)n < size && lstat(moved, &st) == 0; k++)
        n = snprintf(moved, size, "%s/%s.%s.%ld-%d", dir, label, stamp, (long)getpid(), k);
    if (n < 0 || (size_t)n >= size) return err_set(err, "%s: quarantine path too long", dir);
    if (rename(path, moved) != 0) {
        if (errno == ENOENT) return moved[0] = '\0', 1;
        return err_set(err, "%s: cannot move it to %s: %s", path, moved, strerror(errno));
    }
    if (hashed && (lstat(moved, &st) != 0 || st.st_dev != hashed->st_dev || st.st_ino != hashed->st_ino)) {
        rename(moved, path); /* a fresh copy: every copy under this name has the same bytes */
        moved[0] = '\0';
        return 1;
    }
    return 0;
}

static StoreState bad(StoreCheck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static StoreState bad(StoreCheck *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return c->state = STORE_BAD;
}

/* Moves a bad object to the quarantine; c->fate says where it went (or why it stayed). */
static void move_bad(const char *state_dir, const char *path, const char *claimed, const struct stat *st, StoreCheck *c) {
    Err err;
    int rc = quarantine(state_dir, path, claimed, st, c->quarantined, sizeof c->quarantined, &err);
    if (rc == 0) snprintf(c->fate, sizeof c->fate, "moved to %s", c->quarantined);
    else if (rc == 1) snprintf(c->fate, sizeof c->fate, "another process replaced it meanwhile");
    else snprintf(c->fate, sizeof c->fate, "left in place: %s", err.msg);
}

StoreState store_check(const char *state_dir, const char *rel, uint64_t size, int move, StoreCheck *c) {
    memset(c, 0, sizeof *c);
    char claimed[SHA256_HEX_LEN + 1], path[PATH_MAX], got[SHA256_HEX_LEN + 1];
    if (!claimed_hash(rel, claimed)) return bad(c, "not a store object path (store/<2 hex>/<62 hex>)");
    if (store_abs(state_dir, rel, path, sizeof path)) return bad(c, "path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) return c->state = STORE_MISSING;
    struct stat st;
    uint64_t n = 0;
    Err err;
    if (fd < 0) {
        bad(c, "cannot open: %s", strerror(errno));
        if (lstat(path, &st) != 0) return c->state = STORE_MISSING;
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bad(c, "not a regular file");
    } else if (fs_sha256_fd(fd, "", got, &n, &err)) {
        bad(c, "%s", err.msg + 2); /* "cannot read: …" */
    } else if (strcmp(got, claimed)) {
        bad(c, "content hashes to %.16s…, not to its name", got);
    } else {
        close(fd);
        if (size != STORE_ANY_SIZE && n != size)
            return bad(c, "the object has %llu bytes, the database says %llu", (unsigned long long)n, (unsigned long long)size);
        return c->state = STORE_OK;
    }
    if (fd >= 0) close(fd);
    if (move) move_bad(state_dir, path, claimed, &st, c);
    return STORE_BAD;
}

/* ---- put and restore ---- */

int store_put(const char *state_dir, const char *src, char hash[SHA256_HEX_LEN + 1], char rel[STORE_REL_MAX],
              uint64_t *size, Err *err) {
    if (fs_sha256_file(src, hash, size, err)) return -1;
    store_rel(hash, rel);
    char path[PATH_MAX], dir[PATH_MAX];
    if (store_abs(state_dir, rel, path, sizeof path)) return err_set(err, "%s: store path too long", state_dir);
    StoreCheck c;
    StoreState s = store_check(state_dir, rel, *size, 1, &c);
    if (s == STORE_OK) return 0;
    if (s == STORE_BAD) fprintf(stderr, "dynn: warning: %s: %s; %s; storing it again from %s\n", rel, c.why, c.fate, src);
    fs_dirname(path, dir, sizeof dir);
    if (fs_mkdir_p(dir, err)) return -1;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return err_set(err, "%s: cannot open: %s", src, strerror(errno));
    int rc = fs_copy_fd(in, src, path, 1, 0444, hash, NULL, NULL, err);
    close(in);
    if (rc == FS_HASH_MISMATCH) return err_set(err, "%s: the file changed while it was being stored", src);
    return rc ? -1 : 0;
}

int store_restore(const char *state_dir, const char *rel, const char *dest, Err *err) {
    char claimed[SHA256_HEX_LEN + 1], path[PATH_MAX], dir[PATH_MAX];
    if (!claimed_hash(rel, claimed)) return err_set(err, "'%s' is not a store object path", rel);
    if (store_abs(state_dir, rel, path, sizeof path)) return err_set(err, "%s: store path too long", state_dir);
    int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = fstat(in, &st) != 0 ? err_set(err, "%s: cannot stat: %s", path, strerror(errno)) : 0;
    fs_dirname(dest, dir, sizeof dir);
    if (!rc) rc = fs_mkdir_p(dir, err);
    if (!rc) rc = fs_copy_fd(in, path, dest, 0, 0644, claimed, NULL, NULL, err);
    close(in);
    if (rc != FS_HASH_MISMATCH) return rc ? -1 : 0;
    StoreCheck c = {.state = STORE_BAD};
    move_bad(state_dir, path, claimed, &st, &c);
    return err_set(err, "%s: content does not match its name, not restored to %s; %s", rel, dest, c.fate);
}

int store_restore_path(const char *object, const char *dest, Err *err) {
    size_t len = strlen(object);
    char state_dir[PATH_MAX];
    if (len <= REL_LEN || object[len - REL_LEN - 1] != '/' || len - REL_LEN - 1 >= sizeof state_dir)
        return err_set(err, "%s: not an object of a store", object);
    snprintf(state_dir, sizeof state_dir, "%.*s", (int)(len - REL_LEN - 1), object);
    return store_restore(state_dir, object + len - REL_LEN, dest, err);
}

/* ---- walking ---- */

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int not_dots(const struct dirent *e) { return strcmp(e->d_name, ".") && strcmp(e->d_name, ".."); }

/* Names in a directory, sorted; *n = -1 and an error unless it is missing (then 0 names). */
static struct dirent **list_dir(const char *dir, int *n, Err *err) {
    struct dirent **names = NULL;
    *n = scandir(dir, &names, not_dots, by_name);
    if (*n < 0 && errno == ENOENT) *n = 0;
    else if (*n < 0) err_set(err, "%s: cannot list: %s", dir, strerror(errno));
    return names;
}

static void free_names(struct dirent **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static void classify(const char *sub, const char *name, StoreEntry *e) {
    size_t len = strlen(name);
    memset(e, 0, sizeof *e);
    snprintf(e->rel, sizeof e->rel, STORE_PREFIX "%.2s/%s", sub, name); /* sub: two hex digits (store_walk) */
    e->kind = STORE_ENTRY_STRAY;
    e->pid = -1;
    if (len < SHA256_HEX_LEN - 2 || !is_hex(name, SHA256_HEX_LEN - 2)) return;
    if (len == SHA256_HEX_LEN - 2) {
        e->kind = STORE_ENTRY_OBJECT;
    } else if (!strncmp(name + SHA256_HEX_LEN - 2, FS_TEMP_INFIX, strlen(FS_TEMP_INFIX)) && (e->pid = fs_temp_writer(name)) > 0) {
        e->kind = STORE_ENTRY_TEMP;
    } else {
        e->pid = -1;
        return;
    }
    snprintf(e->hash, sizeof e->hash, "%.2s%.*s", sub, SHA256_HEX_LEN - 2, name);
}

int store_walk(const char *state_dir, StoreVisit visit, void *ctx, Err *err) {
    char top[PATH_MAX], dir[PATH_MAX + 256];
    if (fs_join(top, sizeof top, state_dir, "store")) return err_set(err, "%s: path too long", state_dir);
    int n_top, rc = 0;
    struct dirent **subs = list_dir(top, &n_top, err);
    if (n_top < 0) return -1;
    for (int i = 0; i < n_top && !rc; i++) {
        const char *sub = subs[i]->d_name;
        struct stat st;
        snprintf(dir, sizeof dir, "%s/%s", top, sub);
        if (strlen(sub) != 2 || !is_hex(sub, 2) || lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            StoreEntry e = {.kind = STORE_ENTRY_STRAY, .pid = -1};
            snprintf(e.rel, sizeof e.rel, STORE_PREFIX "%s", sub);
            rc = visit(ctx, &e);
            continue;
        }
        int n;
        struct dirent **names = list_dir(dir, &n, err);
        if (n < 0) {
            rc = -1;
            break;
        }
        for (int k = 0; k < n && !rc; k++) {
            StoreEntry e;
            classify(sub, names[k]->d_name, &e);
            rc = visit(ctx, &e);
        }
        free_names(names, n);
    }
    free_names(subs, n_top);
    return rc;
}

int store_temp_alive(const StoreEntry *e) { return provenance_pid_running(e->pid); }

int store_remove_dead_temp(const char *state_dir, const StoreEntry *e, Err *err) {
    char path[PATH_MAX];
    if (e->kind != STORE_ENTRY_TEMP) return err_set(err, "%s: not a temp file of the store", e->rel);
    if (store_temp_alive(e)) return 0;
    if (store_abs(state_dir, e->rel, path, sizeof path)) return err_set(err, "%s: path too long", e->rel);
    if (unlink(path) != 0 && errno != ENOENT) return err_set(err, "%s: cannot remove: %s", path, strerror(errno));
    return 1;
}

int store_quarantine_stray(const char *state_dir, const StoreEntry *e, char *moved, size_t size, Err *err) {
    char path[PATH_MAX], label[sizeof e->rel + 8];
    if (store_abs(state_dir, e->rel, path, sizeof path)) return err_set(err, "%s: path too long", e->rel);
    snprintf(label, sizeof label, "stray.%s", e->rel + strlen(STORE_PREFIX));
    for (char *p = label; *p; p++)
        if (*p == '/') *p = '_';
    int rc = quarantine(state_dir, path, label, NULL, moved, size, err);
    return rc < 0 ? -1 : 0;
}
