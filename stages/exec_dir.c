/* stages/exec_dir.c — the exec stage's private directory, a view of the working directory (see
 * exec_dir.h). */
#include "stages/exec_dir.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/strmap.h"

/* One component of a declared path. */
typedef struct Node {
    char *name;
    int is_dir;         /* a directory of the view (on the way to a declared path, or the cwd) */
    int is_file;        /* a declared file */
    struct Node **kids;
    size_t n_kids, cap_kids;
    StrMap index;       /* kid name → position in kids */
} Node;

struct ExecDir {
    char workdir[PATH_MAX];
    char root[PATH_MAX];
    char skip[NAME_MAX + 1]; /* the entry of workdir that holds root, "" when root is elsewhere */
    Node top;
};

static void node_free(Node *n) {
    for (size_t i = 0; i < n->n_kids; i++) {
        node_free(n->kids[i]);
        free(n->kids[i]);
    }
    free(n->kids);
    free(n->name);
    strmap_free(&n->index);
}

static Node *kid(const Node *n, const char *name) {
    size_t i;
    return strmap_get(&n->index, name, &i) ? n->kids[i] : NULL;
}

static Node *add_kid(Node *n, const char *name, size_t len) {
    char buf[NAME_MAX + 1];
    if (len > NAME_MAX) return NULL;
    memcpy(buf, name, len);
    buf[len] = '\0';
    Node *k = kid(n, buf);
    if (k) return k;
    if (n->n_kids == n->cap_kids) {
        size_t cap = n->cap_kids ? 2 * n->cap_kids : 4;
        Node **p = realloc(n->kids, cap * sizeof *p);
        if (!p) return NULL;
        n->kids = p, n->cap_kids = cap;
    }
    if (!(k = calloc(1, sizeof *k)) || !(k->name = strdup(buf)) || strmap_put(&n->index, k->name, n->n_kids)) {
        if (k) free(k->name);
        free(k);
        return NULL;
    }
    n->kids[n->n_kids++] = k;
    return k;
}

/* Adds a declared path ("a/./b//c" is a/b/c): its leading components are directories, the last is
 * a file or a directory. */
static int declare(ExecDir *d, const char *path, int is_dir, Err *err) {
    Node *n = &d->top;
    const char *p = path;
    while (*p) {
        size_t len = strcspn(p, "/");
        int last = p[len] == '\0' || !p[len + strspn(p + len, "/")];
        if (len && !(len == 1 && p[0] == '.')) {
            Node *k = add_kid(n, p, len);
            if (!k) return err_set(err, "'%s': out of memory or a path component longer than %d bytes", path, NAME_MAX);
            if (last && !is_dir) k->is_file = 1;
            else k->is_dir = 1;
            if (k->is_file && k->is_dir)
                return err_set(err, "'%.*s' is declared as a file (an output or input) and as a directory holding another",
                               (int)(p + len - path), path);
            n = k;
        }
        p += len;
        p += strspn(p, "/");
    }
    return 0;
}

static int join(char *out, const char *a, const char *b, Err *err) {
    if (fs_join(out, PATH_MAX, a, b)) return err_set(err, "%s/%s: path too long", a, b);
    return 0;
}

/* The working directory's rel ("" for itself), absolute. */
static int in_workdir(char *out, const ExecDir *d, const char *rel, Err *err) {
    if (rel[0]) return join(out, d->workdir, rel, err);
    snprintf(out, PATH_MAX, "%s", d->workdir);
    return 0;
}

/* rel/name, or name when rel is "" (the working directory itself). */
static int rel_join(char *out, const char *rel, const char *name, Err *err) {
    if (rel[0]) return join(out, rel, name, err);
    if (snprintf(out, PATH_MAX, "%s", name) >= PATH_MAX) return err_set(err, "%s: path too long", name);
    return 0;
}

