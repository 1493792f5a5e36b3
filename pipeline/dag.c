/* pipeline/dag.c — matrix expansion, params validation, needs, cycles, topological order, --only
 * (see dag.h). */
#include "pipeline/dag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/subst.h"
#include "pipeline/stage.h"
#include "util/regex.h"
#include "util/strbuf.h"
#include "util/suggest.h"

#define MAX_INSTANCES 1000000
#define MAX_EDGES 10000000 /* dependencies between instances, in total: 160 MB of edges at most */
/* The params of all instances together (each instance has its own substituted copy): at the
 * instance cap, 10 nodes each; 1M instances of 6-node params take about 1.5 GB. */
#define MAX_PARAM_NODES 10000000
#define MAX_PARAM_BYTES (512u << 20)

/* A resolved `needs` entry of a stage: either a whole stage or one instance. */
typedef struct Need {
    const YNode *at;  /* the entry, for messages */
    size_t stage;     /* the stage needed */
    long instance;    /* a single instance, or -1 for the whole stage (joined on shared matrix keys) */
} Need;

typedef struct Builder {
    Dag *dag;
    const Spec *spec;
    Err *err;
    size_t *first, *count; /* instances of each stage: [first, first + count) */
    Need **needs;          /* per stage */
    size_t *n_needs;
    size_t n_edges;        /* dependencies between instances so far, counted before they are made */
    SubstBudget params;    /* the instances' params: their copies and what the matrix pass makes */
    const char *only;      /* --only: validate only what it selects, once the graph is built (NULL: all, at once) */
} Builder;

static int oom(Builder *b) { return err_set(b->err, "%s: out of memory", b->spec->file); }

static int push_index(size_t **array, size_t *len, size_t *cap, size_t value) {
    if (*len == *cap) {
        size_t cap2 = *cap ? *cap * 2 : 4;
        size_t *p = realloc(*array, cap2 * sizeof *p);
        if (!p) return -1;
        *array = p, *cap = cap2;
    }
    (*array)[(*len)++] = value;
    return 0;
}

/* No edge is added twice: needs name distinct stages or distinct instances (resolve_needs refuses a
 * stage together with one of its own instances). */
static int add_edge(Builder *b, size_t user, size_t dep) {
    Instance *u = &b->dag->inst[user], *d = &b->dag->inst[dep];
    if (push_index(&u->deps, &u->n_deps, &u->cap_deps, dep) || push_index(&d->users, &d->n_users, &d->cap_users, user))
        return oom(b);
    return 0;
}

/* ---- expansion ---- */

static int count_instances(Builder *b) {
    size_t total = 0;
    for (size_t s = 0; s < b->spec->n_stages; s++) {
        const StageSpec *st = &b->spec->stages[s];
        size_t c = 1;
        for (size_t k = 0; st->matrix && k < st->matrix->len; k++) {
            c *= st->matrix->pairs[k].value->len;
            if (c > MAX_INSTANCES)
                return ynode_err(b->err, b->spec->file, st->matrix, "stage '%s': the matrix expands to more than %d instances",
                                 st->name, MAX_INSTANCES);
        }
        size_t nodes, bytes;
        ynode_measure(st->params, &nodes, &bytes);
        SubstBudget *p = &b->params;
        const YNode *at = st->matrix ? st->matrix : st->key;
        if (nodes > (p->max_nodes - p->nodes) / c)
            return ynode_err(b->err, b->spec->file, at, "stage '%s': %zu instances of %zu-node params bring the params of all "
                             "instances over the limit of %zu nodes", st->name, c, nodes, p->max_nodes);
        if (bytes > (p->max_bytes - p->bytes) / c)
            return ynode_err(b->err, b->spec->file, at, "stage '%s': %zu instances of params of %zu bytes bring the params of all "
                             "instances over the limit of %zu MiB", st->name, c, bytes, p->max_bytes >> 20);
        p->nodes += c * nodes;
        p->bytes += c * bytes;
        b->first[s] = total;
        b->count[s] = c;
        total += c;
        if (total > MAX_INSTANCES)
            return ynode_err(b->err, b->spec->file, st->key, "more than %d stage instances in total", MAX_INSTANCES);
    }
    b->dag->inst = calloc(total ? total : 1, sizeof *b->dag->inst);
    if (!b->dag->inst) return oom(b);
    return 0;
}

