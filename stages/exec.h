/* stages/exec.h — the built-in `exec` stage type: run a command, read metrics from its output.
 *
 *   params:
 *     cmd: [python3, train.py, --lr, "0.1"]   # argv (no shell); or a string with `shell: true`
 *     shell: false
 *     metrics: {acc: 'test acc ([0-9.]+)'}   # PCRE2; group 1 of every match → one value (step 0, 1, …)
 *     outs: [model.bin]                       # files the command writes → artifacts
 *     env: {LC_ALL: C}                        # added to the environment (at most 10000 entries)
 *     cwd: sub/dir                            # relative to the working directory
 *     timeout: 2h                             # SIGTERM to its processes, SIGKILL 5 s later; the stage fails
 *
 * The command runs in the stage's private directory, a view of the working directory (where `dynn
 * run` was started) in which its outs and the upstream `outs` files it needs are its own
 * (stages/exec_dir.h): the needed files are copied there from the store, so a command reads what
 * the stage it needs wrote even when that stage came from the cache, and no other stage can write
 * over its outs while it runs. Afterwards what it created moves into the working directory. */
#ifndef DYNN_STAGES_EXEC_H
#define DYNN_STAGES_EXEC_H

#include <stddef.h>

#include "pipeline/stage.h"

/* Applies each `metrics:` pattern to text and records every match's group 1 as a number
 * (steps 0, 1, …). A pattern that matches nothing, or a group that is not a number, is an error.
 * text is checked for valid UTF-8 once (invalid bytes read as '?', in a copy), then matched
 * without PCRE2's per-call check: linear in len. */
int exec_extract_metrics(const YNode *metrics, const char *text, size_t len, RecordSink *sink, Err *err);

/* A param that is a relative path staying inside the working directory (where `dynn run` was
 * started): "FILE:L:C: stage 'x': <what> '/abs' must be relative to the working directory". */
int stage_check_relative_path(const StageCheck *c, const YNode *n, const char *what, Err *err);

#endif
