/* pipeline/records.c — writing (stage side) and reading (runner side) of records files
 * (see records.h). */
#include "pipeline/records.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/store.h"
#include "util/fs.h"

#define RECORDS_MAGIC "dynn-records 4"     /* 4: cpu_share, wait_share, others_share, attempts, flagged after instructions */
#define RECORDS_MAGIC_V3 "dynn-records 3"  /* still read: instructions after avg_power_w, no shares */
#define RECORDS_MAGIC_V2 "dynn-records 2"  /* still read: no instructions field */

/* ---- writing ---- */

static void put_escaped(StrBuf *sb, const char *s) {
    for (; *s; s++) {
        if (*s == '\\') sb_append(sb, "\\\\");
        else if (*s == '\t') sb_append(sb, "\\t");
        else if (*s == '\n') sb_append(sb, "\\n");
        else sb_append_char(sb, *s);
    }
}

static void put_field(StrBuf *sb, const char *s) {
    sb_append_char(sb, '\t');
    if (s) put_escaped(sb, s);
    else sb_append(sb, "\\N");
}

static void put_number(StrBuf *sb, double v) { sb_printf(sb, "\t%.17g", v); }

static int sink_metric(RecordSink *sink, const char *name, double value, const char *subnet, long long step, Err *err) {
    RecordWriter *w = sink->self;
    if (!name || !name[0]) return err_set(err, "a metric needs a name");
    sb_append(&w->buf, "metric");
    put_field(&w->buf, name);
    put_number(&w->buf, value);
    put_field(&w->buf, subnet);
    sb_printf(&w->buf, "\t%lld\n", step);
    w->n_records++;
    return w->buf.oom ? err_set(err, "out of memory recording metric '%s'", name) : 0;
}

/* with_*: which later fields of Measurement the caller's struct has (plugin ABI, db/measurement.h). */
static int write_measurement(RecordWriter *w, const Measurement *m, int with_ex, int with_pairs, int with_count,
                             int with_share, Err *err) {
    Conditions cond;
    if (measurement_conditions(m, with_pairs, &cond, err)) return err_prefix(err, "a measurement");
    sb_append(&w->buf, "measurement");
    put_field(&w->buf, m->subnet);
    put_number(&w->buf, m->energy_j);
    sb_printf(&w->buf, "\t%zu\t", m->n_latency);
    for (size_t i = 0; i < m->n_latency; i++) sb_printf(&w->buf, i ? ",%.17g" : "%.17g", m->latency_s[i]);
    if (with_ex) sb_printf(&w->buf, "\t%d\t%lld\t%lld", m->subnet_index, m->macs, m->peak_rss_kib);
    else sb_append(&w->buf, "\t-1\t-1\t-1");
    put_number(&w->buf, with_ex ? m->avg_power_w : NAN);
    sb_printf(&w->buf, "\t%lld", with_count && m->instructions > 0 ? m->instructions : -1LL);
    put_number(&w->buf, with_share ? m->cpu_share : NAN);
    put_number(&w->buf, with_share ? m->wait_share : NAN);
    put_number(&w->buf, with_share ? m->others_share : NAN);
    sb_printf(&w->buf, "\t%d\t%d", with_share && m->attempts > 0 ? m->attempts : -1, with_share && m->interference_flagged);
    for (int k = 0; k < COND_COUNT; k++) {
        if (!cond.value[k]) continue;
        sb_printf(&w->buf, "\t%s=", cond_keys[k].name);
        put_escaped(&w->buf, cond.value[k]);
    }
    sb_append_char(&w->buf, '\n');
    cond_free(&cond);
    w->n_records++;
    return w->buf.oom ? err_set(err, "out of memory recording a measurement") : 0;
}

/* Plugin API 1 callers pass a Measurement without the later fields. */
static int sink_measurement(RecordSink *sink, const Measurement *m, Err *err) { return write_measurement(sink->self, m, 0, 0, 0, 0, err); }

static int sink_measurement_ex(RecordSink *sink, const Measurement *m, Err *err) {
    return write_measurement(sink->self, m, 1, 0, 0, 0, err);
}

