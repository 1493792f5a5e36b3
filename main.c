/* main.c — the `dynn` binary: dispatches `dynn COMMAND ...` to cli/ and pipeline/ commands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "nn/blas_core.h"
#include "nn/kernel_set.h"

const CliCommand dynn_commands[] = {
    {"train", cmd_train, "train a (dynamic) network and write a checkpoint"},
    {"eval", cmd_eval, "test accuracy of a checkpoint"},
    {"info", cmd_info, "architecture, parameters, FLOPs and bytes of a checkpoint"},
    {"version", cmd_version, "build id, commit and compiler flags"},
    {"profile", cmd_profile, "latency, energy and memory of subnets over batch, CPU mapping, threads, frequency"},
    {"devices", cmd_devices, "the inference backends of this build and the devices (CPU, OpenCL) each runs on here"},
    /* pipeline and results database — add yours below this line */
    {"run", cmd_run, "run an experiment file (YAML): stages in parallel, cached, results in SQLite"},
    {"validate", cmd_validate, "check an experiment file without running anything"},
    {"dag", cmd_dag, "the stage graph of an experiment file (text tree, --dot, --json)"},
    {"runs", cmd_runs, "list the runs in the results database"},
    {"status", cmd_status, "stage states of a run (default: the last)"},
    {"show", cmd_show, "provenance, stages, params, metrics and artifacts of a run"},
    {"compare", cmd_compare, "metrics of two runs side by side, with deltas"},
    {"query", cmd_query, "read-only SQL on the results database (table, --csv, --json)"},
    {"report", cmd_report, "plots, Markdown and HTML report of a run (fronts, dynamic ranges, baseline)"},
    {"check", cmd_check, "compare a run's accuracy and relative latency with a baseline file (regression check)"},
    {"fsck", cmd_fsck, "verify the store and the results database (hashes, rows, dead runs, temp files); --repair"},
    {"stage-exec", cmd_stage_exec, "(internal) run one stage instance from its description"},
    {NULL, NULL, NULL},
};

static void usage(FILE *fp) {
    fprintf(fp, "usage: dynn COMMAND [ARGS]   (dynn COMMAND --help for details)\n\ncommands:\n");
    for (const CliCommand *c = dynn_commands; c->name; c++) fprintf(fp, "  %-10s %s\n", c->name, c->summary);
}

int main(int argc, char **argv) {
    blas_core_ensure(argv); /* OpenBLAS kernels of this CPU's vector level (may re-execute) */
    Err err;
    if (kernel_set_init(&err)) { /* DYNN_KERNELS names a set this build or CPU lacks */
        fprintf(stderr, "dynn: %s\n", err.msg);
        return 2;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (const CliCommand *c = dynn_commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "dynn: unknown command '%s'; run 'dynn --help' for the list\n", argv[1]);
    return 2;
}