/* Names in a directory (without . and ..) into *names (malloc'd, NULL when empty) and *n. */
static int list_dir(const char *path, char ***names, size_t *n, Err *err) {
    *names = NULL;
    *n = 0;
    DIR *dir = opendir(path);
    if (!dir) return err_set(err, "%s: cannot read: %s", path, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    int bad = 0;
    while (!bad && (e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) bad = 1;
            else *names = p;
        }
        if (!bad && !((*names)[*n] = strdup(e->d_name))) bad = 1;
        if (!bad) (*n)++;
    }
    closedir(dir);
    if (!bad) return 0;
    for (size_t i = 0; i < *n; i++) free((*names)[i]);
    free(*names);
    *names = NULL;
    *n = 0;
    return err_set(err, "out of memory");
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}


/* The view's links are relative, through ANCHOR beside the view (a link to the working directory,
 * made once per run): "../wd/NAME" from the view, "../../wd/DIR/NAME" one directory down. On ext4 a
 * link whose target has 60 bytes or more needs a block of its own and costs about 2.5 ms to make,
 * one of fewer bytes lives in its inode and costs about 10 us; absolute targets are often longer. */
#define ANCHOR "wd"

static int link_target(char *out, size_t size, int depth, const char *rel, const char *name) {
    size_t len = 0;
    for (int i = 0; i <= depth && len + 3 < size; i++) memcpy(out + len, "../", 3), len += 3;
    int n = snprintf(out + len, size - len, "%s/%s%s%s", ANCHOR, rel, rel[0] ? "/" : "", name);
    return n < 0 || (size_t)n >= size - len ? -1 : 0;
}

/* Whether here/name is the view's link for the working directory's rel/name. */
static int our_link(const char *path, int depth, const char *rel, const char *name) {
    char target[PATH_MAX], ours[PATH_MAX];
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0 || link_target(ours, sizeof ours, depth, rel, name)) return 0;
    target[len] = '\0';
    return !strcmp(target, ours);
}

/* Makes view directory `here` show the working directory's directory `rel` ("" for itself) except
 * n's kids: links that are already right stay (the slot's previous stage left them: making them
 * again for every stage would cost an inode each), everything else goes, missing links are made;
 * then n's directory kids, the same way. */
static int sync_view(const ExecDir *d, const char *here, const char *rel, const Node *n, int depth, Err *err) {
    char there[PATH_MAX];
    if (in_workdir(there, d, rel, err)) return -1;
    if (mkdir(here, 0777) != 0 && errno != EEXIST) return err_set(err, "%s: cannot create: %s", here, strerror(errno));
    char **wanted = NULL, **present = NULL;
    size_t n_wanted = 0, n_present = 0;
    StrMap index = {0};
    unsigned char *linked = NULL;
    struct stat st;
    int rc = 0;
    if (stat(there, &st) == 0 && S_ISDIR(st.st_mode)) rc = list_dir(there, &wanted, &n_wanted, err);
    if (!rc) rc = list_dir(here, &present, &n_present, err);
    if (!rc && !(linked = calloc(n_wanted + 1, 1))) rc = err_set(err, "out of memory");
    for (size_t i = 0; i < n_wanted && !rc; i++) /* kids and the state directory get no link */
        if (!kid(n, wanted[i]) && (depth || strcmp(wanted[i], d->skip)) && strmap_put(&index, wanted[i], i))
            rc = err_set(err, "out of memory");
    for (size_t i = 0; i < n_present && !rc; i++) {
        char path[PATH_MAX];
        size_t w;
        if (join(path, here, present[i], err)) rc = -1;
        else if (strmap_get(&index, present[i], &w) && our_link(path, depth, rel, present[i])) linked[w] = 1;
        else rc = fs_remove_tree(path, err);
    }
    for (size_t i = 0; i < n_wanted && !rc; i++) {
        size_t w;
        if (!strmap_get(&index, wanted[i], &w) || linked[w]) continue;
        char link[PATH_MAX], target[PATH_MAX];
        if (join(link, here, wanted[i], err)) rc = -1;
        else if (link_target(target, sizeof target, depth, rel, wanted[i])) rc = err_set(err, "%s/%s: path too long", there, wanted[i]);
        else if (symlink(target, link) != 0) rc = err_set(err, "%s: cannot create a link: %s", link, strerror(errno));
    }
    free_names(wanted, n_wanted);
    free_names(present, n_present);
    free(linked);
    strmap_free(&index);
    for (size_t i = 0; i < n->n_kids && !rc; i++) {
        if (!n->kids[i]->is_dir) continue;
        char sub_here[PATH_MAX], sub_rel[PATH_MAX];
        if (join(sub_here, here, n->kids[i]->name, err) || rel_join(sub_rel, rel, n->kids[i]->name, err)) return -1;
        rc = sync_view(d, sub_here, sub_rel, n->kids[i], depth + 1, err);
    }
    return rc;
}

