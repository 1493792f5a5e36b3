/* pipeline/records.h — the records file a stage process hands back to the runner.
 *
 * The stage process collects metrics, measurements and artifacts through a RecordSink that
 * buffers them; at the end it writes one text file in place (util/fs.h fs_overwrite_file: the first
 * byte of the magic line last). The runner spoils that byte before the stage starts and counts the
 * file only with its magic line and its final "end" line, so a stage killed while writing never
 * counts as done. The runner reads it after the process exits and commits it in one transaction. Format
 * (one record a line, tab-separated fields; '\' escapes tab, newline and itself; \N is NULL):
 *
 *   dynn-records 2
 *   metric       NAME  VALUE  SUBNET  STEP
 *   artifact     NAME  KIND  SHA256  STORE-PATH  SIZE
 *   measurement  SUBNET  ENERGY_J  N  S1,S2,…  SUBNET_INDEX  MACS  PEAK_RSS_KIB  AVG_POWER_W  [KEY=VALUE …]
 *   result       ok|failed  EXIT_CODE  ERROR
 *   end
 *
 * A measurement's conditions follow its fields, one KEY=VALUE field per key that is set, in the
 * order of the registry (db/conditions.h); the reader refuses a key the registry lacks. */
#ifndef DYNN_PIPELINE_RECORDS_H
#define DYNN_PIPELINE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/stage.h"
#include "util/strbuf.h"

typedef struct RecordWriter {
    RecordSink sink;       /* hand &writer.sink to the stage */
    StrBuf buf;
    const char *state_dir; /* artifacts are copied into <state_dir>/store */
    size_t n_records;
} RecordWriter;

void records_writer_init(RecordWriter *w, const char *state_dir);
/* Appends the result line and writes the file. ok = the stage succeeded; a failed stage's file keeps
 * only its measurements (what was measured before the failure) and the result line. */
int records_writer_finish(RecordWriter *w, const char *path, int ok, const char *error, Err *err);
void records_writer_free(RecordWriter *w);

typedef struct RecMetric {
    char *name, *subnet;
    double value;
    long long step;
} RecMetric;

typedef struct RecArtifact {
    char *name, *kind, *hash, *path;
    uint64_t size;
} RecArtifact;

typedef struct RecMeasurement {
    Measurement m;         /* strings and samples owned; m.conditions points at pairs (set from cond) */
    Conditions cond;
    MeasCondition pairs[COND_COUNT];
} RecMeasurement;

typedef struct Records {
    int ok;
    int exit_code;
    char *error;
    RecMetric *metrics;
    size_t n_metrics;
    RecArtifact *artifacts;
    size_t n_artifacts;
    RecMeasurement *measurements;
    size_t n_measurements;
} Records;

/* Copies a records file to dst (in place, as the writer writes), appending `note` (may be NULL) to
 * the error of a failed result: what an executor adds about where the stage ran. */
int records_copy_noting(const char *src, const char *dst, const char *note, Err *err);

/* Reads a records file; a missing "end" line (a stage killed mid-write) is an error. */
int records_read(const char *path, Records *r, Err *err);
void records_free(Records *r);

#endif
