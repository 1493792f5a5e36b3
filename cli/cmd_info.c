/* cli/cmd_info.c — `dynn info MODEL`: architecture, parameters, MACs/FLOPs, bytes, subnets, and
 * whether the weights are synthetic (random, never trained: nn/synthetic.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "nn/checkpoint.h"
#include "util/cliopt.h"
#include "util/json_out.h"

static const char *OP_NAMES[] = {"conv", "bn", "relu", "maxpool", "avgpool", "linear", "add"};

static void print_layers(const ModelDesc *d) {
    printf("%-26s %-8s %-16s %-6s %10s %12s\n", "layer", "op", "output", "slot", "params", "MACs");
    for (int i = 0; i < d->n_ops; i++) {
        const OpDesc *o = &d->ops[i];
        const TensorDesc *t = &d->tensors[o->out];
        double params = 0, macs = 0;
        if (o->kind == OP_CONV) {
            params = (double)d->params[o->weight].set_numel;
            macs = params * t->h * t->w;
        } else if (o->kind == OP_LINEAR) {
            params = (double)d->params[o->weight].set_numel + d->params[o->bias].set_numel;
            macs = (double)d->params[o->weight].set_numel;
        } else if (o->kind == OP_BN) {
            params = 2.0 * t->c;
        }
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%dx%d", t->c, t->h, t->w);
        char kind[16];
        snprintf(kind, sizeof kind, "%s%s", OP_NAMES[o->kind], o->relu ? "+relu" : "");
        printf("%-26s %-8s %-16s %-6s %10.0f %12.0f\n", o->name, kind, shape,
               t->slot >= 0 ? d->slot_name[t->slot] : "-", params, macs);
    }
}

int cmd_info(int argc, char **argv) {
    int json = 0, layers = 0;
    const char *path = NULL;
    size_t n_pos = 0;
    const CliOpt opts[] = {
        {.name = "layers", .kind = CLIOPT_FLAG, .dest = &layers, .help = "one line per layer"},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "one JSON object on stdout"},
    };
    const CliOptCommand c = {.name = "info", .synopsis = "MODEL.dnn [--layers] [--json]",
                             .summary = "  architecture, parameters, MACs and FLOPs per image, bytes, subnets with their channel counts\n"
                                        "  (the description and every tensor's shape are checked as by dynn eval)\n",
                             .opts = opts, .n_opts = 2, .pos = &path, .max_pos = 1, .n_pos = &n_pos};
    int prc = cliopt_main(&c, argc, argv);
    if (prc >= 0) return prc;
    if (!path) {
        fprintf(stderr, "dynn info: expected a checkpoint file (see dynn info --help)\n");
        return 2;
    }
    ModelDesc *d = calloc(1, sizeof *d);
    Err err = {{0}};
    unsigned long crc = 0;
    if (!d || checkpoint_read_desc(path, d, &crc, &err)) {
        fprintf(stderr, "dynn info: %s\n", d ? err.msg : "out of memory");
        free(d);
        return 1;
    }
    size_t stored = model_desc_param_floats(d);
    double separate = 0.0; /* the same subnets stored as separate models */
    for (int i = 0; i < d->n_subnets; i++) separate += model_subnet_stored_floats(d, d->subnets[i].count);
    if (json) {
        JsonOut j;
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "model"); json_string(&j, path);
        json_key(&j, "arch"); json_string(&j, d->arch);
        json_key(&j, "input"); json_array_begin(&j); json_int(&j, d->in_c); json_int(&j, d->in_h); json_int(&j, d->in_w); json_array_end(&j);
        json_key(&j, "classes"); json_int(&j, d->classes);
        json_key(&j, "width"); json_number(&j, d->width);
        json_key(&j, "layers"); json_int(&j, d->n_ops);
        json_key(&j, "stored_params"); json_int(&j, (long long)stored);
        json_key(&j, "bytes"); json_int(&j, (long long)(stored * sizeof(float)));
        json_key(&j, "separate_models_bytes"); json_number(&j, 4.0 * separate);
        json_key(&j, "bn_sets"); json_int(&j, d->bn_sets);
        json_key(&j, "weight_sets"); json_int(&j, d->weight_sets);
        json_key(&j, "synthetic"); json_bool(&j, d->synthetic);
        char crc_hex[16];
        snprintf(crc_hex, sizeof crc_hex, "%08lx", crc);
        json_key(&j, "tensors_crc32"); json_string(&j, crc_hex);
        json_key(&j, "slots"); json_array_begin(&j);
        for (int s = 0; s < d->n_slots; s++) {
            json_object_begin(&j);
            json_key(&j, "name"); json_string(&j, d->slot_name[s]);
            json_key(&j, "channels"); json_int(&j, d->slot_max[s]);
            json_object_end(&j);
        }
        json_array_end(&j);
        json_key(&j, "subnets"); json_array_begin(&j);
        for (int i = 0; i < d->n_subnets; i++) {
            const Subnet *sn = &d->subnets[i];
            json_object_begin(&j);
            json_key(&j, "name"); json_string(&j, sn->name);
            json_key(&j, "macs"); json_number(&j, model_subnet_macs(d, sn->count));
            json_key(&j, "flops"); json_number(&j, 2.0 * model_subnet_macs(d, sn->count));
            json_key(&j, "params"); json_number(&j, model_subnet_params(d, sn->count));
            json_key(&j, "weight_bytes"); json_number(&j, 4.0 * model_subnet_stored_floats(d, sn->count));
            json_key(&j, "activation_bytes_per_image"); json_number(&j, 4.0 * model_subnet_activation_floats(d, sn->count));
            json_key(&j, "channels"); json_array_begin(&j);
            for (int s = 0; s < d->n_slots; s++) json_int(&j, sn->count[s]);
            json_array_end(&j);
            json_object_end(&j);
        }
        json_array_end(&j);
        json_key(&j, "meta"); json_object_begin(&j);
        for (int i = 0; i < d->n_meta; i++) {
            json_key(&j, d->meta_key[i]);
            json_string(&j, d->meta_val[i]);
        }
        json_object_end(&j);
        json_object_end(&j);
        json_finish(&j);
        free(d);
        return 0;
    }
    const int *full = d->subnets[model_largest_subnet(d)].count;
    printf("%s: %s, input %dx%dx%d, %d classes, width x%g, %d layers\n", path, d->arch, d->in_c, d->in_h, d->in_w,
           d->classes, d->width, d->n_ops);
    printf("parameters: %.0f (trainable, largest subnet); %zu floats stored = %.2f MiB (%d BN set%s, %d weight set%s)\n",
           model_subnet_params(d, full), stored, stored * 4.0 / 1048576.0, d->bn_sets, d->bn_sets > 1 ? "s" : "",
           d->weight_sets, d->weight_sets > 1 ? "s" : "");
    printf("per image: %.2f MMACs = %.2f MFLOPs (largest subnet)\n", model_subnet_macs(d, full) / 1e6,
           2.0 * model_subnet_macs(d, full) / 1e6);
    printf("tensors CRC-32: %08lx\n", crc);
    if (d->synthetic)
        printf("synthetic weights: random (seed %s), never trained: for latency only (dynn profile), no accuracy\n",
               model_desc_get_meta(d, "train.seed") ? model_desc_get_meta(d, "train.seed") : "unknown");
    if (layers) print_layers(d);
    if (d->n_subnets > 1)
        printf("memory: this model %.3f MiB; the same %d subnets as separate models %.3f MiB (%.2fx)\n",
               stored * 4.0 / 1048576.0, d->n_subnets, separate * 4.0 / 1048576.0, separate / (double)stored);
    printf("subnets (bytes touched per image = weights + activations; channels per slot:");
    for (int s = 0; s < d->n_slots; s++) printf(" %s", d->slot_name[s]);
    printf(")\n");
    for (int i = 0; i < d->n_subnets; i++) {
        const Subnet *sn = &d->subnets[i];
        printf("  %-10s %8.2f MMACs %9.0f params %8.1f KiB touched  [", sn->name, model_subnet_macs(d, sn->count) / 1e6,
               model_subnet_params(d, sn->count),
               4.0 * (model_subnet_stored_floats(d, sn->count) + model_subnet_activation_floats(d, sn->count)) / 1024.0);
        for (int s = 0; s < d->n_slots; s++) printf(s ? " %d" : "%d", sn->count[s]);
        printf("]\n");
    }
    for (int i = 0; i < d->n_meta; i++) printf("  %s = %s\n", d->meta_key[i], d->meta_val[i]);
    free(d);
    return 0;
}
