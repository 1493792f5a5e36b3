/* pipeline/store.h — content-addressed artifacts under <state dir>/store/, and its quarantine.
 *
 * An artifact's bytes live at store/<first two hex digits of its SHA-256>/<the other 62>, read-only
 * (0444), written through a temp file (<object>.tmp.<pid>), fsync and rename: a crash leaves either
 * no object or a complete one (plus, after a kill, a temp file that `dynn fsck --repair` removes
 * once its writer is gone). Equal contents are stored once. Paths recorded in the database are
 * relative to the state directory ("store/ab/cdef…"), so the state directory can move.
 *
 * An object's name is its hash, and that is checked whenever an object is reused: store_check
 * (the runner's cache lookups, fsck), store_restore (copies out only bytes that match the name) and
 * store_put (an existing object is verified before it is trusted as a copy of the new one). An
 * object that does not match its name is moved to quarantine/<claimed hash>.<UTC time>.<pid>
 * (kept for forensics, never read again), so the store only ever holds objects that matched when
 * last read, and a missing object is a cache miss. The move checks that it took the very file it
 * hashed, so a good copy another process stored meanwhile is never quarantined. */
#ifndef DYNN_PIPELINE_STORE_H
#define DYNN_PIPELINE_STORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/sha256.h"

#define STORE_REL_MAX 80
#define STORE_QUARANTINE_DIR "quarantine"
#define STORE_ANY_SIZE UINT64_MAX

/* Copies src into the store; fills its hash, relative path and size. An object already there is
 * verified first; a bad one is quarantined (a warning on stderr, which is the stage's log in a
 * stage process) and replaced. */
int store_put(const char *state_dir, const char *src, char hash[SHA256_HEX_LEN + 1], char rel[STORE_REL_MAX],
              uint64_t *size, Err *err);

/* Absolute path of a relative store path. */
int store_abs(const char *state_dir, const char *rel, char *out, size_t size);

/* The relative store path of a hash: "store/ab/cdef…". */
void store_rel(const char *hash, char rel[STORE_REL_MAX]);

typedef enum { STORE_OK, STORE_MISSING, STORE_BAD } StoreState;

typedef struct StoreCheck {
    StoreState state;
    char why[256];               /* STORE_BAD: what is wrong ("content hashes to 0123…, not to its name") */
    char fate[PATH_MAX + 256];   /* STORE_BAD with quarantine: "moved to PATH", or why it stayed */
    char quarantined[PATH_MAX];  /* STORE_BAD: the object's new path when it was moved, else "" */
} StoreCheck;

/* Hashes the object at rel and compares with the hash its name claims (and its size with `size`,
 * unless STORE_ANY_SIZE). STORE_BAD when the content differs, it cannot be read or is not a regular
 * file (with `quarantine`, it is then moved to the quarantine), when rel is not an object name, or
 * when the object is sound but its size is not `size` (a database row that disagrees: not moved).
 * Returns c->state. */
StoreState store_check(const char *state_dir, const char *rel, uint64_t size, int quarantine, StoreCheck *c);

/* Copies an object to dest (temp + rename, mode 0644), creating dest's directory. Only bytes that
 * hash to the object's name reach dest: otherwise dest is untouched, the object is quarantined and
 * the error says so. */
int store_restore(const char *state_dir, const char *rel, const char *dest, Err *err);
/* The same for an object given by its absolute path (<state dir>/store/ab/cdef…, as stage
 * processes get their inputs). */
int store_restore_path(const char *object, const char *dest, Err *err);

/* ---- walking the store (dynn fsck) ---- */

typedef enum { STORE_ENTRY_OBJECT, STORE_ENTRY_TEMP, STORE_ENTRY_STRAY } StoreEntryKind;

typedef struct StoreEntry {
    StoreEntryKind kind;
    char rel[STORE_REL_MAX + 192];  /* relative to the state directory */
    char hash[SHA256_HEX_LEN + 1];  /* OBJECT, TEMP: the hash the name claims; else "" */
    long pid;                       /* TEMP: the writer's pid; else -1 */
} StoreEntry;

/* Calls visit for every entry under store/, directories and names in byte order: objects (a name
 * that is a hash), temp files (an object name + ".tmp.<pid>") and anything else (strays, including
 * files directly in store/ and directories that are not two hex digits). A missing store/ has no
 * entries. visit returning non-zero stops the walk with that value. */
typedef int (*StoreVisit)(void *ctx, const StoreEntry *e);
int store_walk(const char *state_dir, StoreVisit visit, void *ctx, Err *err);

/* Whether a temp entry's writer still runs (on this host: the state directory is local, as the
 * database's WAL mode requires). */
int store_temp_alive(const StoreEntry *e);
/* Removes a temp entry whose writer is gone: 1 removed, 0 kept (the writer runs), -1 error. */
int store_remove_dead_temp(const char *state_dir, const StoreEntry *e, Err *err);
/* Moves a stray entry to quarantine/stray.<its path with '/' as '_'>.<UTC time>.<pid>; the new
 * path goes to moved[size]. */
int store_quarantine_stray(const char *state_dir, const StoreEntry *e, char *moved, size_t size, Err *err);

#endif
