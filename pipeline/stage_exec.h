/* pipeline/stage_exec.h — the stage process: `dynn stage-exec FILE` runs one stage instance from its
 * description, and `dynn stage-exec --serve` is the local executor's fork server.
 *
 * A stage process reads its description, loads the experiment's plugins, runs the stage type with
 * stdout/stderr in the stage log, and writes the records file (also when the stage fails, with the
 * reason). It never writes the results database (aggregate and report stages read it). If the process that started it dies, it is sent
 * SIGTERM (PR_SET_PDEATHSIG) and passes the signal on to the commands it started (its process
 * group), so a `kill -9` of the runner leaves no stage running. */
#ifndef DYNN_PIPELINE_STAGE_EXEC_H
#define DYNN_PIPELINE_STAGE_EXEC_H

#include <sys/types.h>

#include "util/err.h"

/* Runs the stage described in desc_path. Returns 0 when the stage succeeded, 1 when it failed
 * (records written with the reason), -1 when not even the records could be written (err set). */
int stage_exec_run(const char *desc_path, Err *err);

/* Makes the calling process die with SIGTERM when `parent` exits (or at once if it already has),
 * and turns SIGTERM/SIGINT/SIGHUP into "signal my whole process group, then die". */
void stage_exec_guard(pid_t parent);

/* The fork server: reads "RUN\t<desc>\t<log>\n" lines on stdin, forks one stage process per line
 * (its own process group, output to the log), answers "S <pid>\n" when it started and
 * "X <wait status>\n" when it ended. One stage at a time; exits at end of input. */
int zygote_serve(pid_t parent);

#endif
