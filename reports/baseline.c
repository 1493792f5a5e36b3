/* reports/baseline.c — baseline files: parse, write, take from a run, compare (see baseline.h). */
#include "reports/baseline.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ynode.h"
#include "util/atomic_file.h"
#include "util/fs.h"
#include "util/strbuf.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))

void baseline_free(Baseline *b) {
    for (size_t i = 0; i < b->n; i++) {
        BaselineEntry *e = &b->entries[i];
        free(e->method), free(e->subnet), free(e->platform), free(e->mapping), free(e->counter);
    }
    free(b->entries);
    free(b->experiment);
    memset(b, 0, sizeof *b);
}

static BaselineEntry *add_entry(Baseline *b) {
    BaselineEntry *p = realloc(b->entries, (b->n + 1) * sizeof *p);
    if (!p) return NULL;
    b->entries = p;
    memset(&p[b->n], 0, sizeof *p);
    return &p[b->n++];
}

/* ---- parsing ---- */

static int number(const YNode *n, const char *file, const char *what, double min, double max, double *out, Err *err) {
    if (n->kind != YNODE_SCALAR) return ynode_err(err, file, n, "%s must be a number, not %s", what, ynode_kind_name(n->kind));
    char *end;
    errno = 0;
    double v = strtod(n->str, &end);
    if (!n->str[0] || *end || errno || isnan(v)) return ynode_err(err, file, n, "%s: '%s' is not a number", what, n->str);
    if (v < min || v > max) return ynode_err(err, file, n, "%s: %g is out of range [%g, %g]", what, v, min, max);
    *out = v;
    return 0;
}

static int string(const YNode *map, const char *key, const char *file, const char *what, char **out, Err *err) {
    const YNode *n = ynode_get(map, key);
    if (!n) return ynode_err(err, file, map, "%s is missing '%s'", what, key);
    if (n->kind != YNODE_SCALAR || !n->str[0])
        return ynode_err(err, file, n, "%s: '%s' must be a non-empty string", what, key);
    if (!(*out = strdup(n->str))) return err_set(err, "out of memory");
    return 0;
}

static int parse_entries(const YNode *list, BaselineKind kind, const char *file, Baseline *b, Err *err) {
    static const char *const acc_keys[] = {"method", "subnet", "accuracy"};
    static const char *const lat_keys[] = {"method", "platform", "batch", "mapping", "frequency_khz", "subnet", "ratio"};
    static const char *const ins_keys[] = {"method", "platform", "batch", "counter", "subnet", "instructions"};
    const char *section = kind == BASE_ACCURACY ? "'accuracy'" : kind == BASE_LATENCY ? "'latency'" : "'instructions'";
    const char *const *keys = kind == BASE_ACCURACY ? acc_keys : kind == BASE_LATENCY ? lat_keys : ins_keys;
    size_t n_keys = kind == BASE_ACCURACY ? COUNT(acc_keys) : kind == BASE_LATENCY ? COUNT(lat_keys) : COUNT(ins_keys);
    if (ynode_expect(list, YNODE_SEQ, file, section, err)) return -1;
    for (size_t i = 0; i < list->len; i++) {
        const YNode *m = list->items[i];
        char what[96];
        snprintf(what, sizeof what, "%s entry %zu", section, i + 1);
        if (ynode_expect(m, YNODE_MAP, file, what, err)) return -1;
        if (ynode_check_keys(m, keys, n_keys, file, what, err)) return -1;
        BaselineEntry *e = add_entry(b);
        if (!e) return err_set(err, "out of memory");
        e->kind = kind;
        if (string(m, "method", file, what, &e->method, err) || string(m, "subnet", file, what, &e->subnet, err)) return -1;
        const char *value_key = kind == BASE_ACCURACY ? "accuracy" : kind == BASE_LATENCY ? "ratio" : "instructions";
        const YNode *v = ynode_get(m, value_key);
        if (!v) return ynode_err(err, file, m, "%s is missing '%s'", what, value_key);
        if (number(v, file, value_key, kind == BASE_INSTRUCTIONS ? 1 : 0, kind == BASE_ACCURACY ? 1 : 1e18, &e->value, err)) return -1;
        if (kind == BASE_ACCURACY) continue;
        if (string(m, "platform", file, what, &e->platform, err)) return -1;
        if (kind == BASE_INSTRUCTIONS ? string(m, "counter", file, what, &e->counter, err)
                                      : string(m, "mapping", file, what, &e->mapping, err))
            return -1;
        long long batch = 0, freq = 0;
        const YNode *n = ynode_get(m, "batch");
        if (!n) return ynode_err(err, file, m, "%s is missing 'batch'", what);
        if (ynode_int(n, 0, 1 << 24, file, "batch", &batch, err)) return -1;
        if ((n = ynode_get(m, "frequency_khz")) && ynode_int(n, 0, 1000000000LL, file, "frequency_khz", &freq, err)) return -1;
        e->batch = (int)batch;
        e->frequency_khz = freq;
    }
    return 0;
}

