/* reports/report.h — a run report on disk: report.md (Markdown tables), report.html (one
 * self-contained page: the same tables, every figure inlined as base64 SVG) and plots/ (PNG and SVG
 * of every figure, with their data files and gnuplot scripts).
 *
 * Everything is written into DIR.tmp.<pid> beside DIR and renamed into place; an existing DIR is
 * moved aside first and removed after, so DIR is never half-written. A run without measurements
 * still gets its accuracy tables and figures, and the report says what is missing. */
#ifndef DYNN_REPORTS_REPORT_H
#define DYNN_REPORTS_REPORT_H

#include <stddef.h>

#include "reports/figures.h"
#include "reports/rundata.h"
#include "reports/tables.h"
#include "util/err.h"

int report_write(const RunData *d, const char *dir, size_t *n_figures, Err *err);

/* The two documents, given their content (reports/markdown.c, reports/html.c). plot_dir is where
 * the figures' SVG files are read from (html). */
int report_markdown(const char *path, const RunData *d, const ReportSections *s, const ReportFigures *f, Err *err);
int report_html(const char *path, const char *plot_dir, const RunData *d, const ReportSections *s, const ReportFigures *f,
                Err *err);

#endif
