/* pipeline/status.c — progress lines, live summary and the --json report of `dynn run`
 * (see status.h). */
#include "pipeline/status.h"

#include <math.h>
#include <string.h>

#include "util/provenance.h"
#include "util/fs.h"
#include "util/json_out.h"

void status_printer_init(StatusPrinter *p, FILE *lines, FILE *json, int live) {
    memset(p, 0, sizeof *p);
    p->lines = lines;
    p->json = json;
    p->live = live;
}

static int is_final(NodeState s) { return s != NODE_QUEUED && s != NODE_RUNNING; }

static void clear_summary(StatusPrinter *p) {
    if (p->summary_shown) fputs("\r\033[K", p->lines);
    p->summary_shown = 0;
}

static void draw_summary(StatusPrinter *p, const RunState *rs) {
    if (!p->live) return;
    clear_summary(p);
    size_t done = rs->count[NODE_FINISHED] + rs->count[NODE_CACHED];
    fprintf(p->lines, "%zu/%zu done · %zu running · %zu queued · %zu failed · %.1f s", done, rs->n_selected,
            rs->count[NODE_RUNNING], rs->count[NODE_QUEUED], rs->count[NODE_FAILED] + rs->count[NODE_KILLED],
            provenance_now() - rs->started);
    fflush(p->lines);
    p->summary_shown = 1;
    p->last_draw = provenance_now();
}

static void on_started(void *ctx, const RunState *rs) {
    StatusPrinter *p = ctx;
    fprintf(p->lines, "run %.8s: %zu stage%s (logs in %s/logs/%s)\n", rs->uuid, rs->n_selected,
            rs->n_selected == 1 ? "" : "s", rs->state_dir, rs->uuid);
    fflush(p->lines);
    draw_summary(p, rs);
}

/* Whether an earlier run left the stage something to go on from: its resume directory holds a file
 * (a stage makes the directory when it starts, empty until its first snapshot). */
static int left_to_resume(const RunState *rs, const RunNode *n, char *dir, size_t size) {
    runner_resume_dir(rs->state_dir, n->key, dir, size);
    return fs_dir_files(dir, NULL) > 0;
}

static void on_changed(void *ctx, const RunState *rs, size_t i) {
    StatusPrinter *p = ctx;
    const RunNode *n = &rs->nodes[i];
    clear_summary(p);
    if (is_final(n->state)) p->ended++;
    int width = snprintf(NULL, 0, "%zu", rs->n_selected);
    if (is_final(n->state)) fprintf(p->lines, "[%*zu/%zu] ", width, p->ended, rs->n_selected);
    else fprintf(p->lines, "[%*s/%zu] ", width, "", rs->n_selected);
    fprintf(p->lines, "%-8s %s", node_state_name(n->state), rs->dag->inst[i].name);
    char resume[4096];
    if (n->state == NODE_RUNNING && left_to_resume(rs, n, resume, sizeof resume))
        fprintf(p->lines, "  (goes on where an interrupted run stopped: %s)", resume);
    if (n->state == NODE_FINISHED || n->state == NODE_FAILED || n->state == NODE_KILLED)
        fprintf(p->lines, "  %.2f s", n->ended - n->started);
    if (n->state == NODE_FAILED && n->error) fprintf(p->lines, "  %s", n->error);
    if ((n->state == NODE_FAILED || n->state == NODE_KILLED) && n->log) fprintf(p->lines, "  (log: %s)", n->log);
    fputc('\n', p->lines);
    fflush(p->lines);
    draw_summary(p, rs);
}

/* Ticks come after every batch of events; the elapsed time only needs a redraw now and then. */
static void on_tick(void *ctx, const RunState *rs) {
    StatusPrinter *p = ctx;
    double now = provenance_now();
    if (now - p->last_draw < 0.2) return;
    draw_summary(p, rs);
}

static void write_json(FILE *fp, const RunState *rs, const char *status) {
    JsonOut j;
    json_init(&j, fp);
    json_object_begin(&j);
    json_key(&j, "run");
    json_string(&j, rs->uuid);
    json_key(&j, "status");
    json_string(&j, status);
    json_key(&j, "seconds");
    json_number(&j, provenance_now() - rs->started);
    json_key(&j, "counts");
    json_object_begin(&j);
    for (int s = 0; s < NODE_STATES; s++) {
        json_key(&j, node_state_name((NodeState)s));
        json_int(&j, (long long)rs->count[s]);
    }
    json_object_end(&j);
    json_key(&j, "stages");
    json_array_begin(&j);
    for (size_t k = 0; k < rs->dag->n; k++) {
        size_t i = rs->dag->order[k];
        const RunNode *n = &rs->nodes[i];
        if (!n->selected) continue;
        json_object_begin(&j);
        json_key(&j, "name");
        json_string(&j, rs->dag->inst[i].name);
        json_key(&j, "status");
        json_string(&j, node_state_name(n->state));
        json_key(&j, "seconds");
        if (n->started && n->ended) json_number(&j, n->ended - n->started);
        else json_null(&j);
        json_key(&j, "key");
        json_string(&j, n->key[0] ? n->key : NULL);
        json_key(&j, "error");
        json_string(&j, n->error);
        json_key(&j, "log");
        json_string(&j, n->log);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_finish(&j);
}

static void on_finished(void *ctx, const RunState *rs, const char *status) {
    StatusPrinter *p = ctx;
    clear_summary(p);
    fprintf(p->lines, "run %.8s %s: %zu stage%s — %zu ran, %zu cached, %zu failed, %zu killed, %zu skipped — %.2f s\n", rs->uuid,
            status, rs->n_selected, rs->n_selected == 1 ? "" : "s", rs->count[NODE_FINISHED], rs->count[NODE_CACHED],
            rs->count[NODE_FAILED], rs->count[NODE_KILLED], rs->count[NODE_SKIPPED], provenance_now() - rs->started);
    fflush(p->lines);
    if (p->json) write_json(p->json, rs, status);
}

RunObserver status_observer(StatusPrinter *p) {
    return (RunObserver){.ctx = p, .started = on_started, .changed = on_changed, .tick = p->live ? on_tick : NULL,
                         .finished = on_finished};
}
