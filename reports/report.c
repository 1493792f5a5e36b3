/* reports/report.c — a run report built in a temporary directory and swapped into place, and the
 * one check of where a report may go (see report.h). */
#include "reports/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/aggregate.h"
#include "util/atomic_file.h"
#include "util/fs.h"

static int build(const RunData *d, const char *tmp, size_t *n_figures, Err *err) {
    char plots[PATH_MAX], md[PATH_MAX], html[PATH_MAX];
    if (fs_join(plots, sizeof plots, tmp, "plots") || fs_join(md, sizeof md, tmp, "report.md") ||
        fs_join(html, sizeof html, tmp, "report.html"))
        return err_set(err, "%s: path too long", tmp);
    if (fs_mkdir_p(plots, err)) return -1;
    Aggregate a;
    if (aggregate_run(d, &a, err)) return -1;
    ReportFigures figs = {0};
    ReportSections secs = {0};
    int rc = report_figures(d, &a, plots, &figs, err);
    if (!rc) rc = report_tables(d, &a, &secs, err);
    if (!rc) rc = report_markdown(md, d, &secs, &figs, err);
    if (!rc) rc = report_html(html, plots, d, &secs, &figs, err);
    *n_figures = figs.n;
    report_sections_free(&secs);
    report_figures_free(&figs);
    aggregate_free(&a);
    return rc;
}

/* Where `out` is once '.' and empty components are dropped ("./a//b/" -> "a/b"); refuses what
 * cannot stay below the working directory by its letters alone. */
static int normalize(const char *out, char *rel, size_t size, Err *err) {
    if (out[0] == '/') return err_set(err, "'%s' must be relative to the working directory", out);
    size_t n = 0;
    rel[0] = '\0';
    for (const char *p = out; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return err_set(err, "'%s' may not contain '..' (a report directory stays below the working directory)", out);
        if (len && !(len == 1 && p[0] == '.')) {
            if (n + !!n + len >= size) return err_set(err, "'%s': path too long", out);
            if (n) rel[n++] = '/';
            memcpy(rel + n, p, len);
            rel[n += len] = '\0';
        }
        p += len + (p[len] == '/');
    }
    if (!n) return err_set(err, "'%s' is the working directory; give the report a directory of its own below it", out);
    return 0;
}

/* A destination inside the state directory sd (resolved). When the working directory itself lies
 * in sd (`--db results.db` keeps the state in the working directory), only dynn's own entries there
 * are refused. */
static int check_state_dir(const char *out, const char *dir, const char *wd, const char *sd, const char *db_name, Err *err) {
    if (!strcmp(dir, sd))
        return err_set(err, "'%s' is the dynn state directory (results database, store, logs); choose another directory", out);
    if (fs_within(sd, dir)) return err_set(err, "'%s' contains the dynn state directory %s; choose another directory", out, sd);
    if (!fs_within(dir, sd)) return 0;
    if (!fs_within(wd, sd)) return err_set(err, "'%s' is inside the dynn state directory %s; choose a directory outside it", out, sd);
    static const char *const owned[] = {"store", "logs", "work"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        if (!fs_join(path, sizeof path, sd, owned[i]) && fs_within(dir, path))
            return err_set(err, "'%s' %s dynn's %s (%s); choose another directory", out, strcmp(dir, path) ? "is inside" : "is",
                           owned[i], path);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        int n = snprintf(path, sizeof path, "%s/%s%s", sd, db_name, suffixes[i]);
        if (n > 0 && (size_t)n < sizeof path && fs_within(dir, path))
            return err_set(err, "'%s' is the results database's file %s; choose another directory", out, path);
    }
    return 0;
}

