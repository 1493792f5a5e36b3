/* cli/cmd_eval.c — `dynn eval MODEL --data SPEC`: test accuracy of a checkpoint's subnets. A
 * synthetic checkpoint (random weights, nn/synthetic.h) is refused: it has no accuracy to measure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/parallel.h"
#include "nn/subnet.h"
#include "nn/train.h"
#include "util/cliopt.h"
#include "util/json_out.h"

static const char EVAL_SUMMARY[] =
    "  prints test accuracy, loss, MMACs and parameters of the chosen subnet(s) (default: all)\n";

/* Subnet selection: "all", a name, or an index; -1 = all. */
static int pick_subnet(const ModelDesc *d, const char *sel, int *out, Err *err) {
    if (!strcmp(sel, "all")) {
        *out = -1;
        return 0;
    }
    for (int i = 0; i < d->n_subnets; i++)
        if (!strcmp(d->subnets[i].name, sel)) {
            *out = i;
            return 0;
        }
    char *end;
    long v = strtol(sel, &end, 10);
    if (*sel && !*end && v >= 0 && v < d->n_subnets) {
        *out = (int)v;
        return 0;
    }
    return err_set(err, "--subnet: no subnet '%s' (this model has %d: use a name from 'dynn info', an index, or all)",
                   sel, d->n_subnets);
}

/* Random weights have no accuracy: refused before any model buffer is allocated (a synthetic model is
 * often too large to train: ResNet-18 at 224x224). */
