/* reports/stage_report.c — the `report` stage type: the run report (reports/report.h) of the stages it
 * needs, directly or not, written to a directory below the working directory.
 *
 *   params:
 *     out: reports/quick     # required; replaced as a whole (report.md, report.html, plots/)
 *
 * `out` is checked by report_dest_check() at validation (working directory: the current one, state
 * directory: the default .dynn) and again when the stage runs (the run's working directory and
 * database). report.md, report.html and the marker .dynn-report become artifacts (kind "file"), so a
 * cached report stage puts them back when they were deleted. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "reports/report.h"
#include "reports/stage_results.h"
#include "reports/stage_types.h"
#include "stages/exec.h"
#include "util/fs.h"

static int report_validate(const StageCheck *c, Err *err) {
    static const char *const keys[] = {"out"};
    char context[300];
    snprintf(context, sizeof context, "params of stage '%s' (report)", c->stage);
    if (ynode_check_keys(c->params, keys, 1, c->file, context, err)) return -1;
    const YNode *out = ynode_get(c->params, "out");
    if (!out) return ynode_err(err, c->file, c->at, "stage '%s' (report) is missing param 'out' (the report directory)", c->stage);
    if (stage_check_relative_path(c, out, "'out'", err)) return -1;
    char cwd[PATH_MAX], dir[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return err_set(err, "cannot read the current directory: %s", strerror(errno));
    Err why;
    if (report_dest_check(out->str, cwd, DB_DEFAULT_PATH, dir, sizeof dir, &why))
        return ynode_err(err, c->file, out, "stage '%s': 'out' %s", c->stage, why.msg);
    return 0;
}

static int report_run_stage(const StageRun *run, Err *err) {
    const char *out = ynode_get(run->params, "out")->str;
    char dir[PATH_MAX];
    if (fs_join(dir, sizeof dir, run->workdir, out)) return err_set(err, "%s: path too long", out);
    RunData d;
    if (stage_load_results(run, &d, err)) return -1;
    size_t n_figures = 0;
    int rc = report_write(&d, out, run->workdir, run->db_path ? run->db_path : DB_DEFAULT_PATH, &n_figures, err);
    rundata_free(&d);
    if (rc) return -1;
    printf("report in %s: report.md, report.html, %zu figures\n", dir, n_figures);
    static const char *const files[] = {"report.md", "report.html", REPORT_MARKER};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[PATH_MAX], name[PATH_MAX];
        snprintf(name, sizeof name, "%s/%s", out, files[i]);
        if (fs_join(path, sizeof path, dir, files[i]) || run->sink->artifact(run->sink, name, path, "file", err)) return -1;
    }
    return 0;
}

const StageType stage_type_report = {
    .name = "report",
    .summary = "plots, report.md and report.html of the train/profile/aggregate stages it needs",
    .validate = report_validate,
    .run = report_run_stage,
};
