/* util/ynode.c — YAML (libyaml events) to a positioned tree, and helpers on it (see ynode.h). */
#include "util/ynode.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/fs.h"
#include "util/strmap.h"
#include "util/suggest.h"

#define YNODE_MAX_DEPTH 200
/* Nodes in one document, aliases expanded, and text that aliases copy: guards against alias bombs. */
#define YNODE_MAX_NODES 5000000
#define YNODE_MAX_BYTES (64u << 20)

/* ---- construction ---- */

YNode *ynode_new(YNodeKind kind, int line, int col) {
    YNode *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->line = line;
    n->col = col;
    return n;
}

YNode *ynode_scalar(const char *text, int line, int col) {
    YNode *n = ynode_new(YNODE_SCALAR, line, col);
    if (!n) return NULL;
    n->str = strdup(text);
    if (!n->str) {
        free(n);
        return NULL;
    }
    return n;
}

/* Makes room for one more item/pair (capacity doubles). */
static int reserve_one(YNode *n, void **array, size_t elem) {
    if (n->len < n->cap) return 0;
    size_t cap = n->cap ? n->cap * 2 : 4;
    void *p = realloc(*array, cap * elem);
    if (!p) return -1;
    *array = p;
    n->cap = cap;
    return 0;
}

int ynode_append(YNode *seq, YNode *item) {
    if (reserve_one(seq, (void **)&seq->items, sizeof *seq->items)) return -1;
    seq->items[seq->len++] = item;
    return 0;
}

int ynode_put(YNode *map, YNode *key, YNode *value) {
    if (reserve_one(map, (void **)&map->pairs, sizeof *map->pairs)) return -1;
    map->pairs[map->len].key = key;
    map->pairs[map->len].value = value;
    map->len++;
    return 0;
}

void ynode_free(YNode *n) {
    if (!n) return;
    free(n->str);
    for (size_t i = 0; n->kind == YNODE_SEQ && i < n->len; i++) ynode_free(n->items[i]);
    for (size_t i = 0; n->kind == YNODE_MAP && i < n->len; i++) {
        ynode_free(n->pairs[i].key);
        ynode_free(n->pairs[i].value);
    }
    free(n->items);
    free(n->pairs);
    free(n);
}

YNode *ynode_copy(const YNode *n) {
    if (!n) return NULL;
    YNode *c;
    if (n->kind == YNODE_SCALAR) {
        c = ynode_scalar(n->str, n->line, n->col);
        if (c) c->quoted = n->quoted;
        return c;
    }
    c = ynode_new(n->kind, n->line, n->col);
    if (!c) return NULL;
    for (size_t i = 0; i < n->len; i++) {
        if (n->kind == YNODE_SEQ) {
            YNode *item = ynode_copy(n->items[i]);
            if (!item || ynode_append(c, item)) {
                ynode_free(item);
                ynode_free(c);
                return NULL;
            }
        } else {
            YNode *k = ynode_copy(n->pairs[i].key), *v = ynode_copy(n->pairs[i].value);
            if (!k || !v || ynode_put(c, k, v)) {
                ynode_free(k);
                ynode_free(v);
                ynode_free(c);
                return NULL;
            }
        }
    }
    return c;
}

/* ---- parsing ---- */

typedef struct Anchor {
    char *name;
    YNode *node; /* borrowed from the tree */
} Anchor;

typedef struct Parser {
    yaml_parser_t yp;
    const char *name;
    Err *err;
    Anchor *anchors;
    size_t n_anchors, cap_anchors;
    size_t n_nodes;
    size_t alias_bytes;     /* text copied by aliases */
    yaml_mark_t unexpected; /* where expect_event() met something else */
} Parser;

static int syntax_error(Parser *p) {
    const yaml_parser_t *yp = &p->yp;
    if (yp->context)
        return err_set(p->err, "%s:%zu:%zu: YAML syntax error: %s (%s at %zu:%zu)", p->name, yp->problem_mark.line + 1,
                       yp->problem_mark.column + 1, yp->problem ? yp->problem : "invalid document", yp->context,
                       yp->context_mark.line + 1, yp->context_mark.column + 1);
    return err_set(p->err, "%s:%zu:%zu: YAML syntax error: %s", p->name, yp->problem_mark.line + 1,
                   yp->problem_mark.column + 1, yp->problem ? yp->problem : "invalid document");
}

static int next_event(Parser *p, yaml_event_t *ev) {
    if (!yaml_parser_parse(&p->yp, ev)) return syntax_error(p);
    return 0;
}

