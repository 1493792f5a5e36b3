/* pipeline/stage.h — the stage interface the runner consumes: what a stage type is, what a stage run
 * receives and how it hands back records, and the table of stage types.
 *
 * A stage type is a small table of functions: `validate` checks an instance's params before anything
 * runs (messages name file:line:column), `run` does the work inside the stage's own process. A run
 * receives its params (a YAML tree, scalars as text), the artifacts of the stages it needs (files in
 * the content-addressed store) and a record sink; it returns 0 or -1 with an Err. Records are
 * metrics, measurements (db/measurement.h) and artifacts; the runner commits them to the results
 * database in one transaction after the stage process exits. A stage never writes the database; the
 * stages that summarize results (aggregate, report) read it through a read-only connection.
 *
 * The table (pipeline/stage_registry.c) starts with the built-in types, which the binary lists from
 * above (dynn_builtin_stage_types, cli/stage_types.c: stage types live in stages/ and reports/, above
 * this folder), and grows with the types plugins register. Plugins (shared objects named in an
 * experiment's `plugins:` list) see these types through pipeline/dynn_plugin.h, the plugin ABI. */
#ifndef DYNN_PIPELINE_STAGE_H
#define DYNN_PIPELINE_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "db/measurement.h"
#include "util/err.h"
#include "util/ynode.h"

/* One artifact of an upstream stage, as seen by a downstream run. */
typedef struct StageInput {
    const char *stage; /* upstream instance name, "train@seed=1" */
    const char *name;  /* artifact name ("model", or the workspace-relative path of an exec `outs` file) */
    const char *kind;  /* "file" = a workspace file (an exec stage finds it at <name> where it runs); other kinds live in the store */
    const char *path;  /* absolute path of the (read-only) store object */
    const char *hash;  /* SHA-256 hex of its content */
    uint64_t size;
} StageInput;

typedef struct RecordSink RecordSink;
struct RecordSink {
    void *self;
    /* A metric value; subnet may be NULL; step orders a series (epochs, matches), use 0 otherwise. */
    int (*metric)(RecordSink *sink, const char *name, double value, const char *subnet, long long step, Err *err);
    int (*measurement)(RecordSink *sink, const Measurement *m, Err *err);
    /* A produced file: copied into the store under its content hash, recorded as an artifact. */
    int (*artifact)(RecordSink *sink, const char *name, const char *path, const char *kind, Err *err);
    int exit_code; /* exit status of the command the stage ran (exec), else -1 */
    /* A measurement with every field of Measurement (added after plugin API 1's first release). */
    int (*measurement_ex)(RecordSink *sink, const Measurement *m, Err *err);
    /* A measurement with every field, its `conditions` pairs included (db/conditions.h keys). */
    int (*measurement_conditions)(RecordSink *sink, const Measurement *m, Err *err);
    /* A measurement with every field, `instructions` included (the CI gate's counted points). */
    int (*measurement_counted)(RecordSink *sink, const Measurement *m, Err *err);
    /* A measurement with every field, its CPU shares and interference flag included. */
    int (*measurement_shared)(RecordSink *sink, const Measurement *m, Err *err);
};

/* What `validate` sees: one instance's params, already substituted. */
typedef struct StageCheck {
    const char *file;     /* experiment file, for messages */
    const char *stage;    /* instance name */
    const YNode *at;      /* the stage's node: the position for "missing param" messages */
    const YNode *params;  /* a mapping, never NULL (empty when the stage has no params) */
} StageCheck;

/* What `run` sees. stdout and stderr already go to the stage's log file. */
typedef struct StageRun {
    const char *name;    /* instance name */
    const char *type;
    const YNode *params; /* a mapping, never NULL */
    const StageInput *inputs;
    size_t n_inputs;
    const char *workdir; /* where `dynn run` was started (absolute): relative paths start here */
    const char *scratch; /* a private directory path for files before they become artifacts: not
                          * created in advance (mkdir it when needed); removed after the stage */
    const char *log_path;
    int log_fd;          /* the log, open for appending (stdout/stderr point to it too) */
    int threads;         /* CPU threads the stage may use */
    long long seed;
    RecordSink *sink;
    /* The results database (absolute path) and this run's uuid, for stages that read what the
     * stages they need recorded (aggregate, report): open it read-only; the runner commits a
     * stage's records before any stage needing it starts. May be NULL outside a run. */
    const char *db_path;
    const char *run_uuid;
    /* A directory of the stage's job slot, kept from one stage of the slot to the next and removed
     * at the end of the run: what is worth keeping between stages (the exec stage's private
     * directory and its links). Only one stage at a time uses it. NULL or "" outside a run. */
    const char *slot_dir;
    /* A directory kept across runs for this instance's cache key (<state dir>/resume/<key>), not created
     * in advance: what lets a stage that was interrupted (a killed run, a preempted Slurm job) go on
     * where it stopped in the next run with the same key (the train stage's snapshots, nn/snapshot.h).
     * The runner removes it once the stage finishes. NULL or "" outside a run. */
    const char *resume_dir;
} StageRun;

typedef struct StageType {
    const char *name;
    const char *summary;
    int (*validate)(const StageCheck *check, Err *err);
    int (*run)(const StageRun *run, Err *err);
} StageType;

/* The table of stage types (pipeline/stage_registry.c): the built-in ones first, in the order of
 * dynn_builtin_stage_types, then the registered ones. */
int stage_type_register(const StageType *type, Err *err);
const StageType *stage_type_find(const char *name);
/* Names of all registered types into out[max]; returns the count. */
size_t stage_type_names(const char **out, size_t max);
/* dlopen()s a plugin and calls its dynn_plugin_init (pipeline/dynn_plugin.h); loading the same path
 * twice is a no-op. */
int stage_plugin_load(const char *path, Err *err);

/* The built-in stage types, NULL-terminated. Defined by the binary (cli/stage_types.c), the layer
 * that sees every folder a stage type can live in; a new built-in type is a row there. */
extern const StageType *const dynn_builtin_stage_types[];

#endif
