/* util/proc.h — running a local program (ssh, the profiler) from an argv array and collecting
 * its output. Never a shell: every argument reaches the program exactly as given. */
#ifndef DYNN_UTIL_PROC_H
#define DYNN_UTIL_PROC_H

#include "util/err.h"
#include "util/strbuf.h"

typedef struct ProcResult {
    StrBuf out;      /* standard output */
    StrBuf errout;   /* standard error (also copied to this process's stderr, i.e. the stage log) */
    int status;      /* exit status, or 128 + signal */
} ProcResult;

/* Runs argv[0] (looked up in PATH) with stdin from `stdin_path` (NULL: /dev/null), waits for it and
 * fills *r (free with proc_result_free even on failure). Returns -1 only when it could not be
 * started or waited for; a non-zero exit is r->status. */
int proc_run(const char *const *argv, const char *stdin_path, ProcResult *r, Err *err);
void proc_result_free(ProcResult *r);

/* The last non-empty line of a text (an error message's most useful part) into out[size]. */
void proc_last_line(const char *text, char *out, size_t size);

#endif
