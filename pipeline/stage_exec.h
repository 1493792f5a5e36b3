/* pipeline/stage_exec.h — the stage process: `dynn stage-exec FILE` runs one stage instance from its
 * description, and `dynn stage-exec --serve` is the local executor's fork server.
 *
 * A stage process reads its description, loads the experiment's plugins, runs the stage type with
 * stdout/stderr in the stage log, and writes the records file (also when the stage fails, with the
 * reason). It never writes the results database (aggregate and report stages read it).
 *
 * Nothing a stage starts outlives it. The stage process leads its own process group and is a child
 * subreaper, so every process it starts stays its descendant (also after setsid or a double fork).
 * When the stage's work ends, and when it is told to stop (SIGTERM, SIGINT, SIGHUP, or SIGTERM
 * from PR_SET_PDEATHSIG when the process that started it dies: the executor or fork server that
 * forked it asks for that in the child, the stage process never looks at who its parent is, so it
 * may run under any wrapper, a batch system's included), it sends SIGTERM to every
 * descendant, SIGKILL to what is left after EXECUTOR_KILL_GRACE_MS, and reaps them. The fork
 * server is a subreaper too: what a stage process that died uncleanly (SIGKILL, a crash) left is
 * re-parented to it and ended before it reports the stage's end. */
#ifndef DYNN_PIPELINE_STAGE_EXEC_H
#define DYNN_PIPELINE_STAGE_EXEC_H

#include <sys/types.h>

#include "util/err.h"

/* Runs the stage described in desc_path, then ends whatever it left running (said in the log), then
 * writes the records. Only for a stage process: every child of the caller counts as a leftover.
 * Returns 0 when the stage succeeded, 1 when it failed (records written with the reason), -1 when
 * not even the records could be written (err set). */
int stage_exec_run(const char *desc_path, Err *err);

/* Makes the calling process a stage process: a child subreaper, SIGTERM/SIGINT/SIGHUP meaning "end
 * every descendant, then die of the signal". */
void stage_exec_guard(void);

/* The fork server: reads "RUN\t<desc>\t<log>\n" lines on stdin, forks one stage process per line
 * (its own process group, output to the log), answers "S <pid>\n" when it started and
 * "X <wait status>\n" when it and everything it left have ended. One stage at a time; a stop
 * signal is passed to the stage's process group; exits at end of input. Each stage process it
 * forks asks for SIGTERM when the server dies (PR_SET_PDEATHSIG). */
int zygote_serve(void);

#endif
