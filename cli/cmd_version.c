/* cli/cmd_version.c — `dynn version`: the build info of util/version.h, the kernel set that runs
 * (nn/kernel_set.h) and the OpenBLAS core (nn/blas_core.h), as text or JSON. */
#include <stdio.h>

#include "cli/commands.h"
#include "nn/blas_core.h"
#include "nn/kernel_set.h"
#include "util/cliopt.h"
#include "util/json_out.h"
#include "util/version.h"

int cmd_version(int argc, char **argv) {
    const BuildInfo *bi = dynn_build_info();
    int json = 0;
    const CliOpt opts[] = {{.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "one JSON object on stdout"}};
    const CliOptCommand c = {.name = "version", .synopsis = "[--json]",
                             .summary = "  prints the version, git commit, compiler and flags of this build, the kernel set that\n"
                                        "  runs (DYNN_KERNELS forces one) and the ones this CPU supports, and the OpenBLAS kernels\n", .opts = opts,
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
        json_key(&j, "kernel_set"); json_string(&j, kernel_set()->name);
        json_key(&j, "kernel_isa"); json_string(&j, kernel_set()->isa);
        json_key(&j, "kernel_set_reason"); json_string(&j, kernel_set_reason());
        json_key(&j, "kernel_sets");
        json_array_begin(&j);
        for (int i = 0; i < kernel_set_count(); i++) {
            json_object_begin(&j);
            json_key(&j, "name"); json_string(&j, kernel_set_at(i)->name);
            json_key(&j, "isa"); json_string(&j, kernel_set_at(i)->isa);
            json_key(&j, "supported"); json_bool(&j, kernel_set_supported(i));
            json_object_end(&j);
        }
        json_array_end(&j);
        json_key(&j, "conv3x3"); json_string(&j, kernel_set_conv_algo_name());
        json_key(&j, "blas_core"); json_string(&j, blas_core_name());
        json_object_end(&j);
        json_finish(&j);
    } else {
        printf("dynn %s (commit %s%s)\ncompiler: %s\nflags: %s\n", bi->version, bi->git_commit,
               bi->git_dirty ? ", dirty" : "", bi->compiler, bi->cflags);
        printf("kernels: %s (%s; %s); this build has:", kernel_set()->name, kernel_set()->isa, kernel_set_reason());
        for (int i = 0; i < kernel_set_count(); i++)
            printf(" %s%s", kernel_set_at(i)->name, kernel_set_supported(i) ? "" : " (not on this CPU)");
        printf("\nconv3x3: %s\nblas: OpenBLAS %s kernels\n", kernel_set_conv_algo_name(), blas_core_name());
    }
    return 0;
}
