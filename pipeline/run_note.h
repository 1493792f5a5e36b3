/* pipeline/run_note.h — the runner's note: `<state dir>/work/<run uuid>/runner.note`, what the
 * database learns about a run whose runner could not tell it itself.
 *
 * The runner makes the file when the run starts, at its full size (RUN_NOTE_SIZE bytes), so that
 * later writes overwrite blocks it already owns and need no free disk space.
 *   - Its modification time is the runner's heartbeat, refreshed at most every RUN_NOTE_BEAT_S
 *     while the runner lives: when the runner dies (kill -9, power loss), the run's end time is its
 *     last sign of life, not its start.
 *   - Its content is the run's end when the database would not take it (a full disk): the status
 *     the runner meant to record and why it stopped. Format (docs/FORMATS.md, "Stage processes"):
 *     `dynn-run-note 1`, `status FAILED`, `ended <unix time>`, `error <one line>`, `end`, padded with
 *     spaces; a note without its `end` line says nothing.
 * The next command that opens the database and finds the run's runner gone (run_note_reap) uses
 * both; the work directory, the note with it, is removed once the run is over. */
#ifndef DYNN_PIPELINE_RUN_NOTE_H
#define DYNN_PIPELINE_RUN_NOTE_H

#include "db/db.h"
#include "util/err.h"

#define RUN_NOTE_NAME "runner.note"
#define RUN_NOTE_SIZE 4096
#define RUN_NOTE_BEAT_S 1.0

typedef struct RunNote {
    int fd;          /* -1: none */
    double beat;     /* when the heartbeat was last refreshed */
    char path[4096];
} RunNote;

/* Creates work_dir/runner.note at its full size. */
int run_note_create(RunNote *note, const char *work_dir, Err *err);
/* Refreshes the heartbeat if the last one is RUN_NOTE_BEAT_S old (now: provenance_now()). */
void run_note_beat(RunNote *note, double now);
/* Writes the run's end into the note, in place. */
int run_note_write_end(RunNote *note, const char *status, double ended_at, const char *error, Err *err);
void run_note_close(RunNote *note);

/* What the note of run `uuid` under state_dir says: *end as db_reap_dead_runs_ex's DbRunEnded fills
 * it (last_alive: the note's mtime, or its `ended` time). */
void run_note_read(const char *state_dir, const char *uuid, DbRunEnd *end);

/* db_reap_dead_runs_ex with this host's liveness check and the runs' notes under state_dir. */
int run_note_reap(Db *db, const char *state_dir, int *reaped, Err *err);

#endif