int baseline_parse(const char *text, size_t len, const char *name, Baseline *b, Err *err) {
    static const char *const top_keys[] = {"format", "version", "experiment", "tolerance", "accuracy", "latency", "instructions"};
    static const char *const tol_keys[] = {"accuracy_points", "latency_ratio", "instructions"};
    memset(b, 0, sizeof *b);
    b->accuracy_points = BASELINE_ACCURACY_POINTS;
    b->latency_ratio = BASELINE_LATENCY_RATIO;
    b->instructions = BASELINE_INSTRUCTIONS;
    YNode *root;
    if (ynode_parse(text, len, name, &root, err)) return -1;
    int rc = ynode_expect(root, YNODE_MAP, name, "a baseline file", err);
    if (!rc) rc = ynode_check_keys(root, top_keys, COUNT(top_keys), name, "the baseline file", err);
    const YNode *n;
    if (!rc) {
        n = ynode_get(root, "format");
        if (!n || n->kind != YNODE_SCALAR || strcmp(n->str, "dynn-baseline"))
            rc = ynode_err(err, name, n ? n : root, "not a dynn baseline: 'format: dynn-baseline' expected (write one with "
                                                    "`dynn check RUN --update --baseline FILE`)");
    }
    if (!rc) {
        n = ynode_get(root, "version");
        if (!n || n->kind != YNODE_SCALAR || (strcmp(n->str, "1") && strcmp(n->str, "2")))
            rc = ynode_err(err, name, n ? n : root, "baseline 'version' must be 1 or 2 (2 adds experiment and instructions)");
    }
    if (!rc && (n = ynode_get(root, "experiment"))) {
        if (n->kind != YNODE_SCALAR || !n->str[0]) rc = ynode_err(err, name, n, "'experiment' must be a non-empty string");
        else if (!(b->experiment = strdup(n->str))) rc = err_set(err, "out of memory");
    }
    if (!rc && (n = ynode_get(root, "tolerance"))) {
        rc = ynode_expect(n, YNODE_MAP, name, "'tolerance'", err) || ynode_check_keys(n, tol_keys, COUNT(tol_keys), name, "'tolerance'", err);
        const YNode *t;
        if (!rc && (t = ynode_get(n, "accuracy_points"))) rc = number(t, name, "accuracy_points", 0, 100, &b->accuracy_points, err);
        if (!rc && (t = ynode_get(n, "latency_ratio"))) rc = number(t, name, "latency_ratio", 0, 1e6, &b->latency_ratio, err);
        if (!rc && (t = ynode_get(n, "instructions"))) rc = number(t, name, "instructions", 0, 1e6, &b->instructions, err);
    }
    if (!rc && (n = ynode_get(root, "accuracy"))) rc = parse_entries(n, BASE_ACCURACY, name, b, err);
    if (!rc && (n = ynode_get(root, "latency"))) rc = parse_entries(n, BASE_LATENCY, name, b, err);
    if (!rc && (n = ynode_get(root, "instructions"))) rc = parse_entries(n, BASE_INSTRUCTIONS, name, b, err);
    if (!rc && !b->n) rc = ynode_err(err, name, root, "the baseline has no 'accuracy', 'latency' or 'instructions' entries");
    ynode_free(root);
    if (rc) baseline_free(b);
    return rc ? -1 : 0;
}