/* The instance's stage type checks its params. */
static int validate_instance(Builder *b, const Instance *in) {
    const StageSpec *st = &b->spec->stages[in->stage];
    const StageType *type = stage_type_find(st->type);
    StageCheck check = {.file = b->spec->file, .stage = in->name, .at = st->key, .params = in->params};
    return type->validate(&check, b->err);
}

/* Instance c of stage s: matrix values picked by the mixed-radix digits of c (last key fastest). */
static int make_instance(Builder *b, size_t s, size_t c, Instance *in) {
    const StageSpec *st = &b->spec->stages[s];
    StrBuf name = {0};
    sb_append(&name, st->name);
    in->stage = s;
    in->threads = st->threads;
    if (st->matrix) {
        in->bindings = ynode_new(YNODE_MAP, st->matrix->line, st->matrix->col);
        if (!in->bindings) return oom(b);
        size_t rest = c, stride = b->count[s];
        for (size_t k = 0; k < st->matrix->len; k++) {
            const YNode *values = st->matrix->pairs[k].value;
            stride /= values->len;
            const YNode *v = values->items[rest / stride];
            rest %= stride;
            sb_printf(&name, "%s%s=%s", k ? "," : "@", st->matrix->pairs[k].key->str, v->str);
            YNode *key = ynode_copy(st->matrix->pairs[k].key), *value = ynode_copy(v);
            if (!key || !value || ynode_put(in->bindings, key, value)) {
                ynode_free(key);
                ynode_free(value);
                sb_free(&name);
                return oom(b);
            }
        }
    }
    in->name = sb_take(&name);
    in->params = ynode_copy(st->params);
    if (!in->name || !in->params) return oom(b);
    char owner[300];
    snprintf(owner, sizeof owner, "stage '%s'", st->name);
    SubstScope scope = {.values = in->bindings, .visible = in->bindings ? in->bindings->len : 0, .matrix = 1,
                        .unescape = 1, .owner = owner, .budget = &b->params};
    if (subst_tree(&in->params, &scope, b->spec->file, b->err)) return -1;
    return b->only ? 0 : validate_instance(b, in);
}

static int expand_all(Builder *b) {
    if (count_instances(b)) return -1;
    for (size_t s = 0; s < b->spec->n_stages; s++)
        for (size_t c = 0; c < b->count[s]; c++) {
            Instance *in = &b->dag->inst[b->first[s] + c];
            b->dag->n++; /* counted before filling so that dag_free releases partial instances */
            if (make_instance(b, s, c, in)) return -1;
            if (strmap_put(&b->dag->by_name, in->name, b->first[s] + c)) return oom(b);
        }
    return 0;
}

/* ---- needs ---- */

static int resolve_needs(Builder *b) {
    const Spec *spec = b->spec;
    const char *names[4096];
    size_t n_names = 0;
    for (size_t s = 0; s < spec->n_stages && n_names < 4096; s++) names[n_names++] = spec->stages[s].name;
    for (size_t s = 0; s < spec->n_stages; s++) {
        const StageSpec *st = &spec->stages[s];
        const YNode *bad;
        size_t n = ynode_string_list(st->needs, &bad);
        if (!n) continue;
        b->needs[s] = calloc(n, sizeof *b->needs[s]);
        if (!b->needs[s]) return oom(b);
        for (size_t i = 0; i < n; i++) {
            const YNode *e = ynode_string_at(st->needs, i);
            Need need = {.at = e, .instance = -1};
            size_t idx;
            if (strmap_get(&spec->stage_index, e->str, &idx)) {
                need.stage = idx;
            } else if (strmap_get(&b->dag->by_name, e->str, &idx)) {
                need.stage = b->dag->inst[idx].stage;
                need.instance = (long)idx;
            } else {
                char hint[160];
                return ynode_err(b->err, spec->file, e, "stage '%s' needs unknown stage '%s'%s", st->name, e->str,
                                 suggest_hint(hint, sizeof hint, e->str, names, n_names));
            }
            for (size_t j = 0; j < b->n_needs[s]; j++) {
                const Need *other = &b->needs[s][j];
                if (!strcmp(other->at->str, e->str))
                    return ynode_err(b->err, spec->file, e, "stage '%s' needs '%s' twice", st->name, e->str);
                if (other->stage == need.stage && (other->instance < 0 || need.instance < 0))
                    return ynode_err(b->err, spec->file, e, "stage '%s' needs both '%s' and '%s'", st->name,
                                     other->at->str, e->str);
            }
            b->needs[s][b->n_needs[s]++] = need;
        }
    }
    return 0;
}

