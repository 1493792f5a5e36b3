/* util/ynode.h — a YAML document as a plain tree that remembers where every node was written.
 *
 * libyaml's event stream is turned into scalars, sequences and mappings; every node keeps its
 * 1-based line and column so that any later check (spec, vars, a stage type's params) can say
 * "file:line:col: …". Scalars are kept as text: the reader of a value decides whether it must be a
 * number or a boolean (ynode_int, ynode_bool), which keeps quoting rules out of the way. Anchors and
 * aliases are expanded (copied); duplicate keys in a mapping are refused.
 *
 * The tree is also the in-memory form of a stage's params, serialized canonically (sorted keys,
 * every scalar a JSON string) by ynode_canonical_json for cache keys and stage descriptions. */
#ifndef DYNN_UTIL_YNODE_H
#define DYNN_UTIL_YNODE_H

#include <stddef.h>

#include "util/err.h"
#include "util/strbuf.h"

typedef enum { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } YNodeKind;

typedef struct YNode YNode;
typedef struct YPair {
    YNode *key; /* always a scalar */
    YNode *value;
} YPair;

struct YNode {
    YNodeKind kind;
    int line, col; /* 1-based position where the node starts */
    int quoted;    /* scalar written in quotes (its text starts one column later) */
    char *str;     /* YNODE_SCALAR: the text ("" for an empty value) */
    size_t len;    /* number of items (YNODE_SEQ) or pairs (YNODE_MAP) */
    YNode **items; /* YNODE_SEQ */
    YPair *pairs;  /* YNODE_MAP, in file order */
    size_t cap;    /* allocated items/pairs */
};

/* Parses one YAML document. `name` is used in messages ("file:line:col: ..."). An empty document is
 * an error. */
int ynode_parse(const char *text, size_t len, const char *name, YNode **out, Err *err);
int ynode_parse_file(const char *path, YNode **out, Err *err);

void ynode_free(YNode *n);
YNode *ynode_copy(const YNode *n);              /* deep copy; NULL when out of memory */
/* Size of a tree: nodes (a mapping's keys count) and bytes of text (scalars and keys). */
void ynode_measure(const YNode *n, size_t *nodes, size_t *bytes);
YNode *ynode_scalar(const char *text, int line, int col); /* a new scalar node */
YNode *ynode_new(YNodeKind kind, int line, int col);      /* empty seq/map */
int ynode_append(YNode *seq, YNode *item);                  /* takes ownership; -1 when out of memory */
int ynode_put(YNode *map, YNode *key, YNode *value);       /* appends a pair; takes ownership */

/* Value of a key in a mapping (NULL when absent or when `map` is not a mapping). */
YNode *ynode_get(const YNode *map, const char *key);
YPair *ynode_get_pair(const YNode *map, const char *key);

/* "a string", "a list", "a mapping" — for messages. */
const char *ynode_kind_name(YNodeKind kind);

/* err = "file:line:col: <message>"; returns -1. */
int ynode_err(Err *err, const char *file, const YNode *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Checks a node's kind: "file:L:C: <what> must be a list, not a string". */
int ynode_expect(const YNode *n, YNodeKind kind, const char *file, const char *what, Err *err);

/* Every key of `map` must be one of allowed[0..n): "file:L:C: unknown key 'tpye' in <context>
 * (did you mean 'type'?)". */
int ynode_check_keys(const YNode *map, const char *const *allowed, size_t n, const char *file, const char *context,
                     Err *err);

/* Scalar conversions with range checks and positioned messages naming `what`. */
int ynode_int(const YNode *n, long long min, long long max, const char *file, const char *what, long long *out,
              Err *err);
int ynode_bool(const YNode *n, const char *file, const char *what, int *out, Err *err);

/* Canonical JSON: mappings with keys sorted bytewise, sequences in order, scalars as strings. */
void ynode_canonical_json(const YNode *n, StrBuf *sb);

/* A list of strings: a scalar or a sequence of scalars. Returns the count (0 for NULL) and sets
 * *bad to the first non-scalar item if any. */
size_t ynode_string_list(const YNode *n, const YNode **bad);
/* i-th string of such a list. */
const YNode *ynode_string_at(const YNode *n, size_t i);

#endif