int baseline_load(const char *path, Baseline *b, Err *err) {
    char *text;
    size_t len;
    if (fs_read_file(path, &text, &len, err)) return -1;
    int rc = baseline_parse(text, len, path, b, err);
    free(text);
    return rc;
}

/* ---- writing ---- */

static void quoted(StrBuf *sb, const char *s) {
    sb_append_char(sb, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sb_append_char(sb, '\\');
        sb_append_char(sb, *s);
    }
    sb_append_char(sb, '"');
}

int baseline_write(const char *path, const Baseline *b, Err *err) {
    StrBuf sb = {0};
    sb_printf(&sb, "# dynn regression baseline (docs/FORMATS.md, \"Regression baseline\"); `dynn check RUN --baseline FILE`\n"
                   "format: dynn-baseline\nversion: 2\n");
    if (b->experiment) {
        sb_append(&sb, "experiment: ");
        quoted(&sb, b->experiment);
        sb_append(&sb, "   # a run of another experiment is refused\n");
    }
    sb_printf(&sb, "tolerance:\n  accuracy_points: %.6g   # allowed accuracy drop, percentage points\n"
                   "  latency_ratio: %.6g     # allowed relative increase of a latency ratio\n"
                   "  instructions: %.6g      # allowed relative increase of the instructions of a forward pass\n",
              b->accuracy_points, b->latency_ratio, b->instructions);
    for (int kind = BASE_ACCURACY; kind <= BASE_INSTRUCTIONS; kind++) {
        int header = 0;
        for (size_t i = 0; i < b->n; i++) {
            const BaselineEntry *e = &b->entries[i];
            if ((int)e->kind != kind) continue;
            if (!header++)
                sb_append(&sb, kind == BASE_ACCURACY  ? "accuracy:                # top-1, fraction 0..1\n"
                               : kind == BASE_LATENCY ? "latency:                 # median latency / the largest subnet's, same "
                                                        "platform, batch, mapping, frequency\n"
                                                      : "instructions:            # of one forward pass of `batch` images, "
                                                        "counted by `counter` (callgrind, one thread)\n");
            sb_append(&sb, "  - {method: ");
            quoted(&sb, e->method);
            if (kind == BASE_INSTRUCTIONS) {
                sb_append(&sb, ", platform: ");
                quoted(&sb, e->platform);
                sb_printf(&sb, ", batch: %d, counter: ", e->batch);
                quoted(&sb, e->counter);
            }
            if (kind == BASE_LATENCY) {
                sb_append(&sb, ", platform: ");
                quoted(&sb, e->platform);
                sb_printf(&sb, ", batch: %d, mapping: ", e->batch);
                quoted(&sb, e->mapping);
                sb_printf(&sb, ", frequency_khz: %lld", e->frequency_khz);
            }
            sb_append(&sb, ", subnet: ");
            quoted(&sb, e->subnet);
            if (kind == BASE_INSTRUCTIONS) sb_printf(&sb, ", instructions: %.0f}\n", e->value);
            else sb_printf(&sb, ", %s: %.6g}\n", kind == BASE_ACCURACY ? "accuracy" : "ratio", e->value);
        }
    }
    int rc = sb.oom ? err_set(err, "out of memory") : atomic_write_file(path, sb.data, sb.len, err);
    sb_free(&sb);
    return rc;
}

/* ---- from a run ---- */

static int put(Baseline *b, BaselineKind kind, const char *method, const char *subnet, const AggGroup *g, const AggPoint *p,
               double value) {
    BaselineEntry *e = add_entry(b);
    if (!e) return -1;
    e->kind = kind;
    e->value = value;
    e->method = strdup(method);
    e->subnet = strdup(subnet);
    if (!e->method || !e->subnet) return -1;
    if (kind == BASE_ACCURACY) return 0;
    e->platform = strdup(g->platform);
    e->mapping = strdup(p->mapping);
    e->batch = g->batch;
    e->frequency_khz = p->frequency_khz;
    return e->platform && e->mapping ? 0 : -1;
}