static int remember_anchor(Parser *p, const yaml_char_t *anchor, YNode *node) {
    if (!anchor) return 0;
    if (p->n_anchors == p->cap_anchors) {
        size_t cap = p->cap_anchors ? p->cap_anchors * 2 : 8;
        Anchor *a = realloc(p->anchors, cap * sizeof *a);
        if (!a) return err_set(p->err, "%s: out of memory", p->name);
        p->anchors = a, p->cap_anchors = cap;
    }
    p->anchors[p->n_anchors].name = strdup((const char *)anchor);
    if (!p->anchors[p->n_anchors].name) return err_set(p->err, "%s: out of memory", p->name);
    p->anchors[p->n_anchors++].node = node;
    return 0;
}

void ynode_measure(const YNode *n, size_t *nodes, size_t *bytes) {
    *nodes = 1;
    *bytes = n->kind == YNODE_SCALAR ? strlen(n->str) : 0;
    for (size_t i = 0; n->kind != YNODE_SCALAR && i < n->len; i++) {
        size_t c, b;
        ynode_measure(n->kind == YNODE_SEQ ? n->items[i] : n->pairs[i].value, &c, &b);
        *nodes += c;
        *bytes += b;
        if (n->kind == YNODE_MAP) *nodes += 1, *bytes += strlen(n->pairs[i].key->str);
    }
}

static int parse_node(Parser *p, yaml_event_t *ev, int depth, YNode **out);

static int check_duplicate_keys(Parser *p, const YNode *map) {
    if (map->len <= 8) {
        for (size_t i = 1; i < map->len; i++)
            for (size_t j = 0; j < i; j++)
                if (!strcmp(map->pairs[i].key->str, map->pairs[j].key->str))
                    return ynode_err(p->err, p->name, map->pairs[i].key, "duplicate key '%s' (first at %d:%d)",
                                     map->pairs[i].key->str, map->pairs[j].key->line, map->pairs[j].key->col);
        return 0;
    }
    StrMap seen = {0};
    int rc = 0;
    for (size_t i = 0; i < map->len && !rc; i++) {
        size_t j;
        if (strmap_get(&seen, map->pairs[i].key->str, &j))
            rc = ynode_err(p->err, p->name, map->pairs[i].key, "duplicate key '%s' (first at %d:%d)",
                           map->pairs[i].key->str, map->pairs[j].key->line, map->pairs[j].key->col);
        else if (strmap_put(&seen, map->pairs[i].key->str, i))
            rc = err_set(p->err, "%s: out of memory", p->name);
    }
    strmap_free(&seen);
    return rc;
}

/* Parses the children of a sequence or mapping until its end event. */
static int parse_children(Parser *p, YNode *node, int depth) {
    yaml_event_type_t end = node->kind == YNODE_SEQ ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT;
    for (;;) {
        yaml_event_t ev;
        if (next_event(p, &ev)) return -1;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return node->kind == YNODE_MAP ? check_duplicate_keys(p, node) : 0;
        }
        YNode *child = NULL;
        int rc = parse_node(p, &ev, depth + 1, &child);
        yaml_event_delete(&ev);
        if (rc) return -1;
        if (node->kind == YNODE_SEQ) {
            if (ynode_append(node, child)) {
                ynode_free(child);
                return err_set(p->err, "%s: out of memory", p->name);
            }
            continue;
        }
        if (child->kind != YNODE_SCALAR) {
            int r = ynode_err(p->err, p->name, child, "mapping keys must be plain strings, not %s",
                              ynode_kind_name(child->kind));
            ynode_free(child);
            return r;
        }
        yaml_event_t vev;
        YNode *value = NULL;
        if (next_event(p, &vev)) {
            ynode_free(child);
            return -1;
        }
        rc = parse_node(p, &vev, depth + 1, &value);
        yaml_event_delete(&vev);
        if (rc || ynode_put(node, child, value)) {
            ynode_free(child);
            ynode_free(value);
            return rc ? -1 : err_set(p->err, "%s: out of memory", p->name);
        }
    }
}

