/* pipeline/subst.c — `${name}` substitution (see subst.h). */
#include "pipeline/subst.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/suggest.h"

#define MATRIX_PREFIX "matrix."

/* Column of byte `offset` inside a scalar, when it is on the scalar's first line. */
static int column_of(const YNode *n, size_t offset) {
    if (memchr(n->str, '\n', offset)) return n->col;
    return n->col + n->quoted + (int)offset;
}

static int err_at(Err *err, const char *file, const YNode *n, size_t offset, const char *msg, const char *name,
                  const char *hint) {
    return err_set(err, "%s:%d:%d: %s '%s'%s", file, n->line, column_of(n, offset), msg, name, hint);
}

static const YNode *lookup(const SubstScope *s, const char *name, int *defined_later) {
    *defined_later = 0;
    if (!s->values) return NULL;
    for (size_t i = 0; i < s->values->len; i++)
        if (!strcmp(s->values->pairs[i].key->str, name)) {
            if (i < s->visible) return s->values->pairs[i].value;
            *defined_later = 1;
            return NULL;
        }
    return NULL;
}

/* The name after `${` at text[start], or -1 if unterminated. Returns the index of the closing '}'. */
static long find_close(const char *text, size_t start) {
    const char *close = strchr(text + start, '}');
    return close ? (long)(close - text) : -1;
}

static int unknown_name(const SubstScope *s, const char *file, const YNode *n, size_t offset, const char *name,
                        int defined_later, Err *err) {
    if (s->matrix && (!s->values || !s->values->len))
        return err_set(err, "%s:%d:%d: %s has no matrix, so '${matrix.%s}' cannot be used", file, n->line,
                       column_of(n, offset), s->owner ? s->owner : "this stage", name);
    const char *cands[256];
    size_t nc = 0;
    for (size_t i = 0; s->values && i < s->values->len && i < s->visible && nc < 256; i++) cands[nc++] = s->values->pairs[i].key->str;
    char hint[160];
    suggest_hint(hint, sizeof hint, name, cands, nc);
    if (defined_later) snprintf(hint, sizeof hint, " (a var can only use vars defined above it)");
    return err_at(err, file, n, offset, s->matrix ? "unknown matrix key" : "unknown variable", name, hint);
}

static int over_budget(const SubstScope *s, const char *file, const YNode *n, size_t offset, size_t bytes, size_t nodes,
                       Err *err) {
    SubstBudget *b = s->budget;
    if (!b || (bytes <= b->max_bytes - b->bytes && nodes <= b->max_nodes - b->nodes)) return 0;
    if (bytes > b->max_bytes - b->bytes)
        return err_set(err, "%s:%d:%d: substitution makes more than %zu MiB of values in all (does a var repeat another "
                            "var several times?)", file, n->line, column_of(n, offset), b->max_bytes >> 20);
    return err_set(err, "%s:%d:%d: substitution copies more than %zu nodes in all (does a var repeat another var "
                        "several times?)", file, n->line, column_of(n, offset), b->max_nodes);
}

/* Builds the substituted text of scalar n. *whole gets the value node when the scalar is exactly one
 * reference to a non-scalar. Returns 0 and sets *out (malloc'd) or *whole. */
static int expand_scalar(const YNode *n, const SubstScope *s, const char *file, char **out, const YNode **whole,
                         Err *err) {
    const char *text = n->str;
    *out = NULL;
    *whole = NULL;
    if (!strchr(text, '$')) return 0;
    StrBuf sb = {0};
    size_t i = 0, len = strlen(text);
    int changed = 0;
    while (i < len) {
        if (text[i] == '$' && text[i + 1] == '$' && text[i + 2] == '{') {
            sb_append(&sb, s->unescape ? "${" : "$${");
            changed |= s->unescape;
            i += 3;
            continue;
        }
        if (text[i] != '$' || text[i + 1] != '{') {
            sb_append_char(&sb, text[i++]);
            continue;
        }
        long close = find_close(text, i + 2);
        if (close < 0) {
            sb_free(&sb);
            return err_set(err, "%s:%d:%d: unterminated '${' (write '$${' for a literal '${')", file, n->line, column_of(n, i));
        }
        char name[256];
        size_t name_len = (size_t)close - (i + 2);
        if (name_len == 0 || name_len >= sizeof name) {
            sb_free(&sb);
            return err_set(err, "%s:%d:%d: bad variable reference '%.*s'", file, n->line, column_of(n, i),
                           (int)(close - (long)i + 1), text + i);
        }
        memcpy(name, text + i + 2, name_len);
        name[name_len] = '\0';
        int is_matrix = !strncmp(name, MATRIX_PREFIX, strlen(MATRIX_PREFIX));
        if (is_matrix != s->matrix) { /* the other pass's business */
            sb_append_len(&sb, text + i, (size_t)close - i + 1);
            i = (size_t)close + 1;
            continue;
        }
        const char *key = is_matrix ? name + strlen(MATRIX_PREFIX) : name;
        int later;
        const YNode *value = lookup(s, key, &later);
        if (!value) {
            sb_free(&sb);
            return unknown_name(s, file, n, i, key, later, err);
        }
        if (value->kind != YNODE_SCALAR) {
            if (i == 0 && (size_t)close == len - 1) {
                sb_free(&sb);
                size_t nodes, bytes;
                ynode_measure(value, &nodes, &bytes);
                if (over_budget(s, file, n, i, bytes, nodes, err)) return -1;
                if (s->budget) s->budget->bytes += bytes, s->budget->nodes += nodes;
                *whole = value;
                return 0;
            }
            sb_free(&sb);
            return err_set(err, "%s:%d:%d: variable '%s' is %s; it can only stand alone as a whole value", file,
                           n->line, column_of(n, i), key, ynode_kind_name(value->kind));
        }
        sb_append(&sb, value->str);
        changed = 1;
        if (over_budget(s, file, n, i, sb.len, 0, err)) {
            sb_free(&sb);
            return -1;
        }
        i = (size_t)close + 1;
    }
    if (sb.oom) {
        sb_free(&sb);
        return err_set(err, "%s: out of memory", file);
    }
    if (!changed) {
        sb_free(&sb);
        return 0;
    }
    if (s->budget) s->budget->bytes += sb.len;
    *out = sb_take(&sb);
    return 0;
}

int subst_tree(YNode **slot, const SubstScope *s, const char *file, Err *err) {
    YNode *n = *slot;
    switch (n->kind) {
    case YNODE_SCALAR: {
        char *text;
        const YNode *whole;
        if (expand_scalar(n, s, file, &text, &whole, err)) return -1;
        if (whole) {
            YNode *copy = ynode_copy(whole);
            if (!copy) return err_set(err, "%s: out of memory", file);
            /* the var's value may itself hold escapes that this pass must resolve */
            if (s->unescape && subst_tree(&copy, s, file, err)) {
                ynode_free(copy);
                return -1;
            }
            ynode_free(n);
            *slot = copy;
        } else if (text) {
            free(n->str);
            n->str = text;
        }
        return 0;
    }
    case YNODE_SEQ:
        for (size_t i = 0; i < n->len; i++)
            if (subst_tree(&n->items[i], s, file, err)) return -1;
        return 0;
    case YNODE_MAP:
        for (size_t i = 0; i < n->len; i++)
            if (subst_tree(&n->pairs[i].value, s, file, err)) return -1;
        return 0;
    }
    return 0;
}
