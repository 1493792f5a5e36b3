/* reports/stage_results.h — what the summarizing stages (aggregate, report) read: the records of the stages
 * an instance needs, directly or not, from the results database of its run (read-only). */
#ifndef DYNN_REPORTS_STAGE_RESULTS_H
#define DYNN_REPORTS_STAGE_RESULTS_H

#include "db/rundata.h"
#include "pipeline/stage.h"

/* Fails when the stage runs outside `dynn run` (no database) or needs nothing that recorded a
 * model or a measurement. */
int stage_load_results(const StageRun *run, RunData *d, Err *err);

#endif
