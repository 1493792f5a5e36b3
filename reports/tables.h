/* reports/tables.h — the tables of a run report, as util Tables in titled sections, so that the
 * Markdown and the HTML page (reports/markdown.c, reports/html.c) show the same numbers.
 *
 * Sections: provenance, what is missing, accuracy per subnet, latency percentiles, dynamic ranges,
 * Pareto fronts, comparison with the individually trained baseline. Units are in the column names;
 * accuracy in %, latency in ms, energy in mJ. */
#ifndef DYNN_REPORTS_TABLES_H
#define DYNN_REPORTS_TABLES_H

#include <stddef.h>

#include "reports/aggregate.h"
#include "reports/rundata.h"
#include "util/err.h"
#include "util/table.h"

typedef struct ReportSection {
    char title[128];
    char note[512];   /* a sentence under the title, may be empty */
    Table table;      /* n_cols 0: no table (the note says why) */
} ReportSection;

typedef struct ReportSections {
    ReportSection *items;
    size_t n;
} ReportSections;

int report_tables(const RunData *d, const Aggregate *a, ReportSections *out, Err *err);
void report_sections_free(ReportSections *s);

#endif
