/* platforms/profile_json.c — the profile output: writing it (`dynn profile --json`) and reading it
 * back (the profile stage), one struct both ways (see profile_json.h). JSON is read with the YAML
 * reader (util/ynode.c; JSON is a subset of YAML): scalars keep their text and whether they were
 * quoted, so a number, a string and null stay distinguishable. */
#include "platforms/profile_json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util/ynode.h"
#include "util/json_out.h"

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

/* Optional fields: absent leaves *out as it is (the point's defaults); present must be valid. */
static int opt_number(const YNode *obj, const char *key, const char *what, size_t i, double *out, Err *err) {
    return ynode_get(obj, key) ? get_number(obj, key, 1, what, i, out, err) : 0;
}

static int opt_int(const YNode *obj, const char *key, const char *what, size_t i, int *out, Err *err) {
    long long v = 0;
    if (!ynode_get(obj, key)) return 0;
    if (get_int(obj, key, 0, what, i, &v, err)) return -1;
    if (v > 2147483647LL) return err_set(err, "%s: result %zu: '%s' is too large", what, i, key);
    *out = (int)v;
    return 0;
}

static int opt_string(const YNode *obj, const char *key, const char *what, size_t i, char **out, Err *err) {
    const YNode *n = ynode_get(obj, key);
    return n && !is_null(n) ? get_string(obj, key, what, i, out, err) : 0; /* null: absent, as the writer means it */
}

/* The conditions of a result, one key of the registry at a time (db/conditions.h). */
static int read_conditions(const YNode *obj, const char *what, size_t i, ProfilePoint *p, Err *err) {
    for (int k = 0; k < COND_COUNT; k++) {
        const CondKey *key = &cond_keys[k];
        const YNode *n = ynode_get(obj, key->json);
        int nullable = (key->json_rules & COND_JSON_NULLABLE) != 0;
        if (!n) {
            if (key->json_rules & COND_JSON_REQUIRED) return err_set(err, "%s: result %zu has no '%s'", what, i, key->json);
            continue;
        }
        if (nullable && is_null(n)) continue;
        if (key->type == COND_TEXT) {
            if (n->kind != YNODE_SCALAR || is_null(n)) return err_set(err, "%s: result %zu: '%s' must be a string", what, i, key->json);
            if (cond_set(&p->cond, k, n->str, err)) return -1;
            continue;
        }
        double v;
        if (get_number(obj, key->json, nullable, what, i, &v, err)) return -1;
        if (nullable && v == 0) continue; /* 0 reads as null (unset) */
        if (v != floor(v) || v < (double)key->min || v > 9.2e18)
            return err_set(err, "%s: result %zu: '%s' must be an integer >= %lld, not %g", what, i, key->json, key->min, v);
        if (cond_set_int(&p->cond, k, (long long)v, err)) return -1;
    }
    return 0;
}

