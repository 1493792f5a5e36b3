/* platforms/profile_json.c — reading `dynn profile --json` output (see profile_json.h). JSON is
 * read with the YAML reader (util/ynode.c; JSON is a subset of YAML): scalars keep their text
 * and whether they were quoted, so a number, a string and null stay distinguishable. */
#include "platforms/profile_json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/ynode.h"

static int is_null(const YNode *n) { return n && n->kind == YNODE_SCALAR && !n->quoted && !strcmp(n->str, "null"); }

static int as_number(const YNode *n, double *out) {
    if (!n || n->kind != YNODE_SCALAR || n->quoted || !n->str[0]) return -1;
    char *end;
    errno = 0;
    *out = strtod(n->str, &end);
    return *end || errno == ERANGE ? -1 : 0;
}

/* A required number (or null when nullable: *out = NaN). */
static int get_number(const YNode *obj, const char *key, int nullable, const char *what, size_t i, double *out, Err *err) {
    const YNode *n = ynode_get(obj, key);
    if (nullable && is_null(n)) {
        *out = NAN;
        return 0;
    }
    if (!n) return err_set(err, "%s: result %zu has no '%s'", what, i, key);
    if (as_number(n, out))
        return err_set(err, "%s: result %zu: '%s' must be a number%s, not '%s'", what, i, key, nullable ? " or null" : "",
                       n->kind == YNODE_SCALAR ? n->str : ynode_kind_name(n->kind));
    return 0;
}

static int get_int(const YNode *obj, const char *key, long long min, const char *what, size_t i, long long *out, Err *err) {
    double v = 0;
    if (get_number(obj, key, 0, what, i, &v, err)) return -1;
    if (v != floor(v) || v < (double)min || v > 9.2e18)
        return err_set(err, "%s: result %zu: '%s' must be an integer >= %lld, not %g", what, i, key, min, v);
    *out = (long long)v;
    return 0;
}

static int get_string(const YNode *obj, const char *key, const char *what, size_t i, char **out, Err *err) {
    const YNode *n = ynode_get(obj, key);
    if (!n) return err_set(err, "%s: result %zu has no '%s'", what, i, key);
    if (n->kind != YNODE_SCALAR || is_null(n)) return err_set(err, "%s: result %zu: '%s' must be a string", what, i, key);
    if (!(*out = strdup(n->str))) return err_set(err, "out of memory");
    return 0;
}

static int read_point(const YNode *obj, const char *what, size_t i, ProfilePoint *p, Err *err) {
    long long subnet, batch, threads;
    double freq, rss;
    if (obj->kind != YNODE_MAP) return err_set(err, "%s: result %zu must be an object", what, i);
    if (get_int(obj, "subnet", 0, what, i, &subnet, err) || get_string(obj, "subnet_name", what, i, &p->subnet_name, err) ||
        get_int(obj, "macs", 0, what, i, &p->macs, err) || get_int(obj, "params", 0, what, i, &p->params, err) ||
        get_int(obj, "batch", 1, what, i, &batch, err) || get_string(obj, "cpus", what, i, &p->cpus, err) ||
        get_int(obj, "threads", 1, what, i, &threads, err) || get_number(obj, "freq_khz", 1, what, i, &freq, err) ||
        get_number(obj, "median_ms", 0, what, i, &p->median_ms, err) ||
        get_number(obj, "energy_j", 1, what, i, &p->energy_j, err) ||
        get_number(obj, "avg_power_w", 1, what, i, &p->avg_power_w, err))
        return -1;
    p->subnet = (int)subnet, p->batch = (int)batch, p->threads = (int)threads;
    p->freq_khz = isnan(freq) ? 0 : (long long)freq;
    p->peak_rss_kib = -1;
    const YNode *r = ynode_get(obj, "peak_rss_kib");
    if (r && !is_null(r)) {
        if (as_number(r, &rss) || rss < 0) return err_set(err, "%s: result %zu: 'peak_rss_kib' must be a number", what, i);
        p->peak_rss_kib = (long long)rss;
    }
    const YNode *s = ynode_get(obj, "samples_ms");
    if (!s || s->kind != YNODE_SEQ || !s->len)
        return err_set(err, "%s: result %zu: 'samples_ms' must be a non-empty list of numbers", what, i);
    if (!(p->samples_ms = calloc(s->len, sizeof *p->samples_ms))) return err_set(err, "out of memory");
    for (size_t k = 0; k < s->len; k++)
        if (as_number(s->items[k], &p->samples_ms[k]) || p->samples_ms[k] < 0)
            return err_set(err, "%s: result %zu: samples_ms[%zu] must be a non-negative number", what, i, k);
    p->n_samples = s->len;
    return 0;
}

int profile_json_parse(const char *text, size_t len, const char *what, ProfileReport *out, Err *err) {
    memset(out, 0, sizeof *out);
    size_t start = 0;
    while (start < len && (text[start] == ' ' || text[start] == '\n' || text[start] == '\r' || text[start] == '\t')) start++;
    if (start == len) return err_set(err, "%s: empty (the profiler printed nothing)", what);
    if (text[start] != '{') return err_set(err, "%s: not a JSON object (starts with '%.20s')", what, text + start);
    YNode *root;
    Err why;
    if (ynode_parse(text, len, what, &root, &why)) return err_set(err, "%s: not valid JSON: %s", what, why.msg);
    int rc = -1;
    const YNode *n = ynode_get(root, "format");
    double version;
    if (root->kind != YNODE_MAP || !n || n->kind != YNODE_SCALAR || strcmp(n->str, "dynn-profile")) {
        err_set(err, "%s: not dynn profile output (\"format\" is not \"dynn-profile\")", what);
        goto done;
    }
    if (as_number(ynode_get(root, "version"), &version) || version != 1) {
        err_set(err, "%s: unsupported \"version\" (this dynn reads version 1)", what);
        goto done;
    }
    n = ynode_get(root, "complete");
    out->complete = !(n && n->kind == YNODE_SCALAR && !n->quoted && !strcmp(n->str, "false"));
    if ((n = ynode_get(root, "model_crc32")) && n->kind == YNODE_SCALAR && !(out->model_crc32 = strdup(n->str))) goto oom;
    const YNode *host = ynode_get(root, "host");
    if ((n = ynode_get(host, "arch")) && n->kind == YNODE_SCALAR && !(out->host_arch = strdup(n->str))) goto oom;
    const YNode *results = ynode_get(root, "results");
    if (!results || results->kind != YNODE_SEQ) {
        err_set(err, "%s: \"results\" must be a list", what);
        goto done;
    }
    if (results->len && !(out->points = calloc(results->len, sizeof *out->points))) goto oom;
    for (size_t i = 0; i < results->len; i++) {
        out->n_points++;
        if (read_point(results->items[i], what, i, &out->points[i], err)) goto done;
    }
    rc = 0;
    goto done;
oom:
    err_set(err, "out of memory");
done:
    ynode_free(root);
    if (rc) profile_report_free(out);
    return rc;
}

void profile_report_free(ProfileReport *r) {
    for (size_t i = 0; i < r->n_points; i++) {
        free(r->points[i].subnet_name);
        free(r->points[i].cpus);
        free(r->points[i].samples_ms);
    }
    free(r->points);
    free(r->model_crc32);
    free(r->host_arch);
    memset(r, 0, sizeof *r);
}