/* ANCHOR beside root: a link to workdir (several slots of a run share it). */
static int make_anchor(const ExecDir *d, Err *err) {
    char parent[PATH_MAX], anchor[PATH_MAX], target[PATH_MAX];
    fs_dirname(d->root, parent, sizeof parent);
    if (join(anchor, parent, ANCHOR, err)) return -1;
    if (symlink(d->workdir, anchor) == 0) return 0;
    if (errno != EEXIST) return err_set(err, "%s: cannot create a link: %s", anchor, strerror(errno));
    ssize_t len = readlink(anchor, target, sizeof target - 1);
    if (len >= 0 && (target[len] = '\0', !strcmp(target, d->workdir))) return 0;
    return err_set(err, "%s exists and is not a link to the working directory %s", anchor, d->workdir);
}

int exec_dir_create(const char *workdir, const char *root, const char *const *dirs, size_t n_dirs,
                    const char *const *files, size_t n_files, ExecDir **out, Err *err) {
    *out = NULL;
    ExecDir *d = calloc(1, sizeof *d);
    if (!d) return err_set(err, "out of memory");
    snprintf(d->workdir, sizeof d->workdir, "%s", workdir);
    snprintf(d->root, sizeof d->root, "%s", root);
    size_t wlen = strlen(workdir), rlen = strlen(root);
    if (!strncmp(workdir, root, rlen) && (workdir[rlen] == '/' || workdir[rlen] == '\0')) {
        free(d);
        return err_set(err, "the stage's directory %s would hold the working directory %s", root, workdir);
    }
    if (!strncmp(root, workdir, wlen) && root[wlen] == '/')
        snprintf(d->skip, sizeof d->skip, "%.*s", (int)strcspn(root + wlen + 1, "/"), root + wlen + 1);
    int rc = 0;
    for (size_t i = 0; i < n_dirs && !rc; i++) rc = declare(d, dirs[i], 1, err);
    for (size_t i = 0; i < n_files && !rc; i++) rc = declare(d, files[i], 0, err);
    if (!rc && (fs_mkdir_p(root, err) || make_anchor(d, err))) rc = -1;
    if (!rc) rc = sync_view(d, root, "", &d->top, 0, err);
    if (rc) {
        exec_dir_remove(d);
        return err_prefix(err, "making the stage's directory");
    }
    *out = d;
    return 0;
}

/* ---- publishing ---- */

static int move_entry(const char *src, const char *dst, Err *err);

/* src is a directory that could not be renamed to dst: its entries go into dst one by one. */
static int merge_dir(const char *src, const char *dst, Err *err) {
    struct stat st;
    if (mkdir(dst, 0777) != 0 && !(errno == EEXIST && stat(dst, &st) == 0 && S_ISDIR(st.st_mode)))
        return err_set(err, "%s: cannot put a directory there: %s", dst, errno == EEXIST ? "a file is in the way" : strerror(errno));
    size_t n;
    char **names;
    if (list_dir(src, &names, &n, err)) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char s[PATH_MAX], t[PATH_MAX];
        rc = join(s, src, names[i], err) || join(t, dst, names[i], err) ? -1 : move_entry(s, t, err);
    }
    free_names(names, n);
    if (!rc) rmdir(src);
    return rc;
}

