/* util/table.c — typed text tables and their three printed forms (see table.h). */
#include "util/table.h"

#include <stdlib.h>
#include <string.h>

#include "util/json_out.h"

int table_init(Table *t, const char *const *cols, size_t n_cols) {
    memset(t, 0, sizeof *t);
    t->cols = calloc(n_cols ? n_cols : 1, sizeof *t->cols);
    if (!t->cols) return -1;
    t->n_cols = n_cols;
    for (size_t i = 0; i < n_cols; i++)
        if (!(t->cols[i] = strdup(cols[i]))) return -1;
    return 0;
}

long table_add_row(Table *t) {
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
        Cell *cells = realloc(t->cells, cap * (t->n_cols ? t->n_cols : 1) * sizeof *cells);
        if (!cells) return -1;
        t->cells = cells;
        t->cap_rows = cap;
    }
    memset(t->cells + t->n_rows * t->n_cols, 0, t->n_cols * sizeof *t->cells);
    return (long)t->n_rows++;
}

int table_set(Table *t, size_t row, size_t col, CellType type, const char *text) {
    Cell *c = &t->cells[row * t->n_cols + col];
    free(c->text);
    c->text = NULL;
    c->type = CELL_NULL;
    if (!text || type == CELL_NULL) return 0;
    if (!(c->text = strdup(text))) return -1;
    c->type = type;
    return 0;
}

const Cell *table_cell(const Table *t, size_t row, size_t col) { return &t->cells[row * t->n_cols + col]; }

void table_free(Table *t) {
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) free(t->cells[i].text);
    for (size_t i = 0; t->cols && i < t->n_cols; i++) free(t->cols[i]);
    free(t->cells);
    free(t->cols);
    memset(t, 0, sizeof *t);
}

/* Display width of UTF-8 text (code points; good enough for names and numbers). */
static size_t text_width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) w++;
    return w;
}

/* One line per cell: newlines and tabs in a value would break the columns. */
static void print_flat(FILE *fp, const char *s) {
    for (; *s; s++) fputc(*s == '\n' || *s == '\t' || *s == '\r' ? ' ' : *s, fp);
}

void table_print_text(const Table *t, FILE *fp) {
    size_t *width = calloc(t->n_cols ? t->n_cols : 1, sizeof *width);
    if (!width) return;
    for (size_t c = 0; c < t->n_cols; c++) width[c] = text_width(t->cols[c]);
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++) {
            const Cell *cell = table_cell(t, r, c);
            size_t w = cell->text ? text_width(cell->text) : 1;
            if (w > width[c]) width[c] = w;
        }
    for (size_t c = 0; c < t->n_cols; c++)
        fprintf(fp, "%s%-*s", c ? "  " : "", c + 1 < t->n_cols ? (int)width[c] : 0, t->cols[c]);
    fputc('\n', fp);
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const Cell *cell = table_cell(t, r, c);
            const char *s = cell->text ? cell->text : "-";
            size_t pad = width[c] - text_width(s);
            int numeric = cell->type == CELL_INT || cell->type == CELL_REAL;
            if (c) fputs("  ", fp);
            if (numeric)
                for (size_t i = 0; i < pad; i++) fputc(' ', fp);
            print_flat(fp, s);
            if (!numeric && c + 1 < t->n_cols)
                for (size_t i = 0; i < pad; i++) fputc(' ', fp);
        }
        fputc('\n', fp);
    }
    free(width);
}

static void print_csv_field(FILE *fp, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

void table_print_csv(const Table *t, FILE *fp) {
    for (size_t c = 0; c < t->n_cols; c++) {
        if (c) fputc(',', fp);
        print_csv_field(fp, t->cols[c]);
    }
    fputc('\n', fp);
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            if (c) fputc(',', fp);
            const Cell *cell = table_cell(t, r, c);
            if (cell->text) print_csv_field(fp, cell->text);
        }
        fputc('\n', fp);
    }
}

void table_print_json(const Table *t, FILE *fp) {
    JsonOut j;
    json_init(&j, fp);
    json_array_begin(&j);
    for (size_t r = 0; r < t->n_rows; r++) {
        json_object_begin(&j);
        for (size_t c = 0; c < t->n_cols; c++) {
            const Cell *cell = table_cell(t, r, c);
            json_key(&j, t->cols[c]);
            switch (cell->type) {
            case CELL_NULL: json_null(&j); break;
            case CELL_INT: json_int(&j, strtoll(cell->text, NULL, 10)); break;
            case CELL_REAL: json_number(&j, strtod(cell->text, NULL)); break;
            case CELL_TEXT: json_string(&j, cell->text); break;
            }
        }
        json_object_end(&j);
    }
    json_array_end(&j);
    json_finish(&j);
}
