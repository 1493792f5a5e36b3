/* cli/cmd_stage_exec.c — `dynn stage-exec FILE` (one stage instance from its description: what
 * the spawn executor, and a batch-system executor later, starts per stage) and `dynn stage-exec
 * --serve` (the local executor's fork server). Internal: started by `dynn run`. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "pipeline/stage_exec.h"

int cmd_stage_exec(int argc, char **argv) {
    if (argc != 2 || cli_is_help(argv[1])) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: dynn stage-exec FILE | --serve\n"
                "  (internal) runs one stage instance from its description FILE, writing its records file;\n"
                "  --serve reads \"RUN\\tDESC\\tLOG\" lines and forks one stage process per line.\n");
        return argc == 2 ? 0 : 2;
    }
    if (!strcmp(argv[1], "--serve")) return zygote_serve();
    stage_exec_guard();
    Err err;
    int rc = stage_exec_run(argv[1], &err);
    if (rc < 0) {
        fprintf(stderr, "dynn stage-exec: %s\n", err.msg);
        return 2;
    }
    return rc;
}
