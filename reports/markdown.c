/* reports/markdown.c — report.md: title, one Markdown table per section, then the figures (PNG links). */
#include <stdio.h>
#include <string.h>

#include "reports/report.h"
#include "util/atomic_file.h"
#include "util/strbuf.h"

/* A cell: '|' escaped, newlines flattened. */
static void cell(StrBuf *sb, const char *s) {
    for (; *s; s++) {
        if (*s == '|') sb_append(sb, "\\|");
        else sb_append_char(sb, *s == '\n' ? ' ' : *s);
    }
}

static void table_md(StrBuf *sb, const Table *t) {
    sb_append(sb, "|");
    for (size_t c = 0; c < t->n_cols; c++) sb_append(sb, " "), cell(sb, t->cols[c]), sb_append(sb, " |");
    sb_append(sb, "\n|");
    for (size_t c = 0; c < t->n_cols; c++) {
        int numeric = t->n_rows && table_cell(t, 0, c)->type == CELL_REAL;
        sb_append(sb, numeric ? " ---: |" : " --- |");
    }
    sb_append_char(sb, '\n');
    for (size_t r = 0; r < t->n_rows; r++) {
        sb_append(sb, "|");
        for (size_t c = 0; c < t->n_cols; c++) {
            const Cell *x = table_cell(t, r, c);
            sb_append(sb, " ");
            cell(sb, x->text ? x->text : "-");
            sb_append(sb, " |");
        }
        sb_append_char(sb, '\n');
    }
}

int report_markdown(const char *path, const RunData *d, const ReportSections *s, const ReportFigures *f, Err *err) {
    StrBuf sb = {0};
    sb_printf(&sb, "# dynn report: %s\n\nRun `%s` (%s). Figures are in `plots/` (PNG and SVG, with their data and gnuplot "
                   "scripts); `report.html` is the same report as one page.\n\n",
              d->experiment, d->uuid, rundata_status_text(d));
    for (size_t i = 0; i < s->n; i++) {
        const ReportSection *x = &s->items[i];
        sb_printf(&sb, "## %s\n\n", x->title);
        if (x->note[0]) sb_printf(&sb, "%s\n\n", x->note);
        if (x->table.n_cols && x->table.n_rows) {
            table_md(&sb, &x->table);
            sb_append_char(&sb, '\n');
        }
    }
    if (f->n) {
        sb_append(&sb, "## Figures\n\n");
        for (size_t i = 0; i < f->n; i++)
            sb_printf(&sb, "### %s\n\n![%s](plots/%s.png)\n\n", f->items[i].title, f->items[i].title, f->items[i].name);
    }
    int rc = sb.oom ? err_set(err, "out of memory") : atomic_write_file(path, sb.data, sb.len, err);
    sb_free(&sb);
    return rc;
}
