/* reports/figures.h — the figures of a run report: data files and gnuplot commands per figure,
 * rendered through reports/plot.h into one directory.
 *
 *   acc_latency_<platform>_b<batch>  accuracy vs median latency, one series per method, fronts drawn
 *   acc_energy_<platform>_b<batch>   the same against energy per inference (when measured)
 *   acc_mflops[_<arch>]              accuracy vs MFLOPs per image (2 x MACs), one line per model; one
 *                                    figure per architecture (suffixed when the run has several)
 *   latency_width_<group>            median latency vs subnet width, one line per core mapping
 *   dvfs_mapping_<group>             heat map of the largest subnet's latency, frequency x mapping
 *                                    (only where frequencies were swept)
 *   ranges_latency, ranges_energy    dynamic-range bars per method/platform/batch */
#ifndef DYNN_REPORTS_FIGURES_H
#define DYNN_REPORTS_FIGURES_H

#include <stddef.h>

#include "reports/aggregate.h"
#include "reports/rundata.h"
#include "util/err.h"

typedef struct ReportFigure {
    char name[192];   /* file stem: NAME.png, NAME.svg */
    char title[256];
} ReportFigure;

typedef struct ReportFigures {
    ReportFigure *items;
    size_t n;
} ReportFigures;

/* Draws every figure the data allows into dir; the list says which were drawn. */
int report_figures(const RunData *d, const Aggregate *a, const char *dir, ReportFigures *out, Err *err);
void report_figures_free(ReportFigures *f);

#endif
