/* platforms/platform_lock.h — a board is measured by one process at a time: the identity of the
 * machine a platform description targets, and the lock on it that every process measuring there
 * holds for its whole sweep (deploy, every point with its cpufreq/devfreq set and restore, cleanup).
 *
 * Identity: "local" for this machine (type local), "ssh:HOST:PORT" for an ssh board (the host as
 * the board file writes it, lower-cased; the user does not matter: one board), "TYPE:NAME" for a
 * plugin's type. Two descriptions with one identity are one board.
 *
 * The lock is a POSIX record lock (fcntl F_SETLK, whole file) on DIR/<identity>-<hash>.lock: the
 * kernel drops it when the holding process dies, however it dies (kill -9 included), so a killed
 * runner never leaves a board held. The holder writes who it is into the file ("pid 123 since …:
 * stage 'prof' of run …"); a waiter reads the holder's pid from the kernel (F_GETLK) and the rest
 * from the file, says so on its progress stream ("waiting for board 'xu3' (ssh:xu3:22), held by pid
 * 123 (…)"), repeats it while it waits, and gives up after its time limit, if it has one, with one
 * line naming the holder and the option that sets the limit. (OFD locks, F_OFD_SETLK, would survive
 * a second open in the same process, but F_OFD_GETLK cannot name the holding process; flock(2)
 * cannot either. Only this file opens lock files, once per process and board.)
 *
 * DIR: $DYNN_LOCK_DIR (`dynn run --lock-dir`), else $XDG_RUNTIME_DIR/dynn-locks, else
 * /tmp/dynn-locks-UID (made 0700, refused when it is not a directory of this user). Processes
 * take turns on a board only when they use the same directory: per user by default; users sharing
 * boards point DYNN_LOCK_DIR at one directory they can all write (lock files are made 0666 less the
 * umask). The time limit: $DYNN_BOARD_WAIT (`dynn run --board-wait`), a duration (util/duration.h);
 * unset: no limit (the waiter keeps saying what it waits for). */
#ifndef DYNN_PLATFORMS_PLATFORM_LOCK_H
#define DYNN_PLATFORMS_PLATFORM_LOCK_H

#include <limits.h>
#include <stdio.h>

#include "platforms/platform.h"
#include "util/err.h"

#define PLATFORM_LOCK_DIR_ENV "DYNN_LOCK_DIR"
#define PLATFORM_LOCK_WAIT_ENV "DYNN_BOARD_WAIT"
#define PLATFORM_IDENTITY_MAX (PLATFORM_DESC_MAX_TEXT + PLATFORM_DESC_MAX_NAME + 16)

/* The identity of the machine d targets (see above) into out (PLATFORM_IDENTITY_MAX bytes fit any). */
void platform_identity(const PlatformDesc *d, char *out, size_t size);
/* 1 when d's profiler runs on another machine (every type but local): its stage's process here only
 * drives it (an ssh client), and needs no share of this machine's threads. */
int platform_is_remote(const PlatformDesc *d);

/* The lock directory (see above), created if missing. */
int platform_lock_dir(char *out, size_t size, Err *err);
/* The wait limit in seconds from $DYNN_BOARD_WAIT; 0: none. A value that is not a duration is an
 * error naming the variable and the option. */
int platform_lock_wait_limit(double *seconds, Err *err);

typedef struct PlatformLockRequest {
    const char *identity; /* platform_identity() */
    const char *label;    /* how messages name the board: "board 'xu3' (ssh:xu3:22)" */
    const char *holder;   /* who takes it, written into the lock file: "stage 'prof' of run <uuid>" */
    double timeout_s;     /* give up after this long; 0: no limit */
    double report_s;      /* while waiting, a line every report_s seconds (the first at once); 0: 30 */
    FILE *progress;       /* where those lines go; NULL: nowhere */
} PlatformLockRequest;

typedef struct PlatformLock {
    int fd;               /* -1 when not held */
    double waited_s;      /* how long acquiring it took */
    char path[PATH_MAX];
} PlatformLock;

/* Takes the board's lock, waiting while another process holds it (polling every 50-250 ms, so the
 * caller's signal handlers keep working); fails after timeout_s with "board … is still held by pid
 * N (…) after 10 s (DYNN_BOARD_WAIT, dynn run --board-wait)". The lock is held until
 * platform_lock_release or the process's end; the descriptor is close-on-exec, so what the holder
 * runs does not keep it. A process must not take the same board twice. */
int platform_lock_acquire(const PlatformLockRequest *req, PlatformLock *lock, Err *err);
/* Releases it (empties the holder line first); a lock not held is left alone. */
void platform_lock_release(PlatformLock *lock);

/* Who holds the board now: its pid (0 when free) and the line it wrote (the empty string when the
 * file's line is not the holder's own). Not for a process that holds a board lock itself (closing
 * any descriptor of a file drops the process's POSIX locks on it). */
int platform_lock_holder(const char *identity, long *pid, char *line, size_t size, Err *err);

#endif