/* A counted measurement as an instructions entry. */
static int put_instructions(Baseline *b, const RunData *d, const RdMeasurement *m) {
    BaselineEntry *e = add_entry(b);
    if (!e) return -1;
    e->kind = BASE_INSTRUCTIONS;
    e->value = (double)m->instructions;
    e->batch = m->batch;
    e->method = strdup(agg_model_name(d, m->model));
    e->subnet = strdup(m->subnet);
    e->platform = strdup(m->platform ? m->platform : "");
    e->counter = strdup(cond_get(&m->cond, COND_COUNTER));
    return e->method && e->subnet && e->platform && e->counter ? 0 : -1;
}

int baseline_from_run(const RunData *d, const Aggregate *a, const Baseline *tol, Baseline *out, Err *err) {
    memset(out, 0, sizeof *out);
    out->accuracy_points = tol ? tol->accuracy_points : BASELINE_ACCURACY_POINTS;
    out->latency_ratio = tol ? tol->latency_ratio : BASELINE_LATENCY_RATIO;
    out->instructions = tol ? tol->instructions : BASELINE_INSTRUCTIONS;
    int rc = d->experiment && !(out->experiment = strdup(d->experiment)) ? -1 : 0;
    for (size_t i = 0; i < d->n_models && !rc; i++)
        for (size_t k = 0; k < d->models[i].n_subnets && !rc; k++) {
            const RdSubnet *s = &d->models[i].subnets[k];
            if (!isnan(s->accuracy)) rc = put(out, BASE_ACCURACY, agg_model_name(d, (long)i), s->name, NULL, NULL, s->accuracy);
        }
    for (size_t gi = 0; gi < a->n_groups && !rc; gi++) {
        const AggGroup *g = &a->groups[gi];
        if (g->model < 0) continue;
        for (size_t i = 0; i < g->n_points && !rc; i++) {
            const AggPoint *p = &g->points[i], *ref = NULL;
            for (size_t k = 0; k < g->n_points; k++) {
                const AggPoint *q = &g->points[k];
                if (strcmp(q->mapping, p->mapping) || q->frequency_khz != p->frequency_khz || isnan(q->p50_s)) continue;
                if (!ref || q->subnet_index > ref->subnet_index) ref = q;
            }
            if (ref && ref->p50_s > 0 && !isnan(p->p50_s))
                rc = put(out, BASE_LATENCY, agg_model_name(d, g->model), p->m->subnet, g, p, p->p50_s / ref->p50_s);
        }
    }
    for (size_t i = 0; i < d->n_meas && !rc; i++) /* counted points (the aggregate leaves them out) */
        if (cond_get(&d->meas[i].cond, COND_COUNTER) && d->meas[i].instructions > 0) rc = put_instructions(out, d, &d->meas[i]);
    if (rc) {
        baseline_free(out);
        return err_set(err, "out of memory");
    }
    return 0;
}

/* ---- comparing ---- */

static int same_entry(const BaselineEntry *x, const BaselineEntry *y) {
    if (x->kind != y->kind || strcmp(x->method, y->method) || strcmp(x->subnet, y->subnet)) return 0;
    if (x->kind == BASE_ACCURACY) return 1;
    if (x->kind == BASE_INSTRUCTIONS)
        return !strcmp(x->platform, y->platform) && !strcmp(x->counter, y->counter) && x->batch == y->batch;
    return !strcmp(x->platform, y->platform) && !strcmp(x->mapping, y->mapping) && x->batch == y->batch &&
           x->frequency_khz == y->frequency_khz;
}

const char *check_status_name(CheckStatus s) {
    static const char *const names[] = {"ok", "REGRESSION", "MISSING", "new", "FLAGGED (interference)"};
    return names[s];
}

void baseline_entry_where(const BaselineEntry *e, char *out, size_t size) {
    if (e->kind == BASE_ACCURACY) snprintf(out, size, "%s", e->method);
    else if (e->kind == BASE_INSTRUCTIONS) snprintf(out, size, "%s/%s/b%d/%s", e->method, e->platform, e->batch, e->counter);
    else if (e->frequency_khz > 0)
        snprintf(out, size, "%s/%s/b%d/%s/%lldMHz", e->method, e->platform, e->batch, e->mapping, e->frequency_khz / 1000);
    else snprintf(out, size, "%s/%s/b%d/%s", e->method, e->platform, e->batch, e->mapping);
}

