/* pipeline/board_claims.h — the runner's side of board exclusivity: which board (platform identity,
 * platforms/platform_lock.h) each stage instance measures on, which boards running instances hold,
 * and the instances waiting for one.
 *
 * An instance whose params have `platform:` (the profile stage's board: this machine, an ssh board
 * of a board file, a plugin's type) claims that board for its whole run. The runner starts at most
 * one claimant of a board at a time: a queued instance whose board is held is parked on the board
 * (FIFO) and does not hold up the instances queued after it (other boards, other stages); when the
 * holder ends, the first parked instance is woken and tried before the rest of the queue. Across
 * processes the stage process itself takes the board's lock file (platform_lock_acquire), so two
 * runs on one machine take turns as well; this table only keeps one run from queueing its own
 * stages on that lock.
 *
 * A claim on a remote board (every type but local) also says that the stage's process here only
 * drives the board: the executors count it as one thread of the budget (its ssh client), whatever
 * its `threads:` (those are the board's cores). */
#ifndef DYNN_PIPELINE_BOARD_CLAIMS_H
#define DYNN_PIPELINE_BOARD_CLAIMS_H

#include <stddef.h>

#include "pipeline/dag.h"
#include "util/err.h"
#include "util/strmap.h"

#define BOARD_NONE ((size_t)-1)

typedef struct Board {
    char *identity;      /* "ssh:xu3:22", "local" */
    char *name;          /* the board file's name of the first claimant ("odroid-xu3") */
    int remote;
    size_t holder;       /* the running instance holding it, or BOARD_NONE */
    size_t wait_head, wait_tail; /* parked instances, linked through BoardClaims.next */
} Board;

typedef struct BoardClaims {
    size_t n_inst;
    size_t *board;       /* per instance: index into boards, or BOARD_NONE (claims nothing) */
    size_t *next;        /* per instance: the next one in the list it is in (parked or woken) */
    Board *boards;
    size_t n_boards, cap_boards;
    StrMap by_identity;  /* identity → index into boards */
    size_t woken_head, woken_tail; /* instances whose board came free, in the order they were parked */
} BoardClaims;

/* An empty table for n instances (none claims anything). */
int board_claims_init(BoardClaims *c, size_t n, Err *err);
void board_claims_free(BoardClaims *c);
/* Instance i claims the board with this identity (name: how messages name it; remote: see above). */
int board_claims_set(BoardClaims *c, size_t i, const char *identity, const char *name, int remote, Err *err);
/* Every selected instance of the dag whose params have `platform:`: the description read as the
 * stage reads it (platform_desc_open_param, relative to base: the run's working directory).
 * selected may be NULL (all). A `platform:` that cannot be read is an error naming the instance. */
int board_claims_from_dag(BoardClaims *c, const Dag *dag, const unsigned char *selected, const char *base, Err *err);

/* The board instance i claims, or NULL. */
const Board *board_claims_of(const BoardClaims *c, size_t i);
/* 1 when i claims nothing or its board is free. */
int board_claims_free_for(const BoardClaims *c, size_t i);
/* i waits for its board (held): parked at the end of the board's list. */
void board_claims_park(BoardClaims *c, size_t i);
/* i starts: it holds its board (if it claims one). */
void board_claims_take(BoardClaims *c, size_t i);
/* i ended: its board is free, and the first instance parked on it (if any) is woken. */
void board_claims_release(BoardClaims *c, size_t i);
/* The first woken instance, or BOARD_NONE; board_claims_pop_woken removes it. */
size_t board_claims_peek_woken(const BoardClaims *c);
void board_claims_pop_woken(BoardClaims *c);

#endif
