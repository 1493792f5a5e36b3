/* stages/stage_types.h — the built-in stage types implemented in stages/ (the binary lists them in
 * cli/stage_types.c; aggregate and report are in reports/stage_types.h). */
#ifndef DYNN_STAGES_STAGE_TYPES_H
#define DYNN_STAGES_STAGE_TYPES_H

#include "pipeline/stage.h"

extern const StageType stage_type_exec;    /* stages/exec.c */
extern const StageType stage_type_train;   /* stages/train.c */
extern const StageType stage_type_profile; /* stages/profile.c */

#endif
