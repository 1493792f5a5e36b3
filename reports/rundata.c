/* reports/rundata.c — a run's status as a report words it (see rundata.h). */
#include "reports/rundata.h"

#include <string.h>

const char *rundata_status_text(const RunData *d) {
    if (d->status && !strcmp(d->status, "RUNNING")) return "RUNNING when this report was written (a stage of the run)";
    return d->status ? d->status : "unknown";
}