/* A file or link across file systems: copied beside dst, renamed over it, src removed. */
static int copy_entry(const char *src, const char *dst, const struct stat *st, Err *err) {
    if (S_ISREG(st->st_mode)) {
        if (fs_copy_file(src, dst, 0, st->st_mode & 07777, NULL, NULL, err)) return -1;
    } else if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX], tmp[PATH_MAX + 32];
        ssize_t len = readlink(src, target, sizeof target - 1);
        if (len < 0) return err_set(err, "%s: %s", src, strerror(errno));
        target[len] = '\0';
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", dst, (int)getpid());
        if (symlink(target, tmp) != 0 || rename(tmp, dst) != 0) {
            int saved = errno;
            unlink(tmp);
            return err_set(err, "%s: cannot create a link: %s", dst, strerror(saved));
        }
    } else {
        return 0; /* a socket or a fifo: nothing to carry over */
    }
    unlink(src);
    return 0;
}

static int move_entry(const char *src, const char *dst, Err *err) {
    if (rename(src, dst) == 0) return 0;
    if (errno == ENOENT) { /* the directory above dst is missing */
        char parent[PATH_MAX];
        fs_dirname(dst, parent, sizeof parent);
        if (fs_mkdir_p(parent, err)) return -1;
        if (rename(src, dst) == 0) return 0;
    }
    int saved = errno;
    struct stat st;
    if (lstat(src, &st) != 0) return err_set(err, "%s: %s", src, strerror(errno));
    if (S_ISDIR(st.st_mode)) return merge_dir(src, dst, err);
    if (saved == EXDEV) return copy_entry(src, dst, &st, err);
    return err_set(err, "%s: cannot replace it with the stage's %s: %s", dst, S_ISLNK(st.st_mode) ? "link" : "file", strerror(saved));
}

/* Moves the entries of view directory `here` (the working directory's `rel`) that the view did not
 * make into the working directory (at the top, never into the entry that holds the view: the
 * state directory). */
static int publish(const ExecDir *d, const char *here, const char *rel, const Node *n, int depth, Err *err) {
    size_t count;
    char **names;
    if (list_dir(here, &names, &count, err)) return -1;
    char there[PATH_MAX];
    int rc = in_workdir(there, d, rel, err);
    for (size_t i = 0; i < count && !rc; i++) {
        char src[PATH_MAX], dst[PATH_MAX];
        if (join(src, here, names[i], err) || join(dst, there, names[i], err)) {
            rc = -1;
            break;
        }
        const Node *k = kid(n, names[i]);
        struct stat st;
        if ((!depth && !strcmp(names[i], d->skip)) || lstat(src, &st) != 0) continue;
        if (k && k->is_dir && S_ISDIR(st.st_mode)) {
            char sub_rel[PATH_MAX];
            rc = rel_join(sub_rel, rel, names[i], err) ? -1 : publish(d, src, sub_rel, k, depth + 1, err);
            continue;
        }
        if (!k && S_ISLNK(st.st_mode) && our_link(src, depth, rel, names[i])) continue; /* unless the command made it */
        rc = move_entry(src, dst, err);
    }
    free_names(names, count);
    return rc;
}

int exec_dir_publish(ExecDir *d, Err *err) {
    if (publish(d, d->root, "", &d->top, 0, err)) return err_prefix(err, "moving the stage's files into the working directory");
    return 0;
}

void exec_dir_remove(ExecDir *d) {
    if (!d) return;
    size_t n;
    char **names;
    if (!list_dir(d->root, &names, &n, NULL)) { /* the view's own links stay for the slot's next stage */
        for (size_t i = 0; i < n; i++) {
            char path[PATH_MAX];
            if (!join(path, d->root, names[i], NULL) && !our_link(path, 0, "", names[i])) fs_remove_tree(path, NULL);
        }
        free_names(names, n);
    }
    node_free(&d->top);
    free(d);
}
