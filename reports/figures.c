/* reports/figures.c — one function per kind of figure: write its data, give gnuplot its commands
 * (see figures.h). Latencies are plotted in milliseconds, energy in millijoules, accuracy in %. */
#include "reports/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/plot.h"
#include "util/strbuf.h"

typedef struct Fig {
    const RunData *d;
    const Aggregate *a;
    const char *dir;
    ReportFigures *out;
    Err *err;
} Fig;

/* File-name-safe copy of s. */
static void safe_name(char *out, size_t size, const char *s) {
    size_t k = 0;
    for (; *s && k + 1 < size; s++)
        out[k++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ? *s : '_';
    out[k] = '\0';
}

/* Writes NAME.dat and renders NAME with the commands; adds it to the list. */
static int draw(Fig *f, const char *name, const char *title, StrBuf *data, StrBuf *cmds) {
    char file[256];
    snprintf(file, sizeof file, "%s.dat", name);
    int rc = data->oom || cmds->oom ? err_set(f->err, "out of memory") : 0;
    if (!rc) rc = plot_write_file(f->dir, file, sb_str(data), f->err);
    if (!rc) rc = plot_render(f->dir, name, sb_str(cmds), f->err);
    sb_free(data);
    sb_free(cmds);
    if (rc) return -1;
    ReportFigure *p = realloc(f->out->items, (f->out->n + 1) * sizeof *p);
    if (!p) return err_set(f->err, "out of memory");
    f->out->items = p;
    ReportFigure *fig = &p[f->out->n++];
    snprintf(fig->name, sizeof fig->name, "%s", name);
    snprintf(fig->title, sizeof fig->title, "%s", title);
    return 0;
}

static void set_title(StrBuf *cmds, const char *title) {
    char q[512];
    plot_quote(q, sizeof q, title);
    sb_printf(cmds, "set title %s\n", q);
}

/* A series title for gnuplot (quoted, not enhanced). */
static void series(StrBuf *cmds, const char *name, size_t block, const char *style, int color, const char *title) {
    char q[256];
    plot_quote(q, sizeof q, title ? title : "");
    sb_printf(cmds, "%s'%s.dat' index %zu %s lc %d %s%s", cmds->len && cmds->data[cmds->len - 1] != '\n' ? ", " : "plot ", name,
              block, style, color, title ? "title " : "notitle", title ? q : "");
}

/* ---- accuracy against latency or energy, one figure per platform and batch ---- */

static int acc_cost_figure(Fig *f, const AggGroup *first, int energy) {
    char base[160], name[192], title[256];
    safe_name(base, sizeof base, first->platform);
    snprintf(name, sizeof name, "%s_%s_b%d", energy ? "acc_energy" : "acc_latency", base, first->batch);
    snprintf(title, sizeof title, "Accuracy vs %s - platform %s, batch %d", energy ? "energy per inference" : "median latency",
             first->platform, first->batch);
    StrBuf data = {0}, cmds = {0}, plot = {0};
    double lo = INFINITY, hi = 0;
    size_t block = 0;
    int color = 0;
    for (size_t gi = 0; gi < f->a->n_groups; gi++) {
        const AggGroup *g = &f->a->groups[gi];
        if (strcmp(g->platform, first->platform) || g->batch != first->batch) continue;
        color++;
        int any = 0;
        sb_printf(&data, "# %s: cost accuracy_pct subnet mapping freq_khz\n", g->label);
        for (size_t i = 0; i < g->n_points; i++) {
            const AggPoint *p = &g->points[i];
            double c = energy ? p->energy_j * 1e3 : p->p50_s * 1e3;
            if (isnan(c) || isnan(p->accuracy)) continue;
            sb_printf(&data, "%.9g %.6g \"%s\" \"%s\" %lld\n", c, p->accuracy * 100, p->m->subnet, p->mapping, p->frequency_khz);
            if (c < lo) lo = c;
            if (c > hi) hi = c;
            any = 1;
        }
        sb_append(&data, "\n\n");
        size_t nf = energy ? g->n_front_energy : g->n_front_latency;
        const size_t *front = energy ? g->front_energy : g->front_latency;
        for (size_t i = 0; i < nf; i++) {
            const AggPoint *p = &g->points[front[i]];
            sb_printf(&data, "%.9g %.6g\n", (energy ? p->energy_j : p->p50_s) * 1e3, p->accuracy * 100);
        }
        sb_append(&data, "\n\n");
        if (any) {
            series(&plot, name, block, "with points pt 7 ps 1.1", color, g->method);
            char front_title[256];
            snprintf(front_title, sizeof front_title, "%s Pareto front", g->method);
            series(&plot, name, block + 1, "with steps lw 2 dt 2", color, front_title);
        }
        block += 2;
    }
    if (!plot.len) {
        sb_free(&data), sb_free(&plot);
        return 0;
    }
    set_title(&cmds, title);
    sb_printf(&cmds, "set xlabel '%s'\nset ylabel 'top-1 accuracy (%%)'\n",
              energy ? "energy per inference (mJ)" : "median latency per inference (ms)");
    if (hi / lo > 10) sb_append(&cmds, "set logscale x\n");
    sb_printf(&cmds, "%s\n", sb_str(&plot));
    sb_free(&plot);
    return draw(f, name, title, &data, &cmds);
}

/* ---- accuracy against MFLOPs, from the models: one figure per architecture ---- */

/* The figure of the models of model `first`'s architecture; named acc_mflops, or acc_mflops_ARCH
 * when the run has several architectures. */
static int acc_mflops_figure(Fig *f, size_t first, int several) {
    StrBuf data = {0}, cmds = {0}, plot = {0};
    const RdModel *arch = &f->d->models[first];
    char name[96] = "acc_mflops", title[160];
    if (several) {
        char base[64];
        safe_name(base, sizeof base, arch->arch ? arch->arch : "unknown");
        snprintf(name, sizeof name, "acc_mflops_%s", base);
    }
    size_t block = 0;
    for (size_t mi = first; mi < f->d->n_models; mi++) {
        const RdModel *m = &f->d->models[mi];
        if (m->synthetic || !agg_same_arch(m, arch)) continue; /* a synthetic model has no accuracy */
        sb_printf(&data, "# %s: MFLOPs accuracy_pct subnet\n", m->stage);
        int any = 0;
        for (size_t k = 0; k < m->n_subnets; k++) {
            const RdSubnet *s = &m->subnets[k];
            if (isnan(s->macs) || isnan(s->accuracy)) continue;
            sb_printf(&data, "%.6g %.6g \"%s\"\n", 2 * s->macs / 1e6, s->accuracy * 100, s->name);
            any = 1;
        }
        sb_append(&data, "\n\n");
        if (any) series(&plot, name, block, "with linespoints pt 7 lw 2", (int)mi + 1, agg_model_name(f->d, (long)mi));
        block++;
    }
    if (!plot.len) {
        sb_free(&data), sb_free(&plot);
        return 0;
    }
    snprintf(title, sizeof title, "Accuracy vs compute - every subnet of every %s model", arch->arch ? arch->arch : "");
    set_title(&cmds, title);
    sb_printf(&cmds, "set xlabel 'MFLOPs per image (2 x MACs)'\nset ylabel 'top-1 accuracy (%%)'\n%s\n", sb_str(&plot));
    sb_free(&plot);
    return draw(f, name, title, &data, &cmds);
}

static int acc_mflops_figures(Fig *f) {
    const RunData *d = f->d;
    int several = 0, rc = 0;
    long first_trained = -1; /* synthetic models have no accuracy: no figure, and they count for no architecture */
    for (size_t i = 0; i < d->n_models; i++) {
        if (d->models[i].synthetic) continue;
        if (first_trained < 0) first_trained = (long)i;
        else several |= !agg_same_arch(&d->models[first_trained], &d->models[i]);
    }
    for (size_t i = 0; i < d->n_models && !rc; i++) { /* one figure per architecture, at its first model */
        int first = !d->models[i].synthetic;
        for (size_t k = 0; k < i && first; k++) first = d->models[k].synthetic || !agg_same_arch(&d->models[k], &d->models[i]);
        if (first) rc = acc_mflops_figure(f, i, several);
    }
    return rc;
}

/* ---- latency against width per mapping, one figure per group ---- */

static double point_width(const AggPoint *p) {
    if (p->subnet && !isnan(p->subnet->width)) return p->subnet->width;
    return p->subnet_index >= 0 ? p->subnet_index : NAN;
}

static int latency_width_figure(Fig *f, const AggGroup *g) {
    char base[192], name[224], title[256];
    safe_name(base, sizeof base, g->label);
    snprintf(name, sizeof name, "latency_width_%s", base);
    int by_width = 1;
    for (size_t i = 0; i < g->n_points; i++)
        if (!g->points[i].subnet || isnan(g->points[i].subnet->width)) by_width = 0;
    snprintf(title, sizeof title, "Latency vs %s per core mapping - %s%s", by_width ? "width" : "subnet", g->label,
             g->n_frequencies > 1 ? " (reference frequency)" : "");
    StrBuf data = {0}, cmds = {0}, plot = {0};
    size_t block = 0;
    for (size_t i = 0; i < g->n_points; i++) {
        const char *mapping = g->points[i].mapping;
        int first = 1;
        for (size_t k = 0; k < i && first; k++)
            if (!strcmp(g->points[k].mapping, mapping)) first = 0;
        if (!first) continue;
        sb_printf(&data, "# %s: width latency_ms subnet\n", mapping);
        /* points of this mapping at the reference frequency, by width */
        for (int idx = 0; idx < 4096; idx++) {
            int found = 0;
            for (size_t k = 0; k < g->n_points; k++) {
                const AggPoint *p = &g->points[k];
                if (strcmp(p->mapping, mapping) || p->frequency_khz != g->ref_frequency_khz || p->subnet_index != idx) continue;
                double w = by_width ? point_width(p) : idx;
                if (!isnan(p->p50_s)) sb_printf(&data, "%.6g %.9g \"%s\"\n", w, p->p50_s * 1e3, p->m->subnet);
                found = 1;
            }
            if (!found && idx > 64) break;
        }
        sb_append(&data, "\n\n");
        series(&plot, name, block, "with linespoints pt 7 lw 2", (int)block + 1, mapping);
        block++;
    }
    if (!plot.len) {
        sb_free(&data), sb_free(&plot);
        return 0;
    }
    set_title(&cmds, title);
    sb_printf(&cmds, "set xlabel '%s'\nset ylabel 'median latency per inference (ms)'\nset yrange [0:*]\n%s\n",
              by_width ? "subnet size (MACs as a fraction of the largest subnet)" : "subnet index (0 = smallest)", sb_str(&plot));
    sb_free(&plot);
    return draw(f, name, title, &data, &cmds);
}

/* ---- DVFS x mapping heat map of the largest subnet ---- */

static int heatmap_figure(Fig *f, const AggGroup *g) {
    int top = -1;
    for (size_t i = 0; i < g->n_points; i++)
        if (g->points[i].subnet_index > top) top = g->points[i].subnet_index;
    const char *maps[64];
    long long freqs[64];
    size_t nm = 0, nf = 0;
    for (size_t i = 0; i < g->n_points; i++) {
        const AggPoint *p = &g->points[i];
        size_t k;
        for (k = 0; k < nm && strcmp(maps[k], p->mapping); k++) {
        }
        if (k == nm && nm < 64) maps[nm++] = p->mapping;
        for (k = 0; k < nf && freqs[k] != p->frequency_khz; k++) {
        }
        if (k == nf && nf < 64) freqs[nf++] = p->frequency_khz;
    }
    for (size_t i = 1; i < nf; i++) /* ascending frequencies */
        for (size_t k = i; k > 0 && freqs[k - 1] > freqs[k]; k--) {
            long long t = freqs[k];
            freqs[k] = freqs[k - 1], freqs[k - 1] = t;
        }
    char base[192], name[224], title[256];
    safe_name(base, sizeof base, g->label);
    snprintf(name, sizeof name, "dvfs_mapping_%s", base);
    snprintf(title, sizeof title, "Largest subnet latency (ms) by frequency and core mapping - %s", g->label);
    StrBuf data = {0}, cmds = {0};
    sb_append(&data, "# mapping_index freq_index latency_ms\n");
    for (size_t fi = 0; fi < nf; fi++) {
        for (size_t mi = 0; mi < nm; mi++) {
            double v = NAN;
            for (size_t i = 0; i < g->n_points; i++) {
                const AggPoint *p = &g->points[i];
                if (p->subnet_index == top && p->frequency_khz == freqs[fi] && !strcmp(p->mapping, maps[mi])) v = p->p50_s * 1e3;
            }
            if (isnan(v)) sb_printf(&data, "%zu %zu ?\n", mi, fi);
            else sb_printf(&data, "%zu %zu %.6g\n", mi, fi, v);
        }
        sb_append(&data, "\n");
    }
    set_title(&cmds, title);
    sb_append(&cmds, "set datafile missing '?'\nset xlabel 'core mapping'\nset ylabel 'CPU frequency (MHz)'\n"
                     "set cblabel 'median latency (ms)'\nset palette rgbformulae 33,13,10\nunset grid\nset key off\n");
    sb_printf(&cmds, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\nset xtics (", nm - 1, nf - 1);
    for (size_t mi = 0; mi < nm; mi++) {
        char q[160];
        plot_quote(q, sizeof q, maps[mi]);
        sb_printf(&cmds, "%s%s %zu", mi ? ", " : "", q, mi);
    }
    sb_append(&cmds, ")\nset ytics (");
    for (size_t fi = 0; fi < nf; fi++) sb_printf(&cmds, "%s'%lld' %zu", fi ? ", " : "", freqs[fi] / 1000, fi);
    sb_printf(&cmds, ")\nplot '%s.dat' using 1:2:3 with image, '' using 1:2:(sprintf('%%.2f', $3)) with labels tc rgb 'black'\n",
              name);
    return draw(f, name, title, &data, &cmds);
}

/* ---- dynamic-range bars ---- */

static int ranges_figure(Fig *f, int energy) {
    StrBuf data = {0}, cmds = {0};
    int any = 0;
    sb_append(&data, "# group width mapping dvfs combined (max/min)\n");
    for (size_t i = 0; i < f->a->n_groups; i++) {
        const AggGroup *g = &f->a->groups[i];
        const AggRanges *r = energy ? &g->energy : &g->latency;
        if (isnan(r->combined)) continue;
        double v[4] = {r->width, r->mapping, g->ref_frequency_khz > 0 ? r->dvfs : NAN, r->combined}; /* no sweep: no bar */
        sb_printf(&data, "\"%s\"", g->label);
        for (int k = 0; k < 4; k++) {
            if (isnan(v[k])) sb_append(&data, " ?");
            else sb_printf(&data, " %.6g", v[k]);
        }
        sb_append_char(&data, '\n');
        any = 1;
    }
    if (!any) {
        sb_free(&data);
        return 0;
    }
    const char *name = energy ? "ranges_energy" : "ranges_latency";
    char title[256];
    snprintf(title, sizeof title, "Dynamic range of %s (max / min) per method, platform, batch", energy ? "energy" : "latency");
    set_title(&cmds, title);
    sb_printf(&cmds,
              "set datafile missing '?'\nset style data histograms\nset style histogram clustered gap 1\n"
              "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset yrange [0:*]\nset xtics rotate by 30 right nomirror\n"
              "set ylabel 'dynamic range of %s (max / min, x)'\nset xlabel 'method / platform / batch'\n"
              "plot '%s.dat' using 2:xtic(1) title 'width only', '' using 3 title 'width + mapping', "
              "'' using 4 title 'width + DVFS', '' using 5 title 'all combined'\n",
              energy ? "energy" : "latency", name);
    return draw(f, name, title, &data, &cmds);
}

int report_figures(const RunData *d, const Aggregate *a, const char *dir, ReportFigures *out, Err *err) {
    memset(out, 0, sizeof *out);
    Fig f = {.d = d, .a = a, .dir = dir, .out = out, .err = err};
    int rc = 0;
    for (size_t i = 0; i < a->n_groups && !rc; i++) {
        const AggGroup *g = &a->groups[i];
        int first = 1;
        for (size_t k = 0; k < i && first; k++)
            if (!strcmp(a->groups[k].platform, g->platform) && a->groups[k].batch == g->batch) first = 0;
        if (!first) continue;
        rc = acc_cost_figure(&f, g, 0);
        if (!rc) rc = acc_cost_figure(&f, g, 1);
    }
    if (!rc) rc = acc_mflops_figures(&f);
    for (size_t i = 0; i < a->n_groups && !rc; i++) {
        rc = latency_width_figure(&f, &a->groups[i]);
        if (!rc && a->groups[i].n_frequencies > 1) rc = heatmap_figure(&f, &a->groups[i]);
    }
    if (!rc) rc = ranges_figure(&f, 0);
    if (!rc) rc = ranges_figure(&f, 1);
    if (rc) report_figures_free(out);
    return rc;
}

void report_figures_free(ReportFigures *f) {
    free(f->items);
    memset(f, 0, sizeof *f);
}
