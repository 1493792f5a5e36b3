/* reports/stage_results.c — a summarizing stage's view of its run's results (see stage_results.h). */
#include "reports/stage_results.h"

#include "db/db.h"

int stage_load_results(const StageRun *run, RunData *d, Err *err) {
    if (!run->db_path || !run->db_path[0] || !run->run_uuid || !run->run_uuid[0])
        return err_set(err, "stage '%s' (%s) reads the results database and runs only inside `dynn run`", run->name, run->type);
    Db *db;
    if (db_open_readonly(run->db_path, &db, err)) return -1;
    int64_t run_id;
    char uuid[40];
    int rc = db_resolve_run(db, run->run_uuid, &run_id, uuid, err) || db_load_run_data(db, run_id, run->name, d, err) ? -1 : 0;
    db_close(db);
    if (rc) return -1;
    if (!d->n_models && !d->n_meas) {
        rundata_free(d);
        return err_set(err, "stage '%s' (%s): none of the stages it needs recorded per-subnet accuracy or measurements; "
                            "list the train and profile stages under its `needs`", run->name, run->type);
    }
    return 0;
}