static int refuse_synthetic(const char *path, Err *err) {
    ModelDesc *d = malloc(sizeof *d);
    if (!d) return err_set(err, "out of memory");
    int rc = checkpoint_read_desc(path, d, NULL, err);
    if (!rc && d->synthetic)
        rc = err_set(err, "%s: synthetic weights (random, never trained: dynn train --synthetic-weights) have no accuracy "
                     "to evaluate; measure its latency with dynn profile", path);
    free(d);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    const char *data_spec = NULL, *subnet_sel = "all", *backend = NULL;
    Backend *be = NULL;
    int threads = 0, batch = 256, test_limit = 0, json = 0, recal = 0;
    float width = 0.0f;
    const char *path = NULL;
    size_t n_pos = 0;
    Err err = {{0}};
    const CliOpt opts[] = {
        {.name = "data", .kind = CLIOPT_STRING, .metavar = "SPEC", .dest = &data_spec,
         .help = "fashion-mnist[:DIR] | mnist:DIR | cifar10:DIR", .dflt = "the dataset recorded in the checkpoint"},
        {.name = "subnet", .kind = CLIOPT_STRING, .metavar = "SEL", .dest = &subnet_sel, .help = "all, a subnet's name or index",
         .dflt = "all"},
        {.name = "batch", .kind = CLIOPT_INT, .metavar = "N", .dest = &batch, .min = 1, .max = 65536, .help = "images per pass",
         .dflt = "256"},
        {.name = "threads", .kind = CLIOPT_INT, .metavar = "T", .dest = &threads, .min = 1, .max = 1024,
         .help = "threads", .dflt = "all available CPUs"},
        {.name = "test-limit", .kind = CLIOPT_INT, .metavar = "N", .dest = &test_limit, .min = 1, .max = 1 << 30,
         .help = "the first N test images"},
        {.name = "backend", .kind = CLIOPT_STRING, .metavar = "SPEC", .dest = &backend,
         .help = "run the forward passes through an inference backend: cpu, opencl,\nopencl:PLATFORM[:DEVICE] (dynn devices lists them); default: the training engine"},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "one JSON object on stdout"},
        {.name = "width", .kind = CLIOPT_FLOAT, .metavar = "W", .dest = &width, .min = 1e-6, .max = 1.0,
         .help = "evaluate a uniform subnet at width W chosen at run time (added if the model\n"
                 "does not have it; shares the weights, BN set copied from the nearest\n"
                 "containing subnet)"},
        {.name = "recalibrate", .kind = CLIOPT_INT, .metavar = "N", .dest = &recal, .min = 1, .max = 100000,
         .help = "re-estimate that subnet's BN statistics from N training batches first"},
    };
    const CliOptCommand c = {.name = "eval", .synopsis = "MODEL.dnn [--data SPEC] [--subnet all|NAME|INDEX] [options]",
                             .summary = EVAL_SUMMARY, .opts = opts, .n_opts = sizeof opts / sizeof *opts, .pos = &path,
                             .max_pos = 1, .n_pos = &n_pos};
    int prc = cliopt_main(&c, argc, argv);
    if (prc >= 0) return prc;
    int bad = 0;
    if (!path) bad = err_set(&err, "expected one checkpoint file (see dynn eval --help)") != 0;
    if (!bad && recal && width <= 0.0f) bad = err_set(&err, "--recalibrate needs --width (the subnet to re-calibrate)") != 0;
    if (!bad && width > 0.0f && strcmp(subnet_sel, "all"))
        bad = err_set(&err, "--width and --subnet are exclusive") != 0;
    Err why;
    if (!bad && backend && !backend_find(backend, &why)) bad = err_set(&err, "--backend: %s", why.msg) != 0;
    if (bad) {
        fprintf(stderr, "dynn eval: %s\n", err.msg);
        return 2;
    }
    threads = nn_set_threads(threads);
    Model m = {0};
    Dataset train = {0}, test = {0};
    int rc = 1, which = -1;
    int width_subnet = -1;
    if (refuse_synthetic(path, &err) || checkpoint_load_width(path, &m, batch, threads, width, &width_subnet, &err))
        goto done;
    if (!data_spec) data_spec = model_desc_get_meta(m.d, "train.data");
    if (!data_spec) data_spec = "fashion-mnist";
    if (width > 0.0f) which = width_subnet;
    else if (pick_subnet(m.d, subnet_sel, &which, &err)) goto done;
    if (dataset_load(data_spec, &train, &test, &err)) goto done;
    if (recal) {
        model_set_subnet(&m, which);
        if (model_recalibrate_bn(&m, &train, recal, 1, &err)) goto done;
    }
    dataset_limit(&test, test_limit);
    if (backend) {
        ModelWeights w;
        if (model_weights_copy(&m, &w, &err)) goto done;
        int orc = backend_open(backend, m.d, &w, batch, threads, &be, &err);
        model_weights_free(&w);
        if (orc) goto done;
    }
    JsonOut j;
    if (json) {
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "model"); json_string(&j, path);
        json_key(&j, "arch"); json_string(&j, m.d->arch);
        json_key(&j, "data"); json_string(&j, data_spec);
        json_key(&j, "backend");
        if (be) {
            BackendInfo bi;
            backend_info(be, &bi);
            json_object_begin(&j);
            json_key(&j, "name"); json_string(&j, bi.name);
            json_key(&j, "device"); json_string(&j, bi.device);
            json_object_end(&j);
        } else
            json_null(&j);
        json_key(&j, "images"); json_int(&j, test.n);
        json_key(&j, "subnets");
        json_array_begin(&j);
    } else {
        printf("%s (%s) on %s, %d test images", path, m.d->arch, data_spec, test.n);
        if (be) {
            BackendInfo bi;
            backend_info(be, &bi);
            printf(", backend %s on %s", bi.name, bi.device);
        }
        printf("\n");
        printf("%-12s %9s %9s %10s %10s\n", "subnet", "accuracy", "loss", "MMACs", "params");
    }
    for (int i = 0; i < m.d->n_subnets; i++) {
        if (which >= 0 && i != which) continue;
        model_set_subnet(&m, i);
        EvalResult r;
        if (be ? backend_set_subnet(be, i, &err) || evaluate_backend(be, m.d, &test, &r, &err) : evaluate(&m, &test, &r, &err))
            goto done;
        double macs = model_subnet_macs(m.d, m.active), params = model_subnet_params(m.d, m.active);
        if (json) {
            json_object_begin(&j);
            json_key(&j, "index"); json_int(&j, i);
            json_key(&j, "name"); json_string(&j, m.d->subnets[i].name);
            json_key(&j, "accuracy"); json_number(&j, r.accuracy);
            json_key(&j, "loss"); json_number(&j, r.loss);
            json_key(&j, "macs"); json_number(&j, macs);
            json_key(&j, "flops"); json_number(&j, 2.0 * macs);
            json_key(&j, "params"); json_number(&j, params);
            json_object_end(&j);
        } else {
            printf("%-12s %8.2f%% %9.4f %10.2f %10.0f\n", m.d->subnets[i].name, 100.0 * r.accuracy, r.loss, macs / 1e6,
                   params);
        }
    }
    if (json) {
        json_array_end(&j);
        json_object_end(&j);
        json_finish(&j);
    }
    rc = 0;
done:
    if (rc) fprintf(stderr, "dynn eval: %s\n", err.msg);
    backend_close(be);
    if (m.d) model_free(&m);
    dataset_free(&train);
    dataset_free(&test);
    return rc;
}
