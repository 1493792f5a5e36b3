/* stages/stage_inputs.h — finding a model among a stage run's inputs: the one lookup that the
 * `profile` stage (its `model` param) and the `train` stage (its `teacher` param) share. */
#ifndef DYNN_STAGES_STAGE_INPUTS_H
#define DYNN_STAGES_STAGE_INPUTS_H

#include <stddef.h>

#include "pipeline/stage.h"

/* `name` is the instance name of a needed stage ("train@seed=1": its `model` artifact), an
 * artifact name among the inputs (one content only), or (allow_path) a file below the working
 * directory. The path goes to out. Messages start with `what` ("model 'x'", "teacher 'x'"). */
int stage_find_model(const StageRun *run, const char *name, int allow_path, const char *what, char *out, size_t size,
                     Err *err);

#endif
