/* stages/stage.h — what a stage type is, what a stage run receives and how it hands back records.
 *
 * A stage type is a small table of functions: `validate` checks an instance's params before anything
 * runs (messages name file:line:column), `run` does the work inside the stage's own process. A run
 * receives its params (a YAML tree, scalars as text), the artifacts of the stages it needs (files in
 * the content-addressed store) and a record sink; it returns 0 or -1 with an Err. Records are
 * metrics, measurements and artifacts; the runner commits them to the results database in one
 * transaction after the stage process exits. A stage never writes the database; the stages that
 * summarize results (aggregate, report) read it through a read-only connection.
 *
 * Built-in types are listed in stages/registry.c. Plugins (shared objects named in an experiment's
 * `plugins:` list) export `int dynn_plugin_init(DynnPluginApi *api)` and register more types
 * through the api; a plugin needs only these headers (it cannot call into dynn directly). */
#ifndef DYNN_STAGES_STAGE_H
#define DYNN_STAGES_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util/ynode.h"
#include "db/measurement.h"
#include "platforms/platform.h"
#include "util/err.h"

/* One artifact of an upstream stage, as seen by a downstream run. */
typedef struct StageInput {
    const char *stage; /* upstream instance name, "train@seed=1" */
    const char *name;  /* artifact name ("model", or the workspace-relative path of an exec `outs` file) */
    const char *kind;  /* "file" = a workspace file restored at <workdir>/<name>; other kinds live in the store */
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
} StageRun;

typedef struct StageType {
    const char *name;
    const char *summary;
    int (*validate)(const StageCheck *check, Err *err);
    int (*run)(const StageRun *run, Err *err);
} StageType;

/* Registry (stages/registry.c). Built-in types are always present. */
int stage_type_register(const StageType *type, Err *err);
const StageType *stage_type_find(const char *name);
/* Names of all registered types into out[max]; returns the count. */
size_t stage_type_names(const char **out, size_t max);
/* dlopen()s a plugin and calls its dynn_plugin_init; loading the same path twice is a no-op. */
int stage_plugin_load(const char *path, Err *err);

#define DYNN_PLUGIN_API_VERSION 1

typedef struct DynnPluginApi {
    int api_version; /* DYNN_PLUGIN_API_VERSION */
    Err *err;        /* where dynn_plugin_init describes a failure (returning -1) */
    int (*register_stage_type)(const StageType *type, Err *err);
    /* helpers a plugin's validate/run can use without linking against dynn */
    YNode *(*ynode_get)(const YNode *map, const char *key);
    int (*ynode_err)(Err *err, const char *file, const YNode *at, const char *fmt, ...);
    int (*ynode_check_keys)(const YNode *map, const char *const *allowed, size_t n, const char *file,
                            const char *context, Err *err);
    int (*err_set)(Err *err, const char *fmt, ...);
    /* Members are only ever appended (api_version stays 1); a plugin using one needs a dynn that
     * has it. Platform types (platforms/platform.h; docs/PLUGINS.md): */
    int (*register_platform_type)(const PlatformType *type, Err *err);
} DynnPluginApi;

/* The symbol a plugin exports. */
typedef int (*DynnPluginInit)(DynnPluginApi *api);
#define DYNN_PLUGIN_INIT_SYMBOL "dynn_plugin_init"

/* Built-in types. */
extern const StageType stage_type_exec;
extern const StageType stage_type_train;
extern const StageType stage_type_aggregate;
extern const StageType stage_type_report;
extern const StageType stage_type_profile;

#endif