static int parse_node(Parser *p, yaml_event_t *ev, int depth, YNode **out) {
    *out = NULL;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (depth > YNODE_MAX_DEPTH) return err_set(p->err, "%s:%d:%d: nesting deeper than %d levels", p->name, line, col, YNODE_MAX_DEPTH);
    if (++p->n_nodes > YNODE_MAX_NODES) return err_set(p->err, "%s:%d:%d: document has too many nodes", p->name, line, col);
    YNode *n = NULL;
    const yaml_char_t *anchor = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = ynode_scalar((const char *)ev->data.scalar.value, line, col);
        if (n) n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                           ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        anchor = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP, line, col);
        anchor = ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
        if (n && parse_children(p, n, depth)) {
            ynode_free(n);
            return -1;
        }
        break;
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (size_t i = p->n_anchors; i-- > 0;) {
            if (strcmp(p->anchors[i].name, name)) continue;
            size_t nodes, bytes;
            ynode_measure(p->anchors[i].node, &nodes, &bytes);
            p->n_nodes += nodes;
            p->alias_bytes += bytes;
            if (p->n_nodes > YNODE_MAX_NODES)
                return err_set(p->err, "%s:%d:%d: aliases expand to too many nodes", p->name, line, col);
            if (p->alias_bytes > YNODE_MAX_BYTES)
                return err_set(p->err, "%s:%d:%d: aliases expand to more than %u MiB of text", p->name, line, col,
                               YNODE_MAX_BYTES >> 20);
            n = ynode_copy(p->anchors[i].node);
            if (!n) return err_set(p->err, "%s: out of memory", p->name);
            *out = n;
            return 0;
        }
        return err_set(p->err, "%s:%d:%d: unknown alias '*%s'", p->name, line, col, name);
    }
    default:
        return err_set(p->err, "%s:%d:%d: unexpected YAML event", p->name, line, col);
    }
    if (!n) return err_set(p->err, "%s: out of memory", p->name);
    if (remember_anchor(p, anchor, n)) {
        ynode_free(n);
        return -1;
    }
    *out = n;
    return 0;
}

/* Expects the event of the given type next (stream/document framing). */
static int expect_event(Parser *p, yaml_event_type_t type, yaml_event_t *ev) {
    if (next_event(p, ev)) return -1;
    if (ev->type == type) return 0;
    p->unexpected = ev->start_mark;
    yaml_event_delete(ev);
    return 1;
}

int ynode_parse(const char *text, size_t len, const char *name, YNode **out, Err *err) {
    *out = NULL;
    Parser p = {.name = name, .err = err};
    if (!yaml_parser_initialize(&p.yp)) return err_set(err, "%s: cannot initialize the YAML parser", name);
    yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
    yaml_event_t ev;
    int rc = -1;
    YNode *root = NULL;
    if (expect_event(&p, YAML_STREAM_START_EVENT, &ev)) goto done;
    yaml_event_delete(&ev);
    int got = expect_event(&p, YAML_DOCUMENT_START_EVENT, &ev);
    if (got < 0) goto done;
    if (got > 0) {
        err_set(err, "%s: the file is empty", name);
        goto done;
    }
    yaml_event_delete(&ev);
    if (next_event(&p, &ev)) goto done;
    int prc = parse_node(&p, &ev, 0, &root);
    yaml_event_delete(&ev);
    if (prc) goto done;
    if (expect_event(&p, YAML_DOCUMENT_END_EVENT, &ev)) goto done;
    yaml_event_delete(&ev);
    got = expect_event(&p, YAML_STREAM_END_EVENT, &ev);
    if (got < 0) goto done;
    if (got > 0) {
        err_set(err, "%s:%zu:%zu: only one YAML document per file is allowed", name, p.unexpected.line + 1,
                p.unexpected.column + 1);
        goto done;
    }
    yaml_event_delete(&ev);
    *out = root;
    root = NULL;
    rc = 0;
done:
    ynode_free(root);
    for (size_t i = 0; i < p.n_anchors; i++) free(p.anchors[i].name);
    free(p.anchors);
    yaml_parser_delete(&p.yp);
    return rc;
}

int ynode_parse_file(const char *path, YNode **out, Err *err) {
    char *text;
    size_t len;
    if (fs_read_file(path, &text, &len, err)) return -1;
    int rc = ynode_parse(text, len, path, out, err);
    free(text);
    return rc;
}

/* ---- lookups and checks ---- */

YPair *ynode_get_pair(const YNode *map, const char *key) {
    if (!map || map->kind != YNODE_MAP) return NULL;
    for (size_t i = 0; i < map->len; i++)
        if (!strcmp(map->pairs[i].key->str, key)) return &map->pairs[i];
    return NULL;
}

YNode *ynode_get(const YNode *map, const char *key) {
    YPair *pair = ynode_get_pair(map, key);
    return pair ? pair->value : NULL;
}

const char *ynode_kind_name(YNodeKind kind) {
    switch (kind) {
    case YNODE_SCALAR: return "a string";
    case YNODE_SEQ: return "a list";
    case YNODE_MAP: return "a mapping";
    }
    return "?";
}

