/* cli/cmd_devices.c — `dynn devices`: the inference backends of this build and the devices each can
 * run on here (nn/backend.h: the CPU, every OpenCL platform's devices, the CUDA GPUs), with the CPU clusters and
 * the GPU (devfreq node, frequencies, power sensor) of a board file when --platform names one. What `--backend SPEC` and the profile stage's `backend:`
 * take is each device's spec. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "nn/backend.h"
#include "platforms/platform.h"
#include "util/cliopt.h"
#include "util/json_out.h"

#define MAX_DEVICES 64

static void print_text(const BackendType *t, const BackendDevice *d, int n, const char *why) {
    printf("%s — %s\n", t->name, t->summary);
    if (why) printf("  no device: %s\n", why);
    for (int i = 0; i < n; i++) {
        printf("  %-14s %-11s %s", d[i].spec, d[i].kind, d[i].name);
        if (d[i].vendor[0]) printf(" (%s)", d[i].vendor);
        printf("\n  %-14s %-11s %d %s", "", "", d[i].compute_units, d[i].capability[0] ? "SMs" : "compute units");
        if (d[i].capability[0]) printf(", compute capability %s", d[i].capability);
        if (d[i].max_clock_mhz) printf(", %d MHz", d[i].max_clock_mhz);
        if (d[i].memory_bytes) printf(", %.1f GiB", (double)d[i].memory_bytes / (1 << 30));
        if (d[i].platform[0]) printf("; %s", d[i].platform);
        if (d[i].driver[0]) printf(", driver %s", d[i].driver);
        if (d[i].runtime[0]) printf("; %s", d[i].runtime);
        printf("\n");
    }
}

static void json_device(JsonOut *j, const BackendDevice *d) {
    json_object_begin(j);
    json_key(j, "spec"), json_string(j, d->spec);
    json_key(j, "kind"), json_string(j, d->kind);
    json_key(j, "name"), json_string(j, d->name);
    json_key(j, "vendor"), json_string(j, d->vendor);
    json_key(j, "platform"), json_string(j, d->platform);
    json_key(j, "driver"), json_string(j, d->driver);
    json_key(j, "compute_units"), json_int(j, d->compute_units);
    json_key(j, "compute_capability");
    if (d->capability[0]) json_string(j, d->capability);
    else json_null(j);
    json_key(j, "runtime");
    if (d->runtime[0]) json_string(j, d->runtime);
    else json_null(j);
    json_key(j, "max_clock_mhz");
    if (d->max_clock_mhz) json_int(j, d->max_clock_mhz);
    else json_null(j);
    json_key(j, "memory_bytes");
    if (d->memory_bytes) json_int(j, (long long)d->memory_bytes);
    else json_null(j);
    json_object_end(j);
}

int cmd_devices(int argc, char **argv) {
    int json = 0;
    const char *platform = NULL;
    const CliOpt opts[] = {
        {.name = "platform", .kind = CLIOPT_STRING, .metavar = "FILE", .dest = &platform,
         .help = "a board file (experiments/platforms/): also list its CPU clusters and GPU"},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &json, .help = "one JSON object on stdout"},
    };
    const CliOptCommand c = {.name = "devices", .synopsis = "[--platform FILE] [--json]",
                             .summary = "  the inference backends of this build and the devices each runs on here; a device's\n"
                                        "  spec is what dynn profile --backend and the profile stage's `backend:` take\n",
                             .opts = opts, .n_opts = 2};
    int rc = cliopt_main(&c, argc, argv);
    if (rc >= 0) return rc;
    PlatformDescFile board = {0};
    Err err;
    if (platform && platform_desc_load_flags(platform, PLATFORM_READ_HERE, &board, &err)) {
        fprintf(stderr, "dynn devices: %s\n", err.msg);
        return 2;
    }
    size_t n_types;
    const BackendType *const *types = backend_types(&n_types);
    BackendDevice *devs = calloc(MAX_DEVICES, sizeof *devs);
    if (!devs) {
        fprintf(stderr, "dynn devices: out of memory\n");
        platform_desc_free(&board);
        return 1;
    }
    JsonOut j;
    if (json) {
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "backends");
        json_array_begin(&j);
    }
    for (size_t t = 0; t < n_types; t++) {
        int n = 0;
        Err why;
        int failed = types[t]->devices(devs, MAX_DEVICES, &n, &why) != 0;
        if (json) {
            json_object_begin(&j);
            json_key(&j, "name"), json_string(&j, types[t]->name);
            json_key(&j, "summary"), json_string(&j, types[t]->summary);
            json_key(&j, "error");
            if (failed) json_string(&j, why.msg);
            else json_null(&j);
            json_key(&j, "devices");
            json_array_begin(&j);
            for (int i = 0; i < n; i++) json_device(&j, &devs[i]);
            json_array_end(&j);
            json_object_end(&j);
        } else
            print_text(types[t], devs, n, failed ? why.msg : NULL);
    }
    if (json) {
        json_array_end(&j);
        json_key(&j, "clusters");
        if (!platform) json_null(&j);
        else {
            json_array_begin(&j);
            for (size_t i = 0; i < board.desc.n_clusters; i++) {
                json_object_begin(&j);
                json_key(&j, "name"), json_string(&j, board.desc.clusters[i].name);
                json_key(&j, "cpus"), json_string(&j, board.desc.clusters[i].cpus);
                json_object_end(&j);
            }
            json_array_end(&j);
        }
        json_key(&j, "gpu");
        if (!platform || !board.desc.has_gpu) json_null(&j);
        else {
            const DescGpu *g = &board.desc.gpu;
            json_object_begin(&j);
            json_key(&j, "name");
            if (g->name) json_string(&j, g->name);
            else json_null(&j);
            json_key(&j, "devfreq"), json_string(&j, g->devfreq);
            json_key(&j, "frequencies_hz");
            json_array_begin(&j);
            for (size_t i = 0; i < g->n_freqs; i++) json_int(&j, g->freqs_hz[i]);
            json_array_end(&j);
            json_key(&j, "sensor");
            if (g->sensor) json_string(&j, g->sensor);
            else json_null(&j);
            json_object_end(&j);
        }
        json_object_end(&j);
        json_finish(&j);
    } else if (platform) {
        printf("CPU clusters of %s (%s):\n", board.desc.name, platform);
        for (size_t i = 0; i < board.desc.n_clusters; i++)
            printf("  %-10s CPUs %s\n", board.desc.clusters[i].name, board.desc.clusters[i].cpus);
        if (board.desc.has_gpu) {
            const DescGpu *g = &board.desc.gpu;
            printf("GPU of %s: %s, devfreq node %s", board.desc.name, g->name ? g->name : "(unnamed)", g->devfreq);
            if (g->n_freqs)
                printf(", %.1f..%.1f MHz (%zu steps)", (double)g->freqs_hz[0] / 1e6, (double)g->freqs_hz[g->n_freqs - 1] / 1e6,
                       g->n_freqs);
            if (g->sensor) printf(", power sensor %s", g->sensor);
            printf("\n");
        }
    }
    free(devs);
    platform_desc_free(&board);
    return 0;
}
