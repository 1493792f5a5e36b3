/* reports/report.c — a run report built in a temporary directory and renamed into place (see
 * report.h). */
#include "reports/report.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/aggregate.h"
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

int report_write(const RunData *d, const char *dir, size_t *n_figures, Err *err) {
    char tmp[PATH_MAX], old[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
    snprintf(old, sizeof old, "%s.old.%ld", dir, (long)getpid());
    struct stat st;
    int exists = lstat(dir, &st) == 0;
    if (exists && !S_ISDIR(st.st_mode)) return err_set(err, "%s exists and is not a directory; give another -o", dir);
    fs_remove_tree(tmp, NULL);
    if (fs_mkdir_p(tmp, err)) return -1;
    if (build(d, tmp, n_figures, err)) {
        fs_remove_tree(tmp, NULL);
        return err_prefix(err, "report for run %.8s", d->uuid);
    }
    if (exists && rename(dir, old)) {
        int e = errno;
        fs_remove_tree(tmp, NULL);
        return err_set(err, "%s: cannot move the old report aside: %s", dir, strerror(e));
    }
    if (rename(tmp, dir)) {
        int e = errno;
        if (exists) rename(old, dir);
        fs_remove_tree(tmp, NULL);
        return err_set(err, "%s: cannot rename %s into place: %s", dir, tmp, strerror(e));
    }
    if (exists) fs_remove_tree(old, NULL);
    return 0;
}