static int sink_measurement_conditions(RecordSink *sink, const Measurement *m, Err *err) {
    return write_measurement(sink->self, m, 1, 1, 0, 0, err);
}

static int sink_measurement_counted(RecordSink *sink, const Measurement *m, Err *err) {
    return write_measurement(sink->self, m, 1, 1, 1, 0, err);
}

static int sink_measurement_shared(RecordSink *sink, const Measurement *m, Err *err) {
    return write_measurement(sink->self, m, 1, 1, 1, 1, err);
}

static int sink_artifact(RecordSink *sink, const char *name, const char *path, const char *kind, Err *err) {
    RecordWriter *w = sink->self;
    if (!name || !name[0] || !kind || !kind[0]) return err_set(err, "an artifact needs a name and a kind");
    char hash[SHA256_HEX_LEN + 1], rel[STORE_REL_MAX];
    uint64_t size;
    if (store_put(w->state_dir, path, hash, rel, &size, err)) return err_prefix(err, "artifact '%s'", name);
    sb_append(&w->buf, "artifact");
    put_field(&w->buf, name);
    put_field(&w->buf, kind);
    put_field(&w->buf, hash);
    put_field(&w->buf, rel);
    sb_printf(&w->buf, "\t%llu\n", (unsigned long long)size);
    w->n_records++;
    return w->buf.oom ? err_set(err, "out of memory recording artifact '%s'", name) : 0;
}

void records_writer_init(RecordWriter *w, const char *state_dir) {
    memset(w, 0, sizeof *w);
    w->state_dir = state_dir;
    w->sink.self = w;
    w->sink.metric = sink_metric;
    w->sink.measurement = sink_measurement;
    w->sink.measurement_ex = sink_measurement_ex;
    w->sink.measurement_conditions = sink_measurement_conditions;
    w->sink.measurement_counted = sink_measurement_counted;
    w->sink.measurement_shared = sink_measurement_shared;
    w->sink.artifact = sink_artifact;
    w->sink.exit_code = -1;
    sb_append(&w->buf, RECORDS_MAGIC "\n");
}

int records_writer_finish(RecordWriter *w, const char *path, int ok, const char *error, Err *err) {
    if (!ok) { /* a failed stage hands back why it failed and its measurements (what a sweep measured
                * before a board went away), no metrics or artifacts */
        StrBuf kept = {0};
        sb_append(&kept, RECORDS_MAGIC "\n");
        for (const char *line = sb_str(&w->buf), *end; *line; line = end) {
            end = strchr(line, '\n');
            end = end ? end + 1 : line + strlen(line);
            if (!strncmp(line, "measurement\t", 12)) sb_append_len(&kept, line, (size_t)(end - line));
        }
        sb_free(&w->buf);
        w->buf = kept;
    }
    sb_append(&w->buf, "result");
    put_field(&w->buf, ok ? "ok" : "failed");
    sb_printf(&w->buf, "\t%d", w->sink.exit_code);
    put_field(&w->buf, error ? error : "");
    sb_append(&w->buf, "\nend\n");
    if (w->buf.oom) return err_set(err, "%s: out of memory", path);
    return fs_overwrite_file(path, w->buf.data, w->buf.len, err); /* magic written last, "end" checked too */
}

void records_writer_free(RecordWriter *w) { sb_free(&w->buf); }

int records_copy_noting(const char *src, const char *dst, const char *note, Err *err) {
    char *data = NULL;
    size_t len = 0;
    if (fs_read_file(src, &data, &len, err)) return -1;
    StrBuf out = {0};
    for (const char *line = data, *end; *line; line = end) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        if (note && !strncmp(line, "result\tfailed\t", 14) && end[-1] == '\n') {
            sb_append_len(&out, line, (size_t)(end - 1 - line));
            put_escaped(&out, note);
            sb_append_char(&out, '\n');
        } else {
            sb_append_len(&out, line, (size_t)(end - line));
        }
    }
    free(data);
    int rc = out.oom ? err_set(err, "%s: out of memory", dst) : fs_overwrite_file(dst, out.data, out.len, err);
    sb_free(&out);
    return rc;
}

