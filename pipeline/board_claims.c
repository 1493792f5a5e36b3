/* pipeline/board_claims.c — the boards stage instances claim, who holds each, who waits (see
 * board_claims.h). Every operation is O(1) but reading the claims from the dag (one board file read
 * per instance with `platform:`). */
#include "pipeline/board_claims.h"

#include <stdlib.h>
#include <string.h>

#include "platforms/platform.h"
#include "platforms/platform_lock.h"

int board_claims_init(BoardClaims *c, size_t n, Err *err) {
    memset(c, 0, sizeof *c);
    c->n_inst = n;
    c->board = malloc((n ? n : 1) * sizeof *c->board);
    c->next = malloc((n ? n : 1) * sizeof *c->next);
    if (!c->board || !c->next) {
        board_claims_free(c);
        return err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) c->board[i] = c->next[i] = BOARD_NONE;
    c->woken_head = c->woken_tail = BOARD_NONE;
    return 0;
}

void board_claims_free(BoardClaims *c) {
    for (size_t b = 0; b < c->n_boards; b++) free(c->boards[b].identity), free(c->boards[b].name);
    free(c->boards);
    free(c->board);
    free(c->next);
    strmap_free(&c->by_identity);
    memset(c, 0, sizeof *c);
}

int board_claims_set(BoardClaims *c, size_t i, const char *identity, const char *name, int remote, Err *err) {
    size_t b;
    if (!strmap_get(&c->by_identity, identity, &b)) {
        if (c->n_boards == c->cap_boards) {
            size_t cap = c->cap_boards ? 2 * c->cap_boards : 8;
            Board *grown = realloc(c->boards, cap * sizeof *grown);
            if (!grown) return err_set(err, "out of memory");
            c->boards = grown, c->cap_boards = cap;
        }
        Board *nb = &c->boards[c->n_boards];
        *nb = (Board){.identity = strdup(identity), .name = strdup(name), .remote = remote, .holder = BOARD_NONE,
                      .wait_head = BOARD_NONE, .wait_tail = BOARD_NONE};
        if (!nb->identity || !nb->name || strmap_put(&c->by_identity, nb->identity, c->n_boards)) {
            free(nb->identity), free(nb->name);
            return err_set(err, "out of memory");
        }
        b = c->n_boards++;
    }
    c->board[i] = b;
    return 0;
}

int board_claims_from_dag(BoardClaims *c, const Dag *dag, const unsigned char *selected, const char *base, Err *err) {
    for (size_t i = 0; i < dag->n; i++) {
        const YNode *platform = selected && !selected[i] ? NULL : ynode_get(dag->inst[i].params, "platform");
        if (!platform) continue;
        PlatformDescFile pf;
        char identity[PLATFORM_IDENTITY_MAX];
        if (platform_desc_open_param(platform, "params", base, &pf, err))
            return err_prefix(err, "stage '%s': cannot tell which board it measures on", dag->inst[i].name);
        platform_identity(&pf.desc, identity, sizeof identity);
        int rc = board_claims_set(c, i, identity, pf.desc.name, platform_is_remote(&pf.desc), err);
        platform_desc_free(&pf);
        if (rc) return -1;
    }
    return 0;
}

const Board *board_claims_of(const BoardClaims *c, size_t i) {
    return c->board && c->board[i] != BOARD_NONE ? &c->boards[c->board[i]] : NULL;
}

int board_claims_free_for(const BoardClaims *c, size_t i) {
    const Board *b = board_claims_of(c, i);
    return !b || b->holder == BOARD_NONE;
}

/* Appends i to the list (head, tail) linked through next. */
static void append(BoardClaims *c, size_t *head, size_t *tail, size_t i) {
    c->next[i] = BOARD_NONE;
    if (*tail == BOARD_NONE) *head = i;
    else c->next[*tail] = i;
    *tail = i;
}

void board_claims_park(BoardClaims *c, size_t i) {
    Board *b = c->board[i] != BOARD_NONE ? &c->boards[c->board[i]] : NULL;
    if (b) append(c, &b->wait_head, &b->wait_tail, i);
}

void board_claims_take(BoardClaims *c, size_t i) {
    if (c->board && c->board[i] != BOARD_NONE) c->boards[c->board[i]].holder = i;
}

void board_claims_release(BoardClaims *c, size_t i) {
    if (!c->board || c->board[i] == BOARD_NONE) return;
    Board *b = &c->boards[c->board[i]];
    if (b->holder != i) return;
    b->holder = BOARD_NONE;
    size_t w = b->wait_head;
    if (w == BOARD_NONE) return;
    b->wait_head = c->next[w];
    if (b->wait_head == BOARD_NONE) b->wait_tail = BOARD_NONE;
    append(c, &c->woken_head, &c->woken_tail, w);
}

size_t board_claims_peek_woken(const BoardClaims *c) { return c->woken_head; }

void board_claims_pop_woken(BoardClaims *c) {
    size_t w = c->woken_head;
    if (w == BOARD_NONE) return;
    c->woken_head = c->next[w];
    if (c->woken_head == BOARD_NONE) c->woken_tail = BOARD_NONE;
    c->next[w] = BOARD_NONE;
}