/* Stage-level cycle check (instance edges only ever join stage edges, so this is enough). */
static int find_cycle(Builder *b) {
    const Spec *spec = b->spec;
    size_t n = spec->n_stages;
    unsigned char *color = calloc(n, 1); /* 0 white, 1 on the stack, 2 done */
    size_t *stack = malloc(n * sizeof *stack), *next = calloc(n, sizeof *next);
    int rc = 0;
    if (!color || !stack || !next) rc = oom(b);
    for (size_t root = 0; root < n && !rc; root++) {
        if (color[root]) continue;
        size_t depth = 0;
        stack[depth++] = root;
        color[root] = 1;
        while (depth && !rc) {
            size_t u = stack[depth - 1];
            if (next[u] == b->n_needs[u]) {
                color[u] = 2;
                depth--;
                continue;
            }
            const Need *need = &b->needs[u][next[u]++];
            size_t v = need->stage;
            if (color[v] == 2) continue;
            if (color[v] == 0) {
                color[v] = 1;
                stack[depth++] = v;
                continue;
            }
            /* v is on the stack: the cycle is stack[pos..] then v again */
            size_t pos = 0;
            while (stack[pos] != v) pos++;
            StrBuf path = {0};
            for (size_t i = pos; i < depth; i++) sb_printf(&path, "%s -> ", spec->stages[stack[i]].name);
            sb_append(&path, spec->stages[v].name);
            const Need *first = &b->needs[v][next[v] - 1];
            rc = ynode_err(b->err, spec->file, first->at, "stages form a cycle: %s", sb_str(&path));
            sb_free(&path);
        }
    }
    free(color);
    free(stack);
    free(next);
    return rc;
}

/* "v1\x1fv2…": the values of `keys` (names from the user stage's matrix) in an instance's bindings. */
static char *tuple_of(const Instance *in, const char *const *keys, size_t n) {
    StrBuf sb = {0};
    for (size_t k = 0; k < n; k++) {
        if (k) sb_append_char(&sb, '\x1f');
        sb_append(&sb, ynode_get(in->bindings, keys[k])->str);
    }
    return sb_take(&sb);
}

/* Accounts for the `count` edges a need is about to add; refused when they would bring the total
 * over MAX_EDGES, before anything is allocated for them. */
static int charge_edges(Builder *b, size_t user_stage, const Need *need, size_t count) {
    if (count <= MAX_EDGES - b->n_edges) {
        b->n_edges += count;
        return 0;
    }
    return ynode_err(b->err, b->spec->file, need->at,
                     "stage '%s' needs '%s': %zu dependencies between their instances, over the limit of %d in total "
                     "(a matrix key that both stages share joins their instances one to one)",
                     b->spec->stages[user_stage].name, need->at->str, count, MAX_EDGES);
}

