/* cli/profile_out.c — `dynn profile` output: the dynn-profile JSON object (docs/FORMATS.md,
 * "Profile output") or an aligned table (see profile_sweep.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/profile_sweep.h"
#include "util/version.h"
#include "util/provenance.h"
#include "platforms/affinity.h"
#include "util/json_out.h"
#include "util/table.h"

static void json_ms(JsonOut *j, const char *key, double seconds) {
    json_key(j, key);
    json_number(j, 1e3 * seconds);
}

static void json_host(JsonOut *j) {
    char host[256], cpu[256];
    struct utsname u;
    provenance_host(host, sizeof host);
    provenance_cpu_model(cpu, sizeof cpu);
    json_key(j, "host");
    json_object_begin(j);
    json_key(j, "hostname"); json_string(j, host);
    json_key(j, "arch"); json_string(j, uname(&u) == 0 ? u.machine : "unknown");
    json_key(j, "cpu_model"); json_string(j, cpu);
    json_key(j, "ncpus"); json_int(j, sysconf(_SC_NPROCESSORS_ONLN));
    json_object_end(j);
}

static void json_dvfs(JsonOut *j, const ProfileReport *r) {
    const Cpufreq *cf = r->cf;
    json_key(j, "dvfs");
    json_object_begin(j);
    json_key(j, "available"); json_bool(j, cf->available);
    json_key(j, "reason"); json_string(j, cf->reason);
    json_key(j, "sysfs_root"); json_string(j, r->sysfs_root);
    json_key(j, "method"); json_string(j, cpufreq_method_name(cf->method));
    json_key(j, "frequencies_khz");
    json_object_begin(j);
    for (int i = 0; i < cf->n_policies; i++) {
        char cpu[16];
        snprintf(cpu, sizeof cpu, "%d", cf->policies[i].cpu);
        json_key(j, cpu);
        json_array_begin(j);
        for (int k = 0; k < cf->policies[i].n_freqs; k++) json_int(j, cf->policies[i].freqs_khz[k]);
        json_array_end(j);
    }
    json_object_end(j);
    json_object_end(j);
}

static void json_energy(JsonOut *j, const ProfileReport *r) {
    json_key(j, "energy");
    json_object_begin(j);
    json_key(j, "available"); json_bool(j, r->energy_available);
    json_key(j, "reason"); json_string(j, r->energy_reason);
    json_key(j, "sensors");
    json_array_begin(j);
    for (int i = 0; i < r->sensors->n; i++) {
        const PowerSensor *s = &r->sensors->s[i];
        json_object_begin(j);
        json_key(j, "name"); json_string(j, s->name);
        json_key(j, "kind"); json_string(j, energy_sensor_kind_name(s->kind));
        json_key(j, "path"); json_string(j, s->path);
        json_object_end(j);
    }
    json_array_end(j);
    json_object_end(j);
}

static void json_result(JsonOut *j, const ProfileReport *r, const ProfileResult *x) {
    const Subnet *sn = &r->d->subnets[x->subnet];
    json_object_begin(j);
    json_key(j, "subnet"); json_int(j, x->subnet);
    json_key(j, "subnet_name"); json_string(j, sn->name);
    json_key(j, "macs"); json_number(j, model_subnet_macs(r->d, sn->count));
    json_key(j, "params"); json_number(j, model_subnet_params(r->d, sn->count));
    json_key(j, "batch"); json_int(j, x->batch);
    json_key(j, "cpus"); json_string(j, x->cpus);
    json_key(j, "cpus_seen"); json_string(j, x->cpus_seen);
    json_key(j, "threads"); json_int(j, x->threads);
    json_key(j, "freq_khz");
    if (x->freq_khz > 0) json_int(j, x->freq_khz);
    else json_null(j);
    json_key(j, "warmup"); json_int(j, x->warmup);
    json_key(j, "repeat"); json_int(j, x->repeat);
    json_key(j, "min_time_ms"); json_number(j, x->min_time_ms);
    json_key(j, "samples_ms");
    json_array_begin(j);
    for (long i = 0; i < x->samples.n; i++) json_number(j, 1e3 * x->samples.s[i]);
    json_array_end(j);
    json_ms(j, "median_ms", x->st.median);
    json_ms(j, "p90_ms", x->st.p90);
    json_ms(j, "p99_ms", x->st.p99);
    json_ms(j, "mean_ms", x->st.mean);
    json_ms(j, "stddev_ms", x->st.stddev);
    json_ms(j, "min_ms", x->st.min);
    json_ms(j, "max_ms", x->st.max);
    json_ms(j, "per_image_ms", x->st.median / x->batch);
    json_key(j, "peak_rss_kib"); json_int(j, x->peak_rss_kib);
    json_key(j, "energy_j"); json_number(j, x->energy_j); /* NaN is written as null */
    json_key(j, "avg_power_w"); json_number(j, x->avg_power_w);
    json_object_end(j);
}

