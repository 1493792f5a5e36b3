/* stages/exec_dir.h — an exec stage's private directory: where its command runs.
 *
 * The directory looks like the working directory (where `dynn run` was started): each entry of the
 * working directory is a symbolic link to it, except along the paths the stage declares — its
 * `outs`, the upstream files it gets as inputs and its `cwd`. Each directory on such a path is a
 * real directory here, filled the same way, and the declared files themselves are absent (outs) or
 * put there by the stage (inputs). So the command reads anything in the working directory and
 * writes its outs at the relative paths it always used, but no other stage — of this run or of
 * another run in the same working directory — can write over them while it runs.
 *
 * After the command, exec_dir_publish() moves everything the command created (its outs, other new
 * files, files it replaced) into the working directory at the same relative path; writes through
 * a link went to the working directory directly. exec_dir_remove() deletes everything but the
 * links (removed, never followed), which stay for the next stage using the same directory (the
 * job slot's): exec_dir_create() then keeps the links that are still right and only adds and
 * removes the others, because making an inode for every link of every stage is slow on ext4.
 *
 * Links are relative, "../wd/NAME" (one more "../" per directory level), through `wd` beside the
 * directory, a link to the working directory made once: short targets live in the inode. */
#ifndef DYNN_STAGES_EXEC_DIR_H
#define DYNN_STAGES_EXEC_DIR_H

#include <stddef.h>

#include "util/err.h"

typedef struct ExecDir ExecDir;

/* Makes the directory `root` (absolute; made if missing, brought up to date if it exists) a view
 * of `workdir` (absolute). dirs and files are relative paths without `..` (checked by validation): dirs must be
 * real directories of the view (the `cwd`), files are left out of it (outs and inputs). A path
 * that is both a file and a directory on the way to another is refused. An entry of workdir
 * that holds root itself (the state directory `.dynn`) is not linked. */
int exec_dir_create(const char *workdir, const char *root, const char *const *dirs, size_t n_dirs,
                    const char *const *files, size_t n_files, ExecDir **out, Err *err);

/* Moves what the command created into the working directory (see above). */
int exec_dir_publish(ExecDir *d, Err *err);

/* Removes all but the view's links from the directory and frees d (NULL is fine). */
void exec_dir_remove(ExecDir *d);

#endif
