/* reports/html.c — report.html: one self-contained page (inline CSS, figures as base64 SVG data
 * URIs, so the SVGs' element ids cannot collide), the same sections as report.md. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report.h"
#include "util/fs.h"
#include "util/atomic_file.h"
#include "util/strbuf.h"

static void esc(StrBuf *sb, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': sb_append(sb, "&lt;"); break;
        case '>': sb_append(sb, "&gt;"); break;
        case '&': sb_append(sb, "&amp;"); break;
        case '"': sb_append(sb, "&quot;"); break;
        default: sb_append_char(sb, *s);
        }
    }
}

static void base64(StrBuf *sb, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char out[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
        sb_append_len(sb, out, 4);
    }
}

static void table_html(StrBuf *sb, const Table *t) {
    sb_append(sb, "<table>\n<tr>");
    for (size_t c = 0; c < t->n_cols; c++) sb_append(sb, "<th>"), esc(sb, t->cols[c]), sb_append(sb, "</th>");
    sb_append(sb, "</tr>\n");
    for (size_t r = 0; r < t->n_rows; r++) {
        sb_append(sb, "<tr>");
        for (size_t c = 0; c < t->n_cols; c++) {
            const Cell *x = table_cell(t, r, c);
            sb_append(sb, x->type == CELL_REAL ? "<td class=n>" : "<td>");
            esc(sb, x->text ? x->text : "-");
            sb_append(sb, "</td>");
        }
        sb_append(sb, "</tr>\n");
    }
    sb_append(sb, "</table>\n");
}

static const char style[] =
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
    "th,td{border:1px solid #ccc;padding:0.25em 0.6em}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "figure{margin:1em 0 2em}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555}"
    "p.note{color:#444}";

int report_html(const char *path, const char *plot_dir, const RunData *d, const ReportSections *s, const ReportFigures *f,
                Err *err) {
    StrBuf sb = {0};
    sb_append(&sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>dynn report: ");
    esc(&sb, d->experiment);
    sb_printf(&sb, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>dynn report: ", style);
    esc(&sb, d->experiment);
    sb_append(&sb, "</h1>\n<p>Run <code>");
    esc(&sb, d->uuid);
    sb_append(&sb, "</code> (");
    esc(&sb, rundata_status_text(d));
    sb_append(&sb, ").</p>\n");
    int rc = 0;
    if (f->n) sb_append(&sb, "<h2>Figures</h2>\n");
    for (size_t i = 0; i < f->n && !rc; i++) {
        char file[PATH_MAX], name[256];
        snprintf(name, sizeof name, "%s.svg", f->items[i].name);
        char *svg = NULL;
        size_t len = 0;
        if (fs_join(file, sizeof file, plot_dir, name)) rc = err_set(err, "%s: path too long", plot_dir);
        if (!rc) rc = fs_read_file(file, &svg, &len, err);
        if (rc) break;
        sb_append(&sb, "<figure><img alt=\"");
        esc(&sb, f->items[i].title);
        sb_append(&sb, "\" src=\"data:image/svg+xml;base64,");
        base64(&sb, (const unsigned char *)svg, len);
        sb_append(&sb, "\"><figcaption>");
        esc(&sb, f->items[i].title);
        sb_append(&sb, "</figcaption></figure>\n");
        free(svg);
    }
    for (size_t i = 0; i < s->n && !rc; i++) {
        const ReportSection *x = &s->items[i];
        sb_append(&sb, "<h2>");
        esc(&sb, x->title);
        sb_append(&sb, "</h2>\n");
        if (x->note[0]) sb_append(&sb, "<p class=note>"), esc(&sb, x->note), sb_append(&sb, "</p>\n");
        if (x->table.n_cols && x->table.n_rows) table_html(&sb, &x->table);
    }
    sb_append(&sb, "</body>\n</html>\n");
    if (!rc && sb.oom) rc = err_set(err, "out of memory");
    if (!rc) rc = atomic_write_file(path, sb.data, sb.len, err);
    sb_free(&sb);
    return rc;
}
