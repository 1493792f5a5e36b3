/* pipeline/stage_desc.h — the serialized description of one stage instance, the only thing a stage
 * process gets from the runner (so that any executor — a local process now, an sbatch job later —
 * can run it with `dynn stage-exec FILE`).
 *
 * A JSON object (read back with the YAML parser, JSON being YAML):
 *   {"version":1, "name":"train@seed=1", "stage":"train", "type":"exec", "key":"<sha256>",
 *    "threads":"1", "seed":"0", "workdir":"/abs/exp", "state_dir":"/abs/.dynn",
 *    "db":"/abs/.dynn/results.db", "run":"<uuid>", "log":"/abs/.dynn/logs/…", "records":"/abs/.dynn/work/…/3.rec", "scratch":"/abs/…/3.scratch",
 *    "slot_dir":"/abs/…/3.dir", "resume_dir":"/abs/.dynn/resume/<key>",
 *    "plugins":["/abs/p.so"], "params":{…canonical…},
 *    "inputs":[{"stage":…, "name":…, "kind":…, "path":…, "hash":…, "size":"12"}]} */
#ifndef DYNN_PIPELINE_STAGE_DESC_H
#define DYNN_PIPELINE_STAGE_DESC_H

#include <stddef.h>

#include "util/ynode.h"
#include "pipeline/stage.h"
#include "util/err.h"

typedef struct StageDesc {
    const char *name, *stage, *type, *key;
    const char *workdir, *state_dir, *log, *records, *scratch;
    const char *slot_dir; /* kept from stage to stage of the job slot; "" or NULL when not given */
    const char *resume_dir; /* kept across runs for this cache key (StageRun.resume_dir); "" or NULL: none */
    const char *db, *run; /* results database (absolute) and run uuid: for stages that read results */
    int threads;
    long long seed;
    const char *const *plugins;
    size_t n_plugins;
    const YNode *params;
    const StageInput *inputs;
    size_t n_inputs;
    YNode *root_; /* set by stage_desc_read: owns every string above */
} StageDesc;

/* Writes the description (in place: it is written before its stage starts and read only by it). */
int stage_desc_write(const char *path, const StageDesc *d, Err *err);

/* Reads one; free with stage_desc_free. */
int stage_desc_read(const char *path, StageDesc *d, Err *err);
void stage_desc_free(StageDesc *d);

#endif
