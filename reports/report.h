/* reports/report.h — a run report on disk: report.md (Markdown tables), report.html (one
 * self-contained page: the same tables, every figure inlined as base64 SVG) and plots/ (PNG and SVG
 * of every figure, with their data files and gnuplot scripts).
 *
 * Every report directory holds the marker file .dynn-report ("dynn-report 1\nrun <uuid>\n"): only a
 * directory with it (or an empty one) is ever replaced. Everything is written into a new
 * DIR.tmp.<pid> beside DIR, the marker last, then swapped with an existing DIR in one step
 * (renameat2 RENAME_EXCHANGE; where the file system cannot, DIR is moved aside and put back on
 * failure) and the old one removed, so DIR is never half-written and a report that fails leaves the
 * previous one as it was. A run without measurements still gets its accuracy tables and figures, and
 * the report says what is missing. */
#ifndef DYNN_REPORTS_REPORT_H
#define DYNN_REPORTS_REPORT_H

#include <stddef.h>

#include "reports/figures.h"
#include "reports/rundata.h"
#include "reports/tables.h"
#include "util/err.h"

#define REPORT_MARKER ".dynn-report"
#define REPORT_MARKER_MAGIC "dynn-report " /* its first bytes */

/* The one answer to "may a report be written to `out`?", for `dynn report -o` and the report stage
 * (at `dynn validate` and again when it runs). out is relative to workdir (absolute: where `dynn
 * run` or `dynn report` started); db_path is the results database (absolute, or relative to
 * workdir), whose directory is the state directory. Refused, with a one-line message naming out:
 * an absolute path or a '..' component; the working directory itself or anything containing it;
 * a path that leads out of it through a symlink; the state directory, anything containing it or
 * inside it (when the state directory is the working directory or above it, only dynn's own
 * entries there: store/, logs/, work/, the database files); an existing symlink, file, or
 * non-empty directory without the marker; a directory holding a mount point. On success dir[size]
 * is its physical absolute path (symlinks on the way resolved). */
int report_dest_check(const char *out, const char *workdir, const char *db_path, char *dir, size_t size, Err *err);

/* Writes the report to `out` after report_dest_check() (same arguments). */
int report_write(const RunData *d, const char *out, const char *workdir, const char *db_path, size_t *n_figures, Err *err);

/* The two documents, given their content (reports/markdown.c, reports/html.c). plot_dir is where
 * the figures' SVG files are read from (html). */
int report_markdown(const char *path, const RunData *d, const ReportSections *s, const ReportFigures *f, Err *err);
int report_html(const char *path, const char *plot_dir, const RunData *d, const ReportSections *s, const ReportFigures *f,
                Err *err);

#endif
