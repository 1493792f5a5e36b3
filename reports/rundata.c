/* reports/rundata.c — freeing and looking into a run's results (see rundata.h). */
#include "reports/rundata.h"

#include <stdlib.h>
#include <string.h>

void rundata_free(RunData *d) {
    char **strings[] = {&d->uuid, &d->experiment, &d->status, &d->spec_path, &d->spec_sha256, &d->git_commit, &d->build_id,
                        &d->dynn_version, &d->host, &d->cpu_model, &d->compiler, &d->cflags};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) free(*strings[i]);
    for (size_t i = 0; i < d->n_models; i++) {
        RdModel *m = &d->models[i];
        for (size_t k = 0; k < m->n_subnets; k++) free(m->subnets[k].name);
        free(m->subnets);
        free(m->stage);
        free(m->method);
        free(m->arch);
    }
    free(d->models);
    for (size_t i = 0; i < d->n_meas; i++) {
        RdMeasurement *m = &d->meas[i];
        free(m->stage), free(m->platform), free(m->subnet), free(m->cpus), free(m->latency_s);
    }
    free(d->meas);
    memset(d, 0, sizeof *d);
}

const RdSubnet *rundata_subnet(const RdModel *m, const char *name) {
    for (size_t i = 0; i < m->n_subnets; i++)
        if (!strcmp(m->subnets[i].name, name)) return &m->subnets[i];
    return NULL;
}

const char *rundata_status_text(const RunData *d) {
    if (d->status && !strcmp(d->status, "RUNNING")) return "RUNNING when this report was written (a stage of the run)";
    return d->status ? d->status : "unknown";
}
