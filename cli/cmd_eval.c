/* cli/cmd_eval.c — `dynn eval MODEL --data SPEC`: test accuracy of a checkpoint's subnets. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/args.h"
#include "cli/commands.h"
#include "nn/checkpoint.h"
#include "nn/data.h"
#include "nn/parallel.h"
#include "nn/subnet.h"
#include "nn/train.h"
#include "util/json_out.h"

static const char *EVAL_USAGE =
    "usage: dynn eval MODEL.dnn [--data SPEC] [--subnet all|NAME|INDEX] [--batch N] [--threads T]\n"
    "                 [--test-limit N] [--json]\n"
    "  prints test accuracy, loss, MMACs and parameters of the chosen subnet(s) (default: all)\n"
    "  --data defaults to the dataset recorded in the checkpoint\n"
    "  --width W           evaluate a uniform subnet at width W in (0,1] chosen at run time (added if the\n"
    "                      model does not have it; shares the weights, BN set copied from the nearest\n"
    "                      containing subnet)\n"
    "  --recalibrate N     re-estimate that subnet's BN statistics from N training batches first\n";

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

int cmd_eval(int argc, char **argv) {
    const char *data_spec = NULL, *subnet_sel = "all";
    int threads = 0, batch = 256, test_limit = 0, json = 0, recal = 0;
    float width = 0.0f;
    Err err = {{0}};
    enum { O_DATA = 256, O_SUBNET, O_BATCH, O_THREADS, O_TEL, O_JSON, O_HELP, O_WIDTH, O_RECAL };
    static const struct option opts[] = {
        {"data", 1, 0, O_DATA}, {"subnet", 1, 0, O_SUBNET}, {"batch", 1, 0, O_BATCH}, {"threads", 1, 0, O_THREADS},
        {"test-limit", 1, 0, O_TEL}, {"json", 0, 0, O_JSON}, {"help", 0, 0, O_HELP}, {"width", 1, 0, O_WIDTH},
        {"recalibrate", 1, 0, O_RECAL}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c, bad = 0;
    while (!bad && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: data_spec = optarg; break;
        case O_SUBNET: subnet_sel = optarg; break;
        case O_BATCH: bad = arg_int("--batch", optarg, 1, 65536, &batch, &err); break;
        case O_THREADS: bad = arg_int("--threads", optarg, 1, 1024, &threads, &err); break;
        case O_TEL: bad = arg_int("--test-limit", optarg, 1, 1 << 30, &test_limit, &err); break;
        case O_JSON: json = 1; break;
        case O_HELP: fputs(EVAL_USAGE, stdout); return 0;
        case O_WIDTH: bad = arg_float("--width", optarg, 1e-6, 1.0, &width, &err); break;
        case O_RECAL: bad = arg_int("--recalibrate", optarg, 1, 100000, &recal, &err); break;
        default: bad = err_set(&err, "unknown or incomplete option '%s' (see dynn eval --help)", argv[optind - 1]) != 0;
        }
    }
    if (!bad && optind != argc - 1) bad = err_set(&err, "expected one checkpoint file (see dynn eval --help)") != 0;
    if (!bad && recal && width <= 0.0f) bad = err_set(&err, "--recalibrate needs --width (the subnet to re-calibrate)") != 0;
    if (!bad && width > 0.0f && strcmp(subnet_sel, "all"))
        bad = err_set(&err, "--width and --subnet are exclusive") != 0;
    if (bad) {
        fprintf(stderr, "dynn eval: %s\n", err.msg);
        return 2;
    }
    const char *path = argv[optind];
    threads = nn_set_threads(threads);
    Model m = {0};
    Dataset train = {0}, test = {0};
    int rc = 1, which = -1;
    int width_subnet = -1;
    if (checkpoint_load_width(path, &m, batch, threads, width, &width_subnet, &err)) goto done;
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
    JsonOut j;
    if (json) {
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "model"); json_string(&j, path);
        json_key(&j, "arch"); json_string(&j, m.d->arch);
        json_key(&j, "data"); json_string(&j, data_spec);
        json_key(&j, "images"); json_int(&j, test.n);
        json_key(&j, "subnets");
        json_array_begin(&j);
    } else {
        printf("%s (%s) on %s, %d test images\n", path, m.d->arch, data_spec, test.n);
        printf("%-12s %9s %9s %10s %10s\n", "subnet", "accuracy", "loss", "MMACs", "params");
    }
    for (int i = 0; i < m.d->n_subnets; i++) {
        if (which >= 0 && i != which) continue;
        model_set_subnet(&m, i);
        EvalResult r;
        if (evaluate(&m, &test, &r, &err)) goto done;
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
    if (m.d) model_free(&m);
    dataset_free(&train);
    dataset_free(&test);
    return rc;
}
