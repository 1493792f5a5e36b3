/* stages/stage_inputs.c — a model among a stage run's inputs (see stage_inputs.h). */
#include "stages/stage_inputs.h"

#include <stdio.h>
#include <string.h>

#include "util/fs.h"

int stage_find_model(const StageRun *run, const char *name, int allow_path, const char *what, char *out, size_t size,
                     Err *err) {
    const StageInput *found = NULL;
    for (size_t i = 0; i < run->n_inputs; i++)
        if (!strcmp(run->inputs[i].stage, name) && !strcmp(run->inputs[i].kind, "model"))
            return snprintf(out, size, "%s", run->inputs[i].path) < (int)size ? 0 : err_set(err, "path too long");
    for (size_t i = 0; i < run->n_inputs; i++) {
        if (strcmp(run->inputs[i].name, name)) continue;
        if (found && strcmp(found->hash, run->inputs[i].hash))
            return err_set(err, "%s: both '%s' and '%s' have an artifact of that name; name the instance", what,
                           found->stage, run->inputs[i].stage);
        found = &run->inputs[i];
    }
    if (found) return snprintf(out, size, "%s", found->path) < (int)size ? 0 : err_set(err, "path too long");
    if (!allow_path)
        return err_set(err, "%s: no needed stage instance or artifact of that name among the %zu inputs (add the stage "
                            "that trains it to `needs`)", what, run->n_inputs);
    if (fs_join(out, size, run->workdir, name)) return err_set(err, "%s: path too long", what);
    if (fs_exists(out)) return 0;
    return err_set(err, "%s: no artifact of that name among the %zu inputs of the stages it needs, and no file %s", what,
                   run->n_inputs, out);
}
