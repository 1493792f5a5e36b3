/* util/fs.h — small file-system helpers: directories, whole-file reads, hashing, copying.
 *
 * All return 0/-1 with an Err naming the path and the OS reason. Paths are plain C strings;
 * PATH_MAX-sized buffers are used where a path is built. */
#ifndef DYNN_UTIL_FS_H
#define DYNN_UTIL_FS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/sha256.h"

/* mkdir -p (mode 0777 before umask); an existing directory is fine. */
int fs_mkdir_p(const char *path, Err *err);

/* Reads a whole file into a malloc'd, NUL-terminated buffer (*len excludes the NUL). */
int fs_read_file(const char *path, char **data, size_t *len, Err *err);

/* Overwrites a file in place (no O_TRUNC, no new inode): every byte but the first, then the length,
 * then the first byte. With fs_spoil_first_byte() called before, a reader that checks the first
 * byte (a magic string) never mistakes a partly written file for a complete one. Used for the
 * small work files rewritten for every stage: on ext4, truncating a file to zero and writing it
 * again forces a flush (auto_da_alloc) that costs milliseconds, and new files cost an inode. */
int fs_overwrite_file(const char *path, const void *data, size_t len, Err *err);

/* Creates path (one byte) or overwrites its first byte with '!'. */
int fs_spoil_first_byte(const char *path, Err *err);

/* SHA-256 (hex) and size of a file's content. */
int fs_sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *size, Err *err);
/* The same for an open file, read from its current offset to the end; name is for messages. */
int fs_sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN + 1], uint64_t *size, Err *err);

/* Copies src to dst atomically: written to the temp file "<dst>.tmp.<pid>" (FS_TEMP_INFIX), then
 * renamed over dst. With `durable`, fsyncs before the rename. mode is applied to the new file
 * (e.g. 0444 for store objects). If hex is not NULL the content hash is computed on the way (and
 * *size set). A failed copy removes its temp file; a killed one leaves it behind. */
int fs_copy_file(const char *src, const char *dst, int durable, unsigned mode, char hex[SHA256_HEX_LEN + 1],
                 uint64_t *size, Err *err);

#define FS_TEMP_INFIX ".tmp."
#define FS_HASH_MISMATCH 1

/* fs_copy_file from an open file (read from its current offset; src names it in messages). With
 * expect (hex), dst is replaced only when the copied content hashes to expect: otherwise the temp
 * file is removed, dst is untouched and FS_HASH_MISMATCH is returned with err saying both hashes.
 * hex (may be NULL) receives the content hash either way. */
int fs_copy_fd(int in, const char *src, const char *dst, int durable, unsigned mode, const char *expect,
               char hex[SHA256_HEX_LEN + 1], uint64_t *size, Err *err);

/* The writer's pid when name (a path or a bare file name) ends in FS_TEMP_INFIX and digits, the
 * temp-file names of fs_copy_file and util/atomic_file.c; else -1. */
long fs_temp_writer(const char *name);

/* Absolute form of path (relative to the current directory); does not need the path to exist and
 * does not resolve symlinks. Writes into out[size]. */
int fs_absolute(const char *path, char *out, size_t size, Err *err);

/* Directory part of path ("." when there is none) into out[size]. */
void fs_dirname(const char *path, char *out, size_t size);

/* "a/b" into out[size]; b is returned as-is when absolute. Returns -1 if it does not fit. */
int fs_join(char *out, size_t size, const char *a, const char *b);

int fs_exists(const char *path);

/* The regular files directly in dir (not below it; symlinks not followed): how many, and their bytes
 * added into *bytes when not NULL. A missing or unreadable dir has none. */
size_t fs_dir_files(const char *dir, unsigned long long *bytes);

/* Whether a file can be written at path later (atomically: a temp file beside it, renamed over it):
 * its directory exists, is a directory and is writable, and path is not a directory. Checked before
 * long work whose result goes there, so that a typo fails at once instead of after hours. `what`
 * names the option in the message ("--out"). */
int fs_check_writable_target(const char *path, const char *what, Err *err);

/* rm -rf: removes a file or a directory tree; a missing path is fine. A symlink is removed, never
 * followed, and the removal never enters another mount: a mount point (another device, or a mount
 * root per statx, which also catches bind mounts) anywhere in the tree makes it fail with "PATH is
 * a mount point; not removed" before anything is removed (the tree is walked once to check, then to
 * remove). Directories are opened relative to their parent (O_NOFOLLOW), so a
 * directory swapped for a symlink while it runs is not followed either. */
int fs_remove_tree(const char *path, Err *err);

/* Walks the tree as fs_remove_tree would, removing nothing: fails where it would stop. */
int fs_check_tree(const char *path, Err *err);

/* Physical absolute form of path (relative to the current directory): the part that exists is
 * resolved by realpath (symlinks, ".", ".."), the missing rest appended ("." dropped, ".." taken
 * lexically). A dangling symlink or a symlink loop on the way is an error. */
int fs_resolve(const char *path, char *out, size_t size, Err *err);

/* 1 when the absolute, normalized path is base or below it ("/a/b" is within "/a", "/ab" is not). */
int fs_within(const char *path, const char *base);

#endif
