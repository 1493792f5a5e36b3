/* reports/baseline.h — the regression baseline of `dynn check`: a YAML file of expected accuracies
 * and relative latencies with tolerances, the same numbers taken from a run, and their comparison.
 *
 * Latency is compared as a ratio measured within one run — a subnet's median latency divided by the
 * median latency of the largest subnet of the same model, platform, batch, core mapping and
 * frequency — so the speed of the machine cancels out. Accuracy is compared in absolute percentage
 * points. Only getting worse beyond the tolerance is a regression: an accuracy below baseline minus
 * `accuracy_points`, a latency ratio above baseline x (1 + `latency_ratio`), an instruction count above
 * baseline x (1 + `instructions`), or a baseline entry the run does not have.
 *
 * Instructions are those of one forward pass counted under callgrind (platforms/counter.h): exactly
 * repeatable, so they catch a slowdown of a few percent that wall time on a shared machine cannot
 * (docs/PERFORMANCE.md, "The CI latency gate"). They are comparable only within one kernel set: each
 * entry names its `counter` ("callgrind x86-64-v3"), and a run counted by another is refused (exit 2
 * in `dynn check`), not failed. A baseline may name its `experiment`; a run of another experiment is
 * refused the same way. Format: docs/FORMATS.md, "Regression baseline". */
#ifndef DYNN_REPORTS_BASELINE_H
#define DYNN_REPORTS_BASELINE_H

#include <stddef.h>

#include "reports/aggregate.h"
#include "reports/rundata.h"
#include "util/err.h"

#define BASELINE_ACCURACY_POINTS 1.0 /* default tolerances */
#define BASELINE_LATENCY_RATIO 0.10
#define BASELINE_INSTRUCTIONS 0.02

typedef enum { BASE_ACCURACY, BASE_LATENCY, BASE_INSTRUCTIONS } BaselineKind;

typedef struct BaselineEntry {
    BaselineKind kind;
    char *method, *subnet;
    char *platform, *mapping; /* latency: both; instructions: platform (NULL otherwise) */
    char *counter;            /* instructions only: what counted them, "callgrind x86-64-v3" */
    int batch;                /* latency and instructions */
    long long frequency_khz;  /* 0: not recorded */
    double value;             /* accuracy fraction 0..1, latency ratio, or instructions per forward pass */
} BaselineEntry;

typedef struct Baseline {
    double accuracy_points;   /* allowed accuracy drop, percentage points */
    double latency_ratio;     /* allowed relative increase of a latency ratio */
    double instructions;      /* allowed relative increase of an instruction count */
    char *experiment;         /* the experiment's name the numbers come from; NULL: not said */
    BaselineEntry *entries;
    size_t n;
} Baseline;

/* Parses a baseline file's text; messages are "name:line:col: …". */
int baseline_parse(const char *text, size_t len, const char *name, Baseline *out, Err *err);
int baseline_load(const char *path, Baseline *out, Err *err);
/* Writes the YAML atomically (temp file + rename). */
int baseline_write(const char *path, const Baseline *b, Err *err);
/* The entries of a run, with the tolerances of tol (NULL: the defaults) and the run's experiment. */
int baseline_from_run(const RunData *d, const Aggregate *a, const Baseline *tol, Baseline *out, Err *err);
/* Whether the run's numbers may be compared with the baseline: 0, or err (a sentence) when the run is
 * of another experiment than the baseline names, or its instructions were counted by another counter
 * (kernel set) than the baseline's. */
int baseline_comparable(const Baseline *base, const Baseline *cur, const char *run_experiment, Err *err);
void baseline_free(Baseline *b);

/* FLAGGED: a latency entry the run has no figure for because a measurement of its group (model,
 * platform, batch, mapping, frequency) was flagged for interference (platforms/interference.h): not
 * checked, and not a regression either. */
typedef enum { CHECK_OK, CHECK_REGRESSION, CHECK_MISSING, CHECK_NEW, CHECK_FLAGGED } CheckStatus;

typedef struct CheckRow {
    const BaselineEntry *base, *cur; /* borrowed; one may be NULL (missing / new) */
    double change;      /* accuracy: points (cur - base); latency: relative (cur / base - 1) */
    CheckStatus status;
} CheckRow;

typedef struct CheckResult {
    CheckRow *rows;
    size_t n;
    size_t regressions; /* REGRESSION + MISSING rows */
    size_t flagged;     /* FLAGGED rows (not checked) */
} CheckResult;

/* Every baseline entry against the run's (tolerances from base), then the run's entries the
 * baseline does not have (NEW, not a failure). */
int baseline_compare(const Baseline *base, const Baseline *cur, CheckResult *out, Err *err);
/* Turns each MISSING latency row whose group had a measurement flagged for interference
 * (a->flagged) into FLAGGED: the run could not form its ratio from real figures. */
void baseline_mark_flagged(CheckResult *r, const RunData *d, const Aggregate *a);
void check_result_free(CheckResult *r);
const char *check_status_name(CheckStatus s);
/* "uniform/local/b1/cpus=0-1 threads=2/1200MHz" or "uniform": what an entry is about, into out. */
void baseline_entry_where(const BaselineEntry *e, char *out, size_t size);

#endif