static int read_point(const YNode *obj, const char *what, size_t i, ProfilePoint *p, Err *err) {
    long long subnet;
    double rss;
    if (obj->kind != YNODE_MAP) return err_set(err, "%s: result %zu must be an object", what, i);
    if (get_int(obj, "subnet", 0, what, i, &subnet, err) || get_string(obj, "subnet_name", what, i, &p->subnet_name, err) ||
        get_int(obj, "macs", 0, what, i, &p->macs, err) || get_int(obj, "params", 0, what, i, &p->params, err) ||
        read_conditions(obj, what, i, p, err) || get_number(obj, "median_ms", 0, what, i, &p->median_ms, err) ||
        get_number(obj, "energy_j", 1, what, i, &p->energy_j, err) ||
        get_number(obj, "avg_power_w", 1, what, i, &p->avg_power_w, err) ||
        opt_string(obj, "cpus_seen", what, i, &p->cpus_seen, err) || opt_int(obj, "warmup", what, i, &p->warmup, err) ||
        opt_int(obj, "repeat", what, i, &p->repeat, err) || opt_number(obj, "min_time_ms", what, i, &p->min_time_ms, err) ||
        opt_number(obj, "p90_ms", what, i, &p->p90_ms, err) || opt_number(obj, "p99_ms", what, i, &p->p99_ms, err) ||
        opt_number(obj, "mean_ms", what, i, &p->mean_ms, err) || opt_number(obj, "stddev_ms", what, i, &p->stddev_ms, err) ||
        opt_number(obj, "min_ms", what, i, &p->min_ms, err) || opt_number(obj, "max_ms", what, i, &p->max_ms, err) ||
        opt_number(obj, "device_median_ms", what, i, &p->device_median_ms, err) ||
        opt_number(obj, "cpu_share", what, i, &p->cpu_share, err) || opt_number(obj, "wait_share", what, i, &p->wait_share, err) ||
        opt_number(obj, "others_share", what, i, &p->others_share, err) || ((ynode_get(obj, "attempts") && !is_null(ynode_get(obj, "attempts"))) &&
         opt_int(obj, "attempts", what, i, &p->attempts, err)))
        return -1;
    const YNode *flag = ynode_get(obj, "interference_flagged"); /* absent: not flagged (an older profiler) */
    if (flag && !is_null(flag)) {
        if (flag->kind != YNODE_SCALAR || (strcmp(flag->str, "true") && strcmp(flag->str, "false")))
            return err_set(err, "%s: result %zu: 'interference_flagged' must be true or false", what, i);
        p->interference_flagged = !strcmp(flag->str, "true");
    }
    if (subnet > 2147483647LL || cond_get_int(&p->cond, COND_BATCH, 0) > 2147483647LL ||
        cond_get_int(&p->cond, COND_THREADS, 0) > 2147483647LL)
        return err_set(err, "%s: result %zu: subnet, batch or threads is too large", what, i);
    p->subnet = (int)subnet;
    const YNode *r = ynode_get(obj, "peak_rss_kib");
    if (r && !is_null(r)) {
        if (as_number(r, &rss) || rss < 0) return err_set(err, "%s: result %zu: 'peak_rss_kib' must be a number", what, i);
        p->peak_rss_kib = (long long)rss;
    }
    const YNode *ins = ynode_get(obj, "instructions"); /* absent or null: not counted */
    if (ins && !is_null(ins)) {
        double v;
        if (as_number(ins, &v) || v < 0 || v != floor(v) || v > 9.2e18)
            return err_set(err, "%s: result %zu: 'instructions' must be a non-negative integer", what, i);
        p->instructions = (long long)v;
    }
    const YNode *s = ynode_get(obj, "samples_ms");
    if (!s || s->kind != YNODE_SEQ || !s->len)
        return err_set(err, "%s: result %zu: 'samples_ms' must be a non-empty list of numbers", what, i);
    if (!(p->samples_ms = calloc(s->len, sizeof *p->samples_ms))) return err_set(err, "out of memory");
    for (size_t k = 0; k < s->len; k++)
        if (as_number(s->items[k], &p->samples_ms[k]) || p->samples_ms[k] < 0)
            return err_set(err, "%s: result %zu: samples_ms[%zu] must be a non-negative number", what, i, k);
    p->n_samples = s->len;
    const YNode *ds = ynode_get(obj, "device_samples_ms"); /* absent or null: no device clock */
    if (ds && !is_null(ds)) {
        if (ds->kind != YNODE_SEQ || !ds->len)
            return err_set(err, "%s: result %zu: 'device_samples_ms' must be null or a non-empty list of numbers", what, i);
        if (!(p->device_samples_ms = calloc(ds->len, sizeof *p->device_samples_ms))) return err_set(err, "out of memory");
        for (size_t k = 0; k < ds->len; k++)
            if (as_number(ds->items[k], &p->device_samples_ms[k]) || p->device_samples_ms[k] < 0)
                return err_set(err, "%s: result %zu: device_samples_ms[%zu] must be a non-negative number", what, i, k);
        p->n_device_samples = ds->len;
    }
    return 0;
}

