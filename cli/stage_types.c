/* cli/stage_types.c — the built-in stage types, in the order `dynn validate` lists them: the table
 * pipeline/stage_registry.c starts from (dynn_builtin_stage_types, pipeline/stage.h). It lives at the
 * top because the types live in stages/ and reports/; a new built-in type is a row here. */
#include <stddef.h>

#include "reports/stage_types.h"
#include "stages/stage_types.h"

const StageType *const dynn_builtin_stage_types[] = {
    &stage_type_exec,
    &stage_type_train,
    &stage_type_aggregate,
    &stage_type_report,
    &stage_type_profile,
    NULL,
};