/* An existing destination: a directory that is empty or holds the marker (a report dynn wrote). */
static int check_existing(const char *out, const char *dir, Err *err) {
    struct stat st;
    if (lstat(dir, &st) != 0) return errno == ENOENT ? 0 : err_set(err, "'%s': %s", out, strerror(errno));
    if (S_ISLNK(st.st_mode)) return err_set(err, "'%s' is a symlink; give a directory", out);
    if (!S_ISDIR(st.st_mode)) return err_set(err, "'%s' exists and is not a directory; choose another directory", out);
    char marker[PATH_MAX];
    if (fs_join(marker, sizeof marker, dir, REPORT_MARKER)) return err_set(err, "'%s': path too long", out);
    int ours = 0;
    int fd = open(marker, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC); /* a FIFO there must not block */
    if (fd >= 0) {
        char head[sizeof REPORT_MARKER_MAGIC - 1];
        ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, head, sizeof head) == (ssize_t)sizeof head &&
               !memcmp(head, REPORT_MARKER_MAGIC, sizeof head);
        close(fd);
    }
    if (!ours) {
        DIR *d = opendir(dir);
        if (!d) return err_set(err, "'%s': cannot read: %s", out, strerror(errno));
        struct dirent *e;
        while ((e = readdir(d)) && (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")))
            ;
        closedir(d);
        if (e)
            return err_set(err, "'%s' exists, is not empty and is not a dynn report (no " REPORT_MARKER "); remove it or choose another directory",
                           out);
    }
    Err why;
    if (fs_check_tree(dir, &why)) return err_set(err, "cannot replace '%s': %s; unmount it or choose another directory", out, why.msg);
    return 0;
}

int report_dest_check(const char *out, const char *workdir, const char *db_path, char *dir, size_t size, Err *err) {
    char rel[PATH_MAX], wd[PATH_MAX], lexical[PATH_MAX], db[PATH_MAX], sd[PATH_MAX];
    if (normalize(out, rel, sizeof rel, err)) return -1;
    if (fs_resolve(workdir, wd, sizeof wd, err)) return err_prefix(err, "the working directory");
    if (fs_join(lexical, sizeof lexical, wd, rel) || fs_join(db, sizeof db, wd, db_path))
        return err_set(err, "'%s': path too long", out);
    if (fs_resolve(lexical, dir, size, err)) return err_prefix(err, "'%s'", out);
    if (!strcmp(dir, wd)) return err_set(err, "'%s' is the working directory; give the report a directory of its own below it", out);
    if (fs_within(wd, dir)) return err_set(err, "'%s' contains the working directory (it is %s); choose a directory below it", out, dir);
    if (!fs_within(dir, wd))
        return err_set(err, "'%s' leads out of the working directory through a symlink (to %s); choose a directory below it", out, dir);
    char db_dir[PATH_MAX];
    fs_dirname(db, db_dir, sizeof db_dir);
    if (fs_resolve(db_dir, sd, sizeof sd, err)) return err_prefix(err, "the state directory");
    if (check_state_dir(out, dir, wd, sd, strrchr(db, '/') + 1, err)) return -1;
    return check_existing(out, lexical, err);
}

/* A new directory "<dir>.tmp.<pid>[.N]" beside dir, never one that was there. */
static int make_temp_dir(const char *dir, char *tmp, size_t size, Err *err) {
    for (int i = 0; i < 100; i++) {
        int n = i ? snprintf(tmp, size, "%s.tmp.%ld.%d", dir, (long)getpid(), i) : snprintf(tmp, size, "%s.tmp.%ld", dir, (long)getpid());
        if (n < 0 || (size_t)n >= size) return err_set(err, "%s: path too long", dir);
        if (mkdir(tmp, 0777) == 0) return 0;
        if (errno != EEXIST) return err_set(err, "%s: cannot create: %s", tmp, strerror(errno));
    }
    return err_set(err, "%s: no free temporary name beside it", dir);
}

/* Puts the finished tmp at dir: swapped atomically with an existing dir (which ends up at tmp), or
 * renamed to a missing one without replacing anything that appeared meanwhile. Where the file
 * system cannot swap, the old dir is moved aside to *aside first and put back if the rename fails. */
static int put_in_place(const char *tmp, const char *dir, int exists, char *aside, size_t size, Err *err) {
    snprintf(aside, size, "%s", tmp);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, exists ? RENAME_EXCHANGE : RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return err_set(err, "%s: cannot put the report in place: %s", dir, strerror(errno));
    if (exists) {
        int n = snprintf(aside, size, "%s.old.%ld", dir, (long)getpid());
        if (n < 0 || (size_t)n >= size) return err_set(err, "%s: path too long", dir);
        if (rename(dir, aside)) return err_set(err, "%s: cannot move the old report aside: %s", dir, strerror(errno));
    }
    if (rename(tmp, dir)) {
        int e = errno;
        if (exists) rename(aside, dir);
        return err_set(err, "%s: cannot rename %s into place: %s", dir, tmp, strerror(e));
    }
    return 0;
}

int report_write(const RunData *d, const char *out, const char *workdir, const char *db_path, size_t *n_figures, Err *err) {
    char dir[PATH_MAX], parent[PATH_MAX], tmp[PATH_MAX], aside[PATH_MAX], marker[PATH_MAX];
    if (report_dest_check(out, workdir, db_path, dir, sizeof dir, err)) return -1;
    fs_dirname(dir, parent, sizeof parent);
    if (fs_mkdir_p(parent, err) || make_temp_dir(dir, tmp, sizeof tmp, err)) return -1;
    char text[128];
    snprintf(text, sizeof text, REPORT_MARKER_MAGIC "1\nrun %s\n", d->uuid);
    int rc = build(d, tmp, n_figures, err);
    if (!rc && fs_join(marker, sizeof marker, tmp, REPORT_MARKER)) rc = err_set(err, "%s: path too long", tmp);
    if (!rc) rc = atomic_write_file(marker, text, strlen(text), err); /* last: a complete report */
    if (rc) {
        fs_remove_tree(tmp, NULL);
        return err_prefix(err, "report for run %.8s", d->uuid);
    }
    struct stat st;
    int exists = lstat(dir, &st) == 0;
    if (put_in_place(tmp, dir, exists, aside, sizeof aside, err)) {
        fs_remove_tree(tmp, NULL);
        return -1;
    }
    if (exists && fs_remove_tree(aside, err))
        return err_prefix(err, "the report is in '%s', but its previous version, moved to %s, was not removed", out, aside);
    return 0;
}