int ynode_err(Err *err, const char *file, const YNode *at, const char *fmt, ...) {
    if (!err) return -1;
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at) return err_set(err, "%s:%d:%d: %s", file, at->line, at->col, msg);
    return err_set(err, "%s: %s", file, msg);
}

int ynode_expect(const YNode *n, YNodeKind kind, const char *file, const char *what, Err *err) {
    if (n->kind == kind) return 0;
    return ynode_err(err, file, n, "%s must be %s, not %s", what, ynode_kind_name(kind), ynode_kind_name(n->kind));
}

int ynode_check_keys(const YNode *map, const char *const *allowed, size_t n, const char *file, const char *context,
                     Err *err) {
    for (size_t i = 0; i < map->len; i++) {
        const char *key = map->pairs[i].key->str;
        size_t j = 0;
        while (j < n && strcmp(key, allowed[j])) j++;
        if (j < n) continue;
        char hint[160];
        return ynode_err(err, file, map->pairs[i].key, "unknown key '%s' in %s%s", key, context,
                         suggest_hint(hint, sizeof hint, key, allowed, n));
    }
    return 0;
}

int ynode_int(const YNode *n, long long min, long long max, const char *file, const char *what, long long *out,
              Err *err) {
    if (n->kind != YNODE_SCALAR) return ynode_err(err, file, n, "%s must be an integer, not %s", what, ynode_kind_name(n->kind));
    char *end;
    errno = 0;
    long long v = strtoll(n->str, &end, 10);
    if (!n->str[0] || *end || errno) return ynode_err(err, file, n, "%s must be an integer, not '%s'", what, n->str);
    if (v < min || v > max) return ynode_err(err, file, n, "%s must be between %lld and %lld, not %lld", what, min, max, v);
    *out = v;
    return 0;
}

int ynode_bool(const YNode *n, const char *file, const char *what, int *out, Err *err) {
    if (n->kind == YNODE_SCALAR) {
        if (!strcmp(n->str, "true") || !strcmp(n->str, "yes")) return *out = 1, 0;
        if (!strcmp(n->str, "false") || !strcmp(n->str, "no")) return *out = 0, 0;
        return ynode_err(err, file, n, "%s must be true or false, not '%s'", what, n->str);
    }
    return ynode_err(err, file, n, "%s must be true or false, not %s", what, ynode_kind_name(n->kind));
}

/* ---- canonical form ---- */

static int compare_pairs(const void *a, const void *b) {
    const YPair *x = *(const YPair *const *)a, *y = *(const YPair *const *)b;
    return strcmp(x->key->str, y->key->str);
}

void ynode_canonical_json(const YNode *n, StrBuf *sb) {
    if (!n) {
        sb_append(sb, "null");
        return;
    }
    switch (n->kind) {
    case YNODE_SCALAR: sb_append_json_string(sb, n->str); return;
    case YNODE_SEQ:
        sb_append_char(sb, '[');
        for (size_t i = 0; i < n->len; i++) {
            if (i) sb_append_char(sb, ',');
            ynode_canonical_json(n->items[i], sb);
        }
        sb_append_char(sb, ']');
        return;
    case YNODE_MAP: {
        const YPair *stack_order[32];
        const YPair **order = n->len <= 32 ? stack_order : malloc(n->len * sizeof *order);
        if (!order) {
            sb->oom = 1;
            return;
        }
        for (size_t i = 0; i < n->len; i++) order[i] = &n->pairs[i];
        qsort(order, n->len, sizeof *order, compare_pairs);
        sb_append_char(sb, '{');
        for (size_t i = 0; i < n->len; i++) {
            if (i) sb_append_char(sb, ',');
            sb_append_json_string(sb, order[i]->key->str);
            sb_append_char(sb, ':');
            ynode_canonical_json(order[i]->value, sb);
        }
        sb_append_char(sb, '}');
        if (order != stack_order) free(order);
        return;
    }
    }
}

size_t ynode_string_list(const YNode *n, const YNode **bad) {
    *bad = NULL;
    if (!n) return 0;
    if (n->kind == YNODE_SCALAR) return 1;
    if (n->kind == YNODE_MAP) {
        *bad = n;
        return 0;
    }
    for (size_t i = 0; i < n->len; i++)
        if (n->items[i]->kind != YNODE_SCALAR) {
            *bad = n->items[i];
            return 0;
        }
    return n->len;
}

const YNode *ynode_string_at(const YNode *n, size_t i) { return n->kind == YNODE_SCALAR ? n : n->items[i]; }
