/* pipeline/status.h — what `dynn run` prints while it runs: one line per stage state change and,
 * on a terminal, a live summary line (done / running / queued / failed, elapsed) redrawn below
 * them; plain lines only otherwise. With --json the lines go to stderr and a JSON summary of the
 * run (every stage's state, time, key, error and log) to stdout at the end. */
#ifndef DYNN_PIPELINE_STATUS_H
#define DYNN_PIPELINE_STATUS_H

#include <stdio.h>

#include "pipeline/runner.h"

typedef struct StatusPrinter {
    FILE *lines;    /* state changes and the summary */
    FILE *json;     /* NULL unless --json */
    int live;       /* redraw a summary line (a terminal) */
    int summary_shown;
    double last_draw;
    size_t ended;   /* instances in a final state */
} StatusPrinter;

void status_printer_init(StatusPrinter *p, FILE *lines, FILE *json, int live);
RunObserver status_observer(StatusPrinter *p);

#endif
