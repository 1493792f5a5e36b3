/* cli/cmd_version.c — `dynn version`: the build info of util/version.h as text or JSON. */
#include <stdio.h>

#include "cli/commands.h"
#include "util/cliopt.h"
#include "util/json_out.h"
#include "util/version.h"

int cmd_version(int argc, char **argv) {
    const BuildInfo *bi = dynn_build_info();
    int json = 0;
    const CliOpt opts[] = {{.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "one JSON object on stdout"}};
    const CliOptCommand c = {.name = "version", .synopsis = "[--json]",
                             .summary = "  prints the version, git commit, compiler and flags of this build\n", .opts = opts,
                             .n_opts = 1};
    int rc = cliopt_main(&c, argc, argv);
    if (rc >= 0) return rc;
    if (json) {
        JsonOut j;
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "version"); json_string(&j, bi->version);
        json_key(&j, "git_commit"); json_string(&j, bi->git_commit);
        json_key(&j, "git_dirty"); json_bool(&j, bi->git_dirty);
        json_key(&j, "compiler"); json_string(&j, bi->compiler);
        json_key(&j, "cflags"); json_string(&j, bi->cflags);
        json_key(&j, "build_id"); json_string(&j, dynn_build_id());
        json_object_end(&j);
        json_finish(&j);
    } else {
        printf("dynn %s (commit %s%s)\ncompiler: %s\nflags: %s\n", bi->version, bi->git_commit,
               bi->git_dirty ? ", dirty" : "", bi->compiler, bi->cflags);
    }
    return 0;
}
