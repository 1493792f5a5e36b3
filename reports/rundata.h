/* reports/rundata.h — what the report code asks of a run's results (db/rundata.h, the record types
 * the database fills): the run's status as a report words it. */
#ifndef DYNN_REPORTS_RUNDATA_H
#define DYNN_REPORTS_RUNDATA_H

#include "db/rundata.h"

/* The run's status for a reader: a RUNNING run reported by its own report stage says so. */
const char *rundata_status_text(const RunData *d);

#endif
