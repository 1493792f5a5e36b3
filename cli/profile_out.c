/* cli/profile_out.c — `dynn profile` output as an aligned table (see profile_out.h); the JSON is
 * platforms/profile_json.c. */
#include "cli/profile_out.h"

#include <math.h>
#include <stdio.h>

#include "platforms/affinity.h"
#include "util/table.h"

static void cell(Table *t, size_t row, size_t col, CellType type, const char *fmt, double v) {
    char buf[64];
    if (isnan(v)) {
        table_set(t, row, col, CELL_NULL, NULL);
        return;
    }
    snprintf(buf, sizeof buf, fmt, v);
    table_set(t, row, col, type, buf);
}

void profile_report_table(const ProfileReport *r, const char *arch, const Cpufreq *cf, FILE *fp) {
    fprintf(fp, "%s (%s%s, CRC %s); DVFS: %s%s%s; energy: %s%s%s\n", r->model, arch,
            r->synthetic ? ", synthetic weights: latency only" : "", r->model_crc32,
            cf->available ? cpufreq_method_name(cf->method) : "unavailable", cf->available ? "" : " - ", cf->reason,
            r->energy_available ? "measured" : "unavailable", r->energy_available ? "" : " - ", r->energy_reason);
    for (int i = 0; i < cf->n_policies; i++) {
        const CpufreqPolicy *p = &cf->policies[i];
        char cpus[256];
        cpulist_format(&p->cpus, cpus, sizeof cpus);
        fprintf(fp, "  cpufreq policy of CPUs %s: governor %s, kHz", cpus, p->orig_governor);
        for (int k = 0; k < p->n_freqs; k++) fprintf(fp, "%s%ld", k && !p->discrete ? ".." : " ", p->freqs_khz[k]);
        fputc('\n', fp);
    }
    if (r->gpu_dvfs) { /* asked for with --gpu-freq */
        fprintf(fp, "  GPU devfreq node %s: %s%s%s", r->gpu_dvfs_node ? r->gpu_dvfs_node : "?",
                r->gpu_dvfs_available ? r->gpu_dvfs_method : "unavailable", r->gpu_dvfs_available ? ", Hz" : " - ",
                r->gpu_dvfs_available ? "" : r->gpu_dvfs_reason);
        for (size_t k = 0; r->gpu_dvfs_available && k < r->n_gpu_hz; k++) fprintf(fp, " %lld", r->gpu_hz[k]);
        fputc('\n', fp);
    }
    if (r->gpu_clocks) { /* asked for with --gpu-nvml */
        fprintf(fp, "  NVIDIA GPU %d (%s) through NVML: ", r->gpu_clocks_index, r->gpu_clocks_name ? r->gpu_clocks_name : "?");
        if (r->gpu_clocks_reason && r->gpu_clocks_reason[0]) fprintf(fp, "clocks not set - %s", r->gpu_clocks_reason);
        else fprintf(fp, "%s clocks, memory %lld MHz%s", r->gpu_clocks_method ? r->gpu_clocks_method : "?",
                     r->gpu_clocks_mem_mhz, r->gpu_clocks_mem_locked ? " (locked)" : " (left to the driver)");
        fprintf(fp, "; SM MHz");
        for (size_t k = 0; k < r->n_gpu_sm_mhz; k++) fprintf(fp, " %lld", r->gpu_sm_mhz[k]);
        fputc('\n', fp);
    }
    /* the GPU's clocks seen (gpu_sm_MHz, gpu_mem_MHz) only with --gpu-nvml */
    static const char *const cols[] = {"subnet", "MMACs", "batch", "cpus", "threads", "freq_kHz", "gpu_kHz", "n", "median_ms",
                                       "p90_ms", "p99_ms", "cv_%", "per_image_ms", "mJ/inference", "avg_W", "peak_MiB",
                                       "wait_%", "others_%", "flag", "backend", "device_ms", "gpu_sm_MHz", "gpu_mem_MHz"};
    size_t n_cols = sizeof cols / sizeof *cols - (r->gpu_clocks ? 0 : 2);
    Table t;
    if (table_init(&t, cols, n_cols)) return;
    for (size_t i = 0; i < r->n_points; i++) {
        const ProfilePoint *x = &r->points[i];
        long row = table_add_row(&t);
        if (row < 0) break;
        table_set(&t, (size_t)row, 0, CELL_TEXT, x->subnet_name);
        cell(&t, (size_t)row, 1, CELL_REAL, "%.2f", (double)x->macs / 1e6);
        double batch = (double)cond_get_int(&x->cond, COND_BATCH, 0);
        cell(&t, (size_t)row, 2, CELL_INT, "%.0f", batch);
        table_set(&t, (size_t)row, 3, CELL_TEXT, cond_get(&x->cond, COND_CPUS));
        cell(&t, (size_t)row, 4, CELL_INT, "%.0f", (double)cond_get_int(&x->cond, COND_THREADS, 0));
        long long khz = cond_get_int(&x->cond, COND_CPU_FREQ, 0);
        cell(&t, (size_t)row, 5, CELL_INT, "%.0f", khz > 0 ? (double)khz : NAN);
        long long gpu_khz = cond_get_int(&x->cond, COND_GPU_FREQ, 0);
        cell(&t, (size_t)row, 6, CELL_INT, "%.0f", gpu_khz > 0 ? (double)gpu_khz : NAN);
        cell(&t, (size_t)row, 7, CELL_INT, "%.0f", (double)x->n_samples);
        cell(&t, (size_t)row, 8, CELL_REAL, "%.3f", x->median_ms);
        cell(&t, (size_t)row, 9, CELL_REAL, "%.3f", x->p90_ms);
        cell(&t, (size_t)row, 10, CELL_REAL, "%.3f", x->p99_ms);
        cell(&t, (size_t)row, 11, CELL_REAL, "%.1f", 100.0 * x->stddev_ms / x->mean_ms);
        cell(&t, (size_t)row, 12, CELL_REAL, "%.4f", x->median_ms / batch);
        cell(&t, (size_t)row, 13, CELL_REAL, "%.3f", 1e3 * x->energy_j);
        cell(&t, (size_t)row, 14, CELL_REAL, "%.3f", x->avg_power_w);
        cell(&t, (size_t)row, 15, CELL_REAL, "%.1f", x->peak_rss_kib / 1024.0);
        cell(&t, (size_t)row, 16, CELL_REAL, "%.0f", 100.0 * x->wait_share);
        cell(&t, (size_t)row, 17, CELL_REAL, "%.0f", 100.0 * x->others_share);
        table_set(&t, (size_t)row, 18, CELL_TEXT, x->interference_flagged ? "FLAGGED" : "-");
        table_set(&t, (size_t)row, 19, CELL_TEXT, cond_get(&x->cond, COND_BACKEND));
        cell(&t, (size_t)row, 20, CELL_REAL, "%.3f", x->device_median_ms); /* the device clock's median */
        if (n_cols > 21) {
            long long sm = cond_get_int(&x->cond, COND_GPU_SM_CLOCK, 0), mem = cond_get_int(&x->cond, COND_GPU_MEM_CLOCK, 0);
            cell(&t, (size_t)row, 21, CELL_INT, "%.0f", sm > 0 ? (double)sm : NAN);
            cell(&t, (size_t)row, 22, CELL_INT, "%.0f", mem > 0 ? (double)mem : NAN);
        }
    }
    table_print_text(&t, fp);
    table_free(&t);
    for (size_t i = 0; i < r->n_points; i++)
        if (r->points[i].n_device_samples) {
            fprintf(fp, "median_ms: host wall time of a forward (upload and download included); device_ms: the "
                        "device's own clock (its commands' execution times summed) on %s\n",
                    cond_get(&r->points[i].cond, COND_DEVICE));
            break;
        }
    for (size_t i = 0; i < r->n_points; i++)
        if (r->points[i].interference_flagged) {
            fprintf(fp, "FLAGGED: other work shared the measured CPUs on every attempt (wait_%%: the time its threads "
                        "waited for a CPU, per thread; others_%%: other work on its CPUs); these figures are not this "
                        "machine's latency\n");
            break;
        }
    if (!r->complete) fprintf(fp, "(incomplete: the sweep stopped early)\n");
}