/* ---- reading ---- */

/* Splits a line into tab-separated fields in place, unescaping; NULL for \N. */
static size_t split_fields(char *line, char **fields, size_t max) {
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *start = p, *out = p;
        while (*p && *p != '\t') {
            if (*p == '\\' && p[1]) {
                p++;
                *out++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'N' ? '\x01' : *p;
                p++;
            } else {
                *out++ = *p++;
            }
        }
        int last = *p == '\0';
        *out = '\0';
        fields[n++] = (start[0] == '\x01' && start[1] == '\0') ? NULL : start;
        if (last) break;
        p++;
    }
    return n;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int grow(void **array, size_t n, size_t elem) {
    if (n & (n - 1)) return 0; /* capacity is the next power of two ≥ n */
    void *p = realloc(*array, (n ? n * 2 : 1) * elem);
    if (!p) return -1;
    *array = p;
    return 0;
}

static int parse_samples(const char *text, size_t n, double **out) {
    const char *p = text ? text : "";
    *out = NULL;
    if (n > (strlen(p) + 1) / 2) return -1; /* each sample takes a digit and a comma: n is bounded by the text */
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) return -1;
    for (size_t i = 0; i < n; i++) {
        char *end;
        (*out)[i] = strtod(p, &end);
        if (end == p) return -1;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static int parse_line(Records *r, char **f, size_t n, size_t fixed) {
    if (!strcmp(f[0], "metric") && n == 5) {
        if (grow((void **)&r->metrics, r->n_metrics, sizeof *r->metrics)) return -1;
        RecMetric *m = &r->metrics[r->n_metrics++];
        m->name = dup_or_null(f[1]);
        m->value = strtod(f[2] ? f[2] : "nan", NULL);
        m->subnet = dup_or_null(f[3]);
        m->step = strtoll(f[4] ? f[4] : "0", NULL, 10);
        return m->name ? 0 : -1;
    }
    if (!strcmp(f[0], "artifact") && n == 6) {
        if (grow((void **)&r->artifacts, r->n_artifacts, sizeof *r->artifacts)) return -1;
        RecArtifact *a = &r->artifacts[r->n_artifacts++];
        a->name = dup_or_null(f[1]), a->kind = dup_or_null(f[2]), a->hash = dup_or_null(f[3]), a->path = dup_or_null(f[4]);
        a->size = strtoull(f[5] ? f[5] : "0", NULL, 10);
        return a->name && a->kind && a->hash && a->path ? 0 : -1;
    }
    if (!strcmp(f[0], "measurement") && n >= fixed) { /* fixed: the fields before the conditions */
        if (n > fixed + COND_COUNT) return -3;
        if (grow((void **)&r->measurements, r->n_measurements, sizeof *r->measurements)) return -1;
        RecMeasurement *rm = &r->measurements[r->n_measurements++];
        memset(rm, 0, sizeof *rm);
        Measurement *m = &rm->m;
        m->subnet = dup_or_null(f[1]);
        m->energy_j = strtod(f[2] ? f[2] : "nan", NULL);
        m->n_latency = strtoull(f[3] ? f[3] : "0", NULL, 10);
        double *samples;
        int rc = parse_samples(f[4], m->n_latency, &samples);
        m->latency_s = samples;
        m->subnet_index = atoi(f[5] ? f[5] : "-1");
        m->macs = strtoll(f[6] ? f[6] : "-1", NULL, 10);
        m->peak_rss_kib = strtoll(f[7] ? f[7] : "-1", NULL, 10);
        m->avg_power_w = strtod(f[8] ? f[8] : "nan", NULL);
        m->instructions = fixed > 9 ? strtoll(f[9] ? f[9] : "-1", NULL, 10) : -1;
        m->cpu_share = m->wait_share = m->others_share = NAN;
        m->attempts = -1;
        if (fixed > 10) { /* version 4 */
            m->cpu_share = strtod(f[10] ? f[10] : "nan", NULL);
            m->wait_share = strtod(f[11] ? f[11] : "nan", NULL);
            m->others_share = strtod(f[12] ? f[12] : "nan", NULL);
            m->attempts = atoi(f[13] ? f[13] : "-1");
            m->interference_flagged = atoi(f[14] ? f[14] : "0") != 0;
        }
        if (rc) return -1;
        for (size_t i = fixed; i < n; i++) { /* KEY=VALUE */
            char *eq = f[i] ? strchr(f[i], '=') : NULL;
            if (!eq) return -3;
            *eq = '\0';
            int k = cond_find(f[i]);
            if (k < 0 || rm->cond.value[k] || cond_set(&rm->cond, k, eq + 1, NULL)) return -3;
        }
        return 0;
    }
    if (!strcmp(f[0], "result") && n == 4) {
        r->ok = f[1] && !strcmp(f[1], "ok");
        r->exit_code = atoi(f[2] ? f[2] : "-1");
        free(r->error); /* the last result line counts */
        r->error = dup_or_null(f[3] ? f[3] : "");
        return r->error ? 0 : -1;
    }
    return -2;
}

int records_read(const char *path, Records *r, Err *err) {
    memset(r, 0, sizeof *r);
    r->exit_code = -1;
    char *text;
    size_t len;
    if (fs_read_file(path, &text, &len, err)) return -1;
    int rc = 0, ended = 0, line_no = 0;
    size_t fixed = 15; /* a measurement's fields before its conditions: 10 in version 3, 9 in version 2 */
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        if (line_no == 1) {
            if (!strcmp(line, RECORDS_MAGIC_V2)) fixed = 9;
            else if (!strcmp(line, RECORDS_MAGIC_V3)) fixed = 10;
            else if (strcmp(line, RECORDS_MAGIC)) rc = err_set(err, "%s: not a records file", path);
            continue;
        }
        if (!strcmp(line, "end")) {
            ended = 1;
            break;
        }
        char *fields[15 + COND_COUNT + 1];
        size_t n = split_fields(line, fields, sizeof fields / sizeof *fields);
        int prc = fields[0] ? parse_line(r, fields, n, fixed) : -2;
        if (prc == -1) rc = err_set(err, "%s:%d: out of memory or bad values", path, line_no);
        else if (prc == -2) rc = err_set(err, "%s:%d: unknown record", path, line_no);
        else if (prc == -3) rc = err_set(err, "%s:%d: a measurement's condition is not KEY=VALUE with a known key, once, and a valid value", path, line_no);
    }
    free(text);
    if (!rc && !ended) rc = err_set(err, "%s: incomplete records file (no 'end')", path);
    for (size_t i = 0; !rc && i < r->n_measurements; i++) { /* the pairs point into the set, now that it stays put */
        RecMeasurement *rm = &r->measurements[i];
        for (int k = 0; k < COND_COUNT; k++)
            if (rm->cond.value[k]) rm->pairs[rm->m.n_conditions++] = (MeasCondition){cond_keys[k].name, rm->cond.value[k]};
        rm->m.conditions = rm->pairs;
        measurement_fill_api1(&rm->m, &rm->cond);
    }
    if (rc) records_free(r);
    return rc;
}

void records_free(Records *r) {
    for (size_t i = 0; i < r->n_metrics; i++) free(r->metrics[i].name), free(r->metrics[i].subnet);
    for (size_t i = 0; i < r->n_artifacts; i++) {
        RecArtifact *a = &r->artifacts[i];
        free(a->name), free(a->kind), free(a->hash), free(a->path);
    }
    for (size_t i = 0; i < r->n_measurements; i++) {
        Measurement *m = &r->measurements[i].m;
        free((char *)m->subnet), free((double *)m->latency_s);
        cond_free(&r->measurements[i].cond);
    }
    free(r->metrics);
    free(r->artifacts);
    free(r->measurements);
    free(r->error);
    memset(r, 0, sizeof *r);
}