/* A string member of obj (absent or not a string: NULL). */
static int top_string(const YNode *obj, const char *key, char **out) {
    const YNode *n = ynode_get(obj, key);
    if (!n || n->kind != YNODE_SCALAR || is_null(n)) return 0;
    return (*out = strdup(n->str)) ? 0 : -1;
}

static int top_bool(const YNode *obj, const char *key) {
    const YNode *n = ynode_get(obj, key);
    return n && n->kind == YNODE_SCALAR && !n->quoted && !strcmp(n->str, "true");
}

/* host, build, dvfs and energy: informational, taken as far as they are well formed. */
static int read_facts(const YNode *root, ProfileReport *out) {
    const YNode *host = ynode_get(root, "host"), *dvfs = ynode_get(root, "dvfs"), *energy = ynode_get(root, "energy");
    double v;
    if (top_string(root, "model", &out->model) || top_string(root, "model_crc32", &out->model_crc32) ||
        top_string(host, "hostname", &out->host_name) || top_string(host, "arch", &out->host_arch) ||
        top_string(host, "cpu_model", &out->host_cpu_model) || top_string(root, "build", &out->build) ||
        top_string(dvfs, "reason", &out->dvfs_reason) || top_string(dvfs, "sysfs_root", &out->dvfs_sysfs_root) ||
        top_string(dvfs, "method", &out->dvfs_method) || top_string(energy, "reason", &out->energy_reason))
        return -1;
    out->host_ncpus = as_number(ynode_get(host, "ncpus"), &v) || v < 0 || v > 1e9 ? -1 : (int)v;
    out->synthetic = top_bool(root, "synthetic");
    out->dvfs_available = top_bool(dvfs, "available");
    out->energy_available = top_bool(energy, "available");
    const YNode *freqs = ynode_get(dvfs, "frequencies_khz");
    if (freqs && freqs->kind == YNODE_MAP && freqs->len) {
        if (!(out->policies = calloc(freqs->len, sizeof *out->policies))) return -1;
        for (size_t i = 0; i < freqs->len; i++) {
            const YNode *list = freqs->pairs[i].value;
            ProfilePolicy *p = &out->policies[out->n_policies++];
            p->cpu = atoi(freqs->pairs[i].key->str);
            if (!list || list->kind != YNODE_SEQ || !list->len) continue;
            if (!(p->khz = calloc(list->len, sizeof *p->khz))) return -1;
            for (size_t k = 0; k < list->len; k++)
                if (!as_number(list->items[k], &v)) p->khz[p->n_khz++] = (long long)v;
        }
    }
    const YNode *gpu = ynode_get(root, "gpu_dvfs");
    if (gpu && gpu->kind == YNODE_MAP) {
        out->gpu_dvfs = 1;
        out->gpu_dvfs_available = top_bool(gpu, "available");
        if (top_string(gpu, "reason", &out->gpu_dvfs_reason) || top_string(gpu, "node", &out->gpu_dvfs_node) ||
            top_string(gpu, "method", &out->gpu_dvfs_method))
            return -1;
        const YNode *list = ynode_get(gpu, "frequencies_hz");
        if (list && list->kind == YNODE_SEQ && list->len) {
            if (!(out->gpu_hz = calloc(list->len, sizeof *out->gpu_hz))) return -1;
            for (size_t k = 0; k < list->len; k++)
                if (!as_number(list->items[k], &v)) out->gpu_hz[out->n_gpu_hz++] = (long long)v;
        }
    }
    const YNode *clocks = ynode_get(root, "gpu_clocks");
    if (clocks && clocks->kind == YNODE_MAP) {
        out->gpu_clocks = 1;
        out->gpu_clocks_index = as_number(ynode_get(clocks, "nvml_index"), &v) || v < 0 || v > 1e6 ? -1 : (int)v;
        out->gpu_clocks_mem_locked = top_bool(clocks, "memory_locked");
        out->gpu_clocks_mem_mhz = as_number(ynode_get(clocks, "memory_clock_mhz"), &v) || v < 0 || v > 1e9 ? 0 : (long long)v;
        if (top_string(clocks, "name", &out->gpu_clocks_name) || top_string(clocks, "method", &out->gpu_clocks_method) ||
            top_string(clocks, "reason", &out->gpu_clocks_reason))
            return -1;
        const YNode *list = ynode_get(clocks, "sm_clocks_mhz");
        if (list && list->kind == YNODE_SEQ && list->len) {
            if (!(out->gpu_sm_mhz = calloc(list->len, sizeof *out->gpu_sm_mhz))) return -1;
            for (size_t k = 0; k < list->len; k++)
                if (!as_number(list->items[k], &v)) out->gpu_sm_mhz[out->n_gpu_sm_mhz++] = (long long)v;
        }
    }
    const YNode *sensors = ynode_get(energy, "sensors");
    if (sensors && sensors->kind == YNODE_SEQ && sensors->len) {
        if (!(out->sensors = calloc(sensors->len, sizeof *out->sensors))) return -1;
        for (size_t i = 0; i < sensors->len; i++) {
            ProfileSensor *s = &out->sensors[out->n_sensors++];
            if (top_string(sensors->items[i], "name", &s->name) || top_string(sensors->items[i], "kind", &s->kind) ||
                top_string(sensors->items[i], "path", &s->path))
                return -1;
        }
    }
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
    if (read_facts(root, out)) goto oom;
    const YNode *results = ynode_get(root, "results");
    if (!results || results->kind != YNODE_SEQ) {
        err_set(err, "%s: \"results\" must be a list", what);
        goto done;
    }
    for (size_t i = 0; i < results->len; i++) {
        ProfilePoint *p = profile_report_add_point(out, err);
        if (!p || read_point(results->items[i], what, i, p, err)) goto done;
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

int profile_report_str(char **field, const char *s, Err *err) {
    char *copy = s ? strdup(s) : NULL;
    if (s && !copy) return err_set(err, "out of memory");
    free(*field);
    *field = copy;
    return 0;
}

ProfilePoint *profile_report_add_point(ProfileReport *r, Err *err) {
    if (r->n_points == r->cap_points) {
        size_t cap = r->cap_points ? 2 * r->cap_points : 16;
        ProfilePoint *p = realloc(r->points, cap * sizeof *p);
        if (!p) return err_set(err, "out of memory"), NULL;
        r->points = p;
        r->cap_points = cap;
    }
    ProfilePoint *p = &r->points[r->n_points++];
    memset(p, 0, sizeof *p);
    p->subnet = p->warmup = p->repeat = -1;
    p->macs = p->params = p->peak_rss_kib = p->instructions = -1;
    p->attempts = -1;
    p->cpu_share = p->wait_share = p->others_share = NAN;
    p->min_time_ms = p->median_ms = p->p90_ms = p->p99_ms = p->mean_ms = p->stddev_ms = p->min_ms = p->max_ms = NAN;
    p->energy_j = p->avg_power_w = p->device_median_ms = NAN;
    return p;
}

static void point_free(ProfilePoint *p) {
    free(p->subnet_name);
    cond_free(&p->cond);
    free(p->cpus_seen);
    free(p->samples_ms);
    free(p->device_samples_ms);
}

void profile_report_drop_last(ProfileReport *r) {
    if (r->n_points) point_free(&r->points[--r->n_points]);
}

void profile_report_free(ProfileReport *r) {
    for (size_t i = 0; i < r->n_points; i++) point_free(&r->points[i]);
    for (size_t i = 0; i < r->n_policies; i++) free(r->policies[i].khz);
    for (size_t i = 0; i < r->n_sensors; i++) {
        free(r->sensors[i].name);
        free(r->sensors[i].kind);
        free(r->sensors[i].path);
    }
    char *strings[] = {r->model, r->model_crc32, r->host_name, r->host_arch, r->host_cpu_model, r->build,
                       r->dvfs_reason, r->dvfs_sysfs_root, r->dvfs_method, r->energy_reason,
                       r->gpu_dvfs_reason, r->gpu_dvfs_node, r->gpu_dvfs_method, r->gpu_clocks_name,
                       r->gpu_clocks_method, r->gpu_clocks_reason};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) free(strings[i]);
    free(r->policies);
    free(r->gpu_hz);
    free(r->gpu_sm_mhz);
    free(r->sensors);
    free(r->points);
    memset(r, 0, sizeof *r);
}

/* ---- writing ---- */

static void key_string(JsonOut *j, const char *key, const char *s) {
    json_key(j, key);
    if (s) json_string(j, s);
    else json_null(j);
}

static void key_number(JsonOut *j, const char *key, double v) {
    json_key(j, key);
    json_number(j, v); /* NaN is written as null */
}

static void key_int(JsonOut *j, const char *key, long long v) {
    json_key(j, key);
    json_int(j, v);
}

static void write_point(JsonOut *j, const ProfilePoint *p) {
    json_object_begin(j);
    key_int(j, "subnet", p->subnet);
    key_string(j, "subnet_name", p->subnet_name);
    key_number(j, "macs", (double)p->macs);
    key_number(j, "params", (double)p->params);
    for (int k = 0; k < COND_COUNT; k++) { /* the conditions, in the registry's order; unset: null */
        const char *v = cond_get(&p->cond, k);
        json_key(j, cond_keys[k].json);
        if (!v) json_null(j);
        else if (cond_keys[k].type == COND_INT) json_int(j, strtoll(v, NULL, 10));
        else json_string(j, v);
    }
    key_string(j, "cpus_seen", p->cpus_seen);
    key_int(j, "warmup", p->warmup);
    key_int(j, "repeat", p->repeat);
    key_number(j, "min_time_ms", p->min_time_ms);
    json_key(j, "samples_ms");
    json_array_begin(j);
    for (size_t i = 0; i < p->n_samples; i++) json_number(j, p->samples_ms[i]);
    json_array_end(j);
    key_number(j, "median_ms", p->median_ms);
    key_number(j, "p90_ms", p->p90_ms);
    key_number(j, "p99_ms", p->p99_ms);
    key_number(j, "mean_ms", p->mean_ms);
    key_number(j, "stddev_ms", p->stddev_ms);
    key_number(j, "min_ms", p->min_ms);
    key_number(j, "max_ms", p->max_ms);
    json_key(j, "device_samples_ms");
    if (!p->n_device_samples) json_null(j);
    else {
        json_array_begin(j);
        for (size_t i = 0; i < p->n_device_samples; i++) json_number(j, p->device_samples_ms[i]);
        json_array_end(j);
    }
    key_number(j, "device_median_ms", p->device_median_ms);
    long long batch = cond_get_int(&p->cond, COND_BATCH, 0);
    key_number(j, "per_image_ms", batch > 0 ? p->median_ms / (double)batch : NAN);
    key_int(j, "peak_rss_kib", p->peak_rss_kib);
    json_key(j, "instructions");
    if (p->instructions >= 0) json_int(j, p->instructions);
    else json_null(j);
    key_number(j, "cpu_share", p->cpu_share);
    key_number(j, "wait_share", p->wait_share);
    key_number(j, "others_share", p->others_share);
    json_key(j, "attempts");
    if (p->attempts >= 0) json_int(j, p->attempts);
    else json_null(j);
    json_key(j, "interference_flagged");
    json_bool(j, p->interference_flagged);
    key_number(j, "energy_j", p->energy_j);
    key_number(j, "avg_power_w", p->avg_power_w);
    json_object_end(j);
}

void profile_json_write(const ProfileReport *r, FILE *fp) {
    JsonOut j;
    json_init(&j, fp);
    json_object_begin(&j);
    key_string(&j, "format", "dynn-profile");
    key_int(&j, "version", 1);
    json_key(&j, "complete");
    json_bool(&j, r->complete);
    key_string(&j, "model", r->model);
    key_string(&j, "model_crc32", r->model_crc32);
    json_key(&j, "synthetic");
    json_bool(&j, r->synthetic);
    json_key(&j, "host");
    json_object_begin(&j);
    key_string(&j, "hostname", r->host_name);
    key_string(&j, "arch", r->host_arch);
    key_string(&j, "cpu_model", r->host_cpu_model);
    key_int(&j, "ncpus", r->host_ncpus);
    json_object_end(&j);
    key_string(&j, "build", r->build);
    json_key(&j, "dvfs");
    json_object_begin(&j);
    json_key(&j, "available");
    json_bool(&j, r->dvfs_available);
    key_string(&j, "reason", r->dvfs_reason);
    key_string(&j, "sysfs_root", r->dvfs_sysfs_root);
    key_string(&j, "method", r->dvfs_method);
    json_key(&j, "frequencies_khz");
    json_object_begin(&j);
    for (size_t i = 0; i < r->n_policies; i++) {
        char cpu[16];
        snprintf(cpu, sizeof cpu, "%d", r->policies[i].cpu);
        json_key(&j, cpu);
        json_array_begin(&j);
        for (size_t k = 0; k < r->policies[i].n_khz; k++) json_int(&j, r->policies[i].khz[k]);
        json_array_end(&j);
    }
    json_object_end(&j);
    json_object_end(&j);
    if (r->gpu_dvfs) {
        json_key(&j, "gpu_dvfs");
        json_object_begin(&j);
        json_key(&j, "available");
        json_bool(&j, r->gpu_dvfs_available);
        key_string(&j, "reason", r->gpu_dvfs_reason);
        key_string(&j, "node", r->gpu_dvfs_node);
        key_string(&j, "method", r->gpu_dvfs_method);
        json_key(&j, "frequencies_hz");
        json_array_begin(&j);
        for (size_t k = 0; k < r->n_gpu_hz; k++) json_int(&j, r->gpu_hz[k]);
        json_array_end(&j);
        json_object_end(&j);
    }
    if (r->gpu_clocks) {
        json_key(&j, "gpu_clocks");
        json_object_begin(&j);
        key_int(&j, "nvml_index", r->gpu_clocks_index);
        key_string(&j, "name", r->gpu_clocks_name);
        key_string(&j, "method", r->gpu_clocks_method);
        key_string(&j, "reason", r->gpu_clocks_reason);
        json_key(&j, "memory_locked");
        json_bool(&j, r->gpu_clocks_mem_locked);
        json_key(&j, "memory_clock_mhz");
        if (r->gpu_clocks_mem_mhz > 0) json_int(&j, r->gpu_clocks_mem_mhz);
        else json_null(&j);
        json_key(&j, "sm_clocks_mhz");
        json_array_begin(&j);
        for (size_t k = 0; k < r->n_gpu_sm_mhz; k++) json_int(&j, r->gpu_sm_mhz[k]);
        json_array_end(&j);
        json_object_end(&j);
    }
    json_key(&j, "energy");
    json_object_begin(&j);
    json_key(&j, "available");
    json_bool(&j, r->energy_available);
    key_string(&j, "reason", r->energy_reason);
    json_key(&j, "sensors");
    json_array_begin(&j);
    for (size_t i = 0; i < r->n_sensors; i++) {
        json_object_begin(&j);
        key_string(&j, "name", r->sensors[i].name);
        key_string(&j, "kind", r->sensors[i].kind);
        key_string(&j, "path", r->sensors[i].path);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_key(&j, "results");
    json_array_begin(&j);
    for (size_t i = 0; i < r->n_points; i++) write_point(&j, &r->points[i]);
    json_array_end(&j);
    json_object_end(&j);
    json_finish(&j);
}