int baseline_compare(const Baseline *base, const Baseline *cur, CheckResult *out, Err *err) {
    memset(out, 0, sizeof *out);
    out->rows = calloc(base->n + cur->n + 1, sizeof *out->rows);
    if (!out->rows) return err_set(err, "out of memory");
    for (size_t i = 0; i < base->n; i++) {
        const BaselineEntry *b = &base->entries[i], *c = NULL;
        for (size_t k = 0; k < cur->n && !c; k++)
            if (same_entry(b, &cur->entries[k])) c = &cur->entries[k];
        CheckRow *r = &out->rows[out->n++];
        *r = (CheckRow){.base = b, .cur = c, .change = NAN, .status = CHECK_MISSING};
        if (c && b->kind == BASE_ACCURACY) {
            r->change = (c->value - b->value) * 100;
            r->status = r->change < -base->accuracy_points - 1e-9 ? CHECK_REGRESSION : CHECK_OK;
        } else if (c) {
            r->change = b->value > 0 ? c->value / b->value - 1 : 0;
            double allowed = b->kind == BASE_LATENCY ? base->latency_ratio : base->instructions;
            r->status = r->change > allowed + 1e-9 ? CHECK_REGRESSION : CHECK_OK;
        }
        if (r->status != CHECK_OK) out->regressions++;
    }
    for (size_t k = 0; k < cur->n; k++) {
        int known = 0;
        for (size_t i = 0; i < base->n && !known; i++) known = same_entry(&base->entries[i], &cur->entries[k]);
        if (!known) out->rows[out->n++] = (CheckRow){.cur = &cur->entries[k], .change = NAN, .status = CHECK_NEW};
    }
    return 0;
}

void baseline_mark_flagged(CheckResult *r, const RunData *d, const Aggregate *a) {
    for (size_t i = 0; i < r->n; i++) {
        CheckRow *x = &r->rows[i];
        if (x->status != CHECK_MISSING || !x->base || x->base->kind != BASE_LATENCY) continue;
        const BaselineEntry *b = x->base;
        for (size_t k = 0; k < a->n_flagged; k++) {
            const RdMeasurement *m = a->flagged[k];
            char mapping[96];
            agg_mapping_label(m, mapping, sizeof mapping);
            if (strcmp(agg_model_name(d, m->model), b->method) || strcmp(m->platform, b->platform) || m->batch != b->batch ||
                strcmp(mapping, b->mapping) || m->frequency_khz != b->frequency_khz)
                continue;
            x->status = CHECK_FLAGGED;
            r->regressions--;
            r->flagged++;
            break;
        }
    }
}

/* The first counter named by an instructions entry of b, or NULL. */
static const char *first_counter(const Baseline *b, const char *other_than) {
    for (size_t i = 0; i < b->n; i++)
        if (b->entries[i].kind == BASE_INSTRUCTIONS && (!other_than || strcmp(b->entries[i].counter, other_than)))
            return b->entries[i].counter;
    return NULL;
}

int baseline_comparable(const Baseline *base, const Baseline *cur, const char *run_experiment, Err *err) {
    if (base->experiment && run_experiment && strcmp(base->experiment, run_experiment))
        return err_set(err, "the run is of experiment '%s', the baseline's numbers are of '%s': run that experiment (its file "
                            "names it) and check that run, or write a baseline of this one with --update --baseline NEW.yaml",
                       run_experiment, base->experiment);
    const char *want = first_counter(base, NULL);
    if (!want) return 0;
    for (size_t i = 0; i < cur->n; i++)
        if (cur->entries[i].kind == BASE_INSTRUCTIONS && !strcmp(cur->entries[i].counter, want)) return 0;
    const char *got = first_counter(cur, want);
    if (got)
        return err_set(err, "the run's instructions were counted by '%s', the baseline's by '%s': counts of different kernel "
                            "sets are not comparable: count with the baseline's build (x86-64-v3: make BUILD=build-v3 "
                            "OPT=\"-O3 -march=x86-64-v3\"), or keep a baseline per kernel set (--update --baseline NEW.yaml)",
                       got, want);
    return 0; /* nothing counted: the baseline's entries are MISSING */
}

void check_result_free(CheckResult *r) {
    free(r->rows);
    memset(r, 0, sizeof *r);
}