/* Edges for `user stage needs whole stage`: join on shared matrix keys. */
static int join_stage(Builder *b, size_t user_stage, const Need *need) {
    const StageSpec *us = &b->spec->stages[user_stage], *ds = &b->spec->stages[need->stage];
    const char *shared[64];
    size_t n_shared = 0;
    for (size_t k = 0; us->matrix && ds->matrix && k < us->matrix->len && n_shared < 64; k++)
        if (ynode_get(ds->matrix, us->matrix->pairs[k].key->str)) shared[n_shared++] = us->matrix->pairs[k].key->str;
    size_t uf = b->first[user_stage], un = b->count[user_stage], df = b->first[need->stage], dn = b->count[need->stage];
    if (!n_shared) {
        if (charge_edges(b, user_stage, need, un * dn)) return -1;
        for (size_t u = uf; u < uf + un; u++)
            for (size_t d = df; d < df + dn; d++)
                if (add_edge(b, u, d)) return -1;
        return 0;
    }
    /* instances of the needed stage by tuple: heads[tuple] is the last one, chain[i] the one before
     * i with the same tuple, length[i] how many from i down the chain */
    StrMap heads = {0};
    char **tuples = calloc(dn, sizeof *tuples);
    size_t *chain = malloc(dn * sizeof *chain), *length = malloc(dn * sizeof *length), *user_head = malloc(un * sizeof *user_head);
    int rc = 0;
    if (!tuples || !chain || !length || !user_head) rc = oom(b);
    for (size_t i = 0; i < dn && !rc; i++) {
        tuples[i] = tuple_of(&b->dag->inst[df + i], shared, n_shared);
        size_t head;
        chain[i] = strmap_get(&heads, tuples[i], &head) ? head : (size_t)-1;
        length[i] = 1 + (chain[i] == (size_t)-1 ? 0 : length[chain[i]]);
        if (!tuples[i] || strmap_put(&heads, tuples[i], i)) rc = oom(b);
    }
    size_t count = 0;
    for (size_t u = 0; u < un && !rc; u++) {
        char *t = tuple_of(&b->dag->inst[uf + u], shared, n_shared);
        if (!t) rc = oom(b);
        else if (!strmap_get(&heads, t, &user_head[u])) {
            const char *at = strchr(b->dag->inst[uf + u].name, '@');
            rc = ynode_err(b->err, b->spec->file, need->at, "'%s' needs '%s', but no instance of '%s' has %s",
                           b->dag->inst[uf + u].name, ds->name, ds->name, at ? at + 1 : "");
        } else {
            count += length[user_head[u]];
        }
        free(t);
    }
    if (!rc) rc = charge_edges(b, user_stage, need, count);
    for (size_t u = 0; u < un && !rc; u++)
        for (size_t i = user_head[u]; i != (size_t)-1 && !rc; i = chain[i]) rc = add_edge(b, uf + u, df + i);
    for (size_t i = 0; tuples && i < dn; i++) free(tuples[i]);
    free(tuples);
    free(chain);
    free(length);
    free(user_head);
    strmap_free(&heads);
    return rc;
}

static int build_edges(Builder *b) {
    for (size_t s = 0; s < b->spec->n_stages; s++)
        for (size_t j = 0; j < b->n_needs[s]; j++) {
            const Need *need = &b->needs[s][j];
            if (need->instance < 0) {
                if (join_stage(b, s, need)) return -1;
                continue;
            }
            if (charge_edges(b, s, need, b->count[s])) return -1;
            for (size_t u = b->first[s]; u < b->first[s] + b->count[s]; u++)
                if (add_edge(b, u, (size_t)need->instance)) return -1;
        }
    return 0;
}

static int topological_order(Builder *b) {
    Dag *dag = b->dag;
    size_t *indegree = calloc(dag->n ? dag->n : 1, sizeof *indegree);
    dag->order = malloc((dag->n ? dag->n : 1) * sizeof *dag->order);
    if (!indegree || !dag->order) {
        free(indegree);
        return oom(b);
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < dag->n; i++) {
        indegree[i] = dag->inst[i].n_deps;
        if (!indegree[i]) dag->order[tail++] = i;
    }
    while (head < tail) {
        const Instance *in = &dag->inst[dag->order[head++]];
        for (size_t k = 0; k < in->n_users; k++)
            if (--indegree[in->users[k]] == 0) dag->order[tail++] = in->users[k];
    }
    free(indegree);
    if (tail != dag->n) return err_set(b->err, "%s: internal error: instance graph has a cycle", b->spec->file);
    return 0;
}

