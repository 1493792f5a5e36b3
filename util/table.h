/* util/table.h — rows of text cells with a type tag, printed as an aligned table, CSV or JSON.
 *
 * The read commands (`dynn runs`, `status`, `show`, `query`, `compare`) fill a Table from the
 * database and print it in the format asked for, so every command gets --csv / --json the same way. */
#ifndef DYNN_UTIL_TABLE_H
#define DYNN_UTIL_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef enum { CELL_NULL, CELL_INT, CELL_REAL, CELL_TEXT } CellType;

typedef struct Cell {
    CellType type;
    char *text; /* NULL for CELL_NULL */
} Cell;

typedef struct Table {
    size_t n_cols, n_rows, cap_rows;
    char **cols;
    Cell *cells; /* n_rows * n_cols, row-major */
} Table;

/* Starts a table with the given column names (copied). Returns -1 when out of memory. */
int table_init(Table *t, const char *const *cols, size_t n_cols);
/* Appends an empty row (all NULL cells); returns its index or -1. */
long table_add_row(Table *t);
/* Sets a cell (text copied; NULL text makes a NULL cell). Returns -1 when out of memory. */
int table_set(Table *t, size_t row, size_t col, CellType type, const char *text);
const Cell *table_cell(const Table *t, size_t row, size_t col);
void table_free(Table *t);

/* Aligned columns with a header line; NULL cells print as "-"; numbers right-aligned. */
void table_print_text(const Table *t, FILE *fp);
/* RFC 4180 CSV with a header line; NULL cells are empty. */
void table_print_csv(const Table *t, FILE *fp);
/* An array of objects keyed by column name; numbers stay numbers, NULL is null. */
void table_print_json(const Table *t, FILE *fp);

#endif
