/* reports/stage_types.h — the summarizing stage types, which live here because they are report code
 * run as a stage: `aggregate` (reports/stage_aggregate.c) and `report` (reports/stage_report.c). The
 * binary lists them in cli/stage_types.c. */
#ifndef DYNN_REPORTS_STAGE_TYPES_H
#define DYNN_REPORTS_STAGE_TYPES_H

#include "pipeline/stage.h"

extern const StageType stage_type_aggregate;
extern const StageType stage_type_report;

#endif
