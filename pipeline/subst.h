/* pipeline/subst.h — `${name}` substitution in a YAML tree.
 *
 * Two passes use it. The vars pass replaces `${var}` by the value of a top-level var everywhere in
 * the experiment file; it leaves `${matrix.KEY}` and the escape `$${` alone. The matrix pass runs on
 * each stage instance's params and replaces `${matrix.KEY}` by that instance's value; being the last
 * pass it also turns `$${` into a literal `${`.
 *
 * A scalar that is exactly `${name}` takes the var's whole value, so a var may hold a list (handy
 * for `matrix: {seed: ${seeds}}`); inside a longer string a var must be a plain value. Unknown
 * names are errors at the scalar's file:line:column, with the near miss suggested.
 *
 * What a pass produces is bounded (SubstBudget): vars that repeat other vars (`b: ${a}${a}`,
 * `c: ${b}${b}`, …) double at every step, and without a bound end in "out of memory" after
 * gigabytes. Every scalar a pass rewrites counts with its new text, every whole value it copies
 * with its nodes and text; going over the budget is an error at the scalar being expanded. */
#ifndef DYNN_PIPELINE_SUBST_H
#define DYNN_PIPELINE_SUBST_H

#include "util/ynode.h"

/* The budget of the vars pass (the whole file): far beyond any real experiment. */
#define SUBST_MAX_BYTES (64u << 20)
#define SUBST_MAX_NODES 1000000

typedef struct SubstBudget {
    size_t bytes, nodes;         /* produced so far */
    size_t max_bytes, max_nodes;
} SubstBudget;

typedef struct SubstScope {
    const YNode *values;  /* mapping name → value */
    size_t visible;       /* only the first `visible` pairs can be used (vars may only use earlier vars) */
    int matrix;           /* 0: vars pass (skips ${matrix.*}); 1: matrix pass (only ${matrix.*}) */
    int unescape;         /* turn `$${` into `${` (the last pass over a subtree) */
    const char *owner;    /* for messages: "stage 'train'" (matrix pass) */
    SubstBudget *budget;  /* what the pass may still produce, shared by its calls; NULL: no bound */
} SubstScope;

/* Substitutes in place; *slot may be replaced by a new node (whole-value substitution). */
int subst_tree(YNode **slot, const SubstScope *scope, const char *file, Err *err);

#endif