/* --only: the selected instances validated, in file order. */
static int validate_selected(Builder *b) {
    unsigned char *selected = malloc(b->dag->n + 1);
    if (!selected) return oom(b);
    int rc = dag_select(b->dag, b->only, selected, b->err);
    for (size_t i = 0; !rc && i < b->dag->n; i++)
        if (selected[i]) rc = validate_instance(b, &b->dag->inst[i]);
    free(selected);
    return rc;
}

int dag_build(const Spec *spec, Dag *dag, Err *err) { return dag_build_only(spec, NULL, dag, err); }

int dag_build_only(const Spec *spec, const char *only, Dag *dag, Err *err) {
    memset(dag, 0, sizeof *dag);
    dag->spec = spec;
    size_t ns = spec->n_stages;
    Builder b = {.dag = dag, .spec = spec, .err = err, .params = {.max_bytes = MAX_PARAM_BYTES, .max_nodes = MAX_PARAM_NODES},
                 .only = only};
    b.first = calloc(ns, sizeof *b.first);
    b.count = calloc(ns, sizeof *b.count);
    b.needs = calloc(ns, sizeof *b.needs);
    b.n_needs = calloc(ns, sizeof *b.n_needs);
    int rc = (!b.first || !b.count || !b.needs || !b.n_needs) ? oom(&b) : 0;
    if (!rc) rc = expand_all(&b);
    if (!rc) rc = resolve_needs(&b);
    if (!rc) rc = find_cycle(&b);
    if (!rc) rc = build_edges(&b);
    if (!rc) rc = topological_order(&b);
    if (!rc && only) rc = validate_selected(&b);
    for (size_t s = 0; b.needs && s < ns; s++) free(b.needs[s]);
    free(b.first);
    free(b.count);
    free(b.needs);
    free(b.n_needs);
    if (rc) dag_free(dag);
    return rc;
}

void dag_free(Dag *dag) {
    for (size_t i = 0; i < dag->n; i++) {
        Instance *in = &dag->inst[i];
        free(in->name);
        ynode_free(in->params);
        ynode_free(in->bindings);
        free(in->deps);
        free(in->users);
    }
    free(dag->inst);
    free(dag->order);
    strmap_free(&dag->by_name);
    memset(dag, 0, sizeof *dag);
}

int dag_walk(const Dag *dag, size_t start, int downstream, int (*visit)(void *ctx, size_t i), void *ctx) {
    size_t *stack = malloc((dag->n ? dag->n : 1) * sizeof *stack), depth = 0;
    if (!stack) return -1;
    stack[depth++] = start;
    while (depth) {
        const Instance *in = &dag->inst[stack[--depth]];
        size_t n = downstream ? in->n_users : in->n_deps;
        const size_t *next = downstream ? in->users : in->deps;
        for (size_t k = 0; k < n; k++)
            if (visit(ctx, next[k])) stack[depth++] = next[k];
    }
    free(stack);
    return 0;
}

static int select_once(void *ctx, size_t i) {
    unsigned char *selected = ctx;
    if (selected[i]) return 0;
    return selected[i] = 1;
}

int dag_select(const Dag *dag, const char *pattern, unsigned char *selected, Err *err) {
    Regex *re = regex_compile(pattern, "--only", err);
    if (!re) return -1;
    memset(selected, 0, dag->n);
    size_t matched = 0;
    int rc = 0;
    for (size_t i = 0; i < dag->n && !rc; i++) {
        if (!regex_matches(re, dag->inst[i].name)) continue;
        matched++;
        if (!selected[i]) selected[i] = 1, rc = dag_walk(dag, i, 0, select_once, selected);
    }
    regex_free(re);
    if (rc) return err_set(err, "out of memory");
    if (!matched) return err_set(err, "--only '%s' matches no stage of %s", pattern, dag->spec->file);
    return 0;
}