void profile_report_json(const ProfileReport *r, FILE *fp) {
    JsonOut j;
    json_init(&j, fp);
    json_object_begin(&j);
    json_key(&j, "format"); json_string(&j, "dynn-profile");
    json_key(&j, "version"); json_int(&j, 1);
    json_key(&j, "complete"); json_bool(&j, r->complete);
    json_key(&j, "model"); json_string(&j, r->model_path);
    char crc[16];
    snprintf(crc, sizeof crc, "%08lx", r->model_crc);
    json_key(&j, "model_crc32"); json_string(&j, crc);
    json_host(&j);
    json_key(&j, "build"); json_string(&j, dynn_build_id());
    json_dvfs(&j, r);
    json_energy(&j, r);
    json_key(&j, "results");
    json_array_begin(&j);
    for (int i = 0; i < r->n_results; i++) json_result(&j, r, &r->results[i]);
    json_array_end(&j);
    json_object_end(&j);
    json_finish(&j);
}

static void cell(Table *t, size_t row, size_t col, CellType type, const char *fmt, double v) {
    char buf[64];
    if (isnan(v)) {
        table_set(t, row, col, CELL_NULL, NULL);
        return;
    }
    snprintf(buf, sizeof buf, fmt, v);
    table_set(t, row, col, type, buf);
}

void profile_report_table(const ProfileReport *r, FILE *fp) {
    fprintf(fp, "%s (%s, CRC %08lx); DVFS: %s%s%s; energy: %s%s%s\n", r->model_path, r->d->arch, r->model_crc,
            r->cf->available ? cpufreq_method_name(r->cf->method) : "unavailable", r->cf->available ? "" : " - ",
            r->cf->reason, r->energy_available ? "measured" : "unavailable", r->energy_available ? "" : " - ",
            r->energy_reason);
    for (int i = 0; i < r->cf->n_policies; i++) {
        const CpufreqPolicy *p = &r->cf->policies[i];
        char cpus[256];
        cpulist_format(&p->cpus, cpus, sizeof cpus);
        fprintf(fp, "  cpufreq policy of CPUs %s: governor %s, kHz", cpus, p->orig_governor);
        for (int k = 0; k < p->n_freqs; k++) fprintf(fp, "%s%ld", k && !p->discrete ? ".." : " ", p->freqs_khz[k]);
        fputc('\n', fp);
    }
    static const char *const cols[] = {"subnet", "MMACs", "batch", "cpus", "threads", "freq_kHz", "n", "median_ms",
                                       "p90_ms", "p99_ms", "cv_%", "per_image_ms", "mJ/inference", "avg_W", "peak_MiB"};
    Table t;
    if (table_init(&t, cols, sizeof cols / sizeof *cols)) return;
    for (int i = 0; i < r->n_results; i++) {
        const ProfileResult *x = &r->results[i];
        long row = table_add_row(&t);
        if (row < 0) break;
        const Subnet *sn = &r->d->subnets[x->subnet];
        table_set(&t, (size_t)row, 0, CELL_TEXT, sn->name);
        cell(&t, (size_t)row, 1, CELL_REAL, "%.2f", model_subnet_macs(r->d, sn->count) / 1e6);
        cell(&t, (size_t)row, 2, CELL_INT, "%.0f", x->batch);
        table_set(&t, (size_t)row, 3, CELL_TEXT, x->cpus);
        cell(&t, (size_t)row, 4, CELL_INT, "%.0f", x->threads);
        cell(&t, (size_t)row, 5, CELL_INT, "%.0f", x->freq_khz > 0 ? (double)x->freq_khz : NAN);
        cell(&t, (size_t)row, 6, CELL_INT, "%.0f", (double)x->samples.n);
        cell(&t, (size_t)row, 7, CELL_REAL, "%.3f", 1e3 * x->st.median);
        cell(&t, (size_t)row, 8, CELL_REAL, "%.3f", 1e3 * x->st.p90);
        cell(&t, (size_t)row, 9, CELL_REAL, "%.3f", 1e3 * x->st.p99);
        cell(&t, (size_t)row, 10, CELL_REAL, "%.1f", 100.0 * x->st.stddev / x->st.mean);
        cell(&t, (size_t)row, 11, CELL_REAL, "%.4f", 1e3 * x->st.median / x->batch);
        cell(&t, (size_t)row, 12, CELL_REAL, "%.3f", 1e3 * x->energy_j);
        cell(&t, (size_t)row, 13, CELL_REAL, "%.3f", x->avg_power_w);
        cell(&t, (size_t)row, 14, CELL_REAL, "%.1f", x->peak_rss_kib / 1024.0);
    }
    table_print_text(&t, fp);
    table_free(&t);
    if (!r->complete) fprintf(fp, "(incomplete: the sweep stopped early)\n");
}
