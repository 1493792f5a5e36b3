/* cli/cmd_stage_exec.c — `dynn stage-exec FILE` (one stage instance from its description: what
 * the spawn executor, and a batch-system executor later, starts per stage) and `dynn stage-exec
 * --serve` (the local executor's fork server). Internal: started by `dynn run`. */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "pipeline/stage_exec.h"

int cmd_stage_exec(int argc, char **argv) {
    const char *file = NULL;
    int serve = 0;
    size_t n_pos = 0;
    const CliOpt opts[] = {
        {.name = "serve", .kind = CLIOPT_FLAG, .dest = &serve,
         .help = "read \"RUN\\tDESC\\tLOG\" lines on stdin and fork one stage process per line"},
    };
    const CliOptCommand c = {.name = "stage-exec", .synopsis = "FILE | --serve",
                             .summary = "  (internal) runs one stage instance from its description FILE, writing its records file.\n",
                             .opts = opts, .n_opts = 1, .pos = &file, .max_pos = 1, .n_pos = &n_pos};
    int prc = cliopt_main(&c, argc, argv);
    if (prc >= 0) return prc;
    if (!file == !serve) return cli_missing(&c, file ? "FILE and --serve are exclusive" : "expected FILE or --serve");
    if (serve) return zygote_serve();
    stage_exec_guard();
    Err err;
    int rc = stage_exec_run(file, &err);
    if (rc < 0) {
        fprintf(stderr, "dynn stage-exec: %s\n", err.msg);
        return 2;
    }
    return rc;
}
