/* platforms/profile_options.c — the profiling options table and its checks (see profile_options.h). */
#include "platforms/profile_options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platforms/interference.h"
#include "util/args.h"

#define AT(field) offsetof(ProfileSettings, field)
/* The one list `dynn profile` and the profile stage follow. Ranges: a batch as large as training's
 * (65536), threads up to a stage's cap (4096), frequencies up to 100 GHz. */
static const ProfileOption OPTIONS[] = {
    {"subnets", "subnets", POPT_NAMES, 0, 0, AT(subnets), "all", NULL, "LIST",
     "subnet names or indices, comma-separated, or all", NULL},
    {"batch", "batch", POPT_INTS, 1, 65536, AT(batch), "1", NULL, "LIST", "batch sizes, e.g. 1,128", NULL},
    {"cpus", NULL, POPT_TEXT, 0, 0, AT(cpus), NULL, NULL, "LIST",
     "CPU mappings, comma-separated; a mapping is a CPU, a range (0-3), a cluster\n"
     "name from --platform (big, little), or parts joined by + (0+2-3, big+little);\n"
     "the process is pinned to it (default: every CPU it may use)", NULL},
    {"threads", NULL, POPT_INTS, 1, 4096, AT(threads), NULL, NULL, "LIST",
     "OpenMP/OpenBLAS threads (default: the number of CPUs of each mapping)", NULL},
    {"freq", "frequencies_khz", POPT_FREQS, 1, 100000000, AT(freq), NULL, NULL, "LIST",
     "CPU frequencies in kHz, all, min, max (cpufreq; the original governor and\n"
     "limits are restored afterwards, also on error or Ctrl-C). Where cpufreq is\n"
     "absent or read-only this is noted and the current frequency is measured", NULL},
    {"gpu-freq", "gpu_frequencies_hz", POPT_HZ, 1, 100000000000.0, AT(gpu_freq), NULL, NULL, "LIST",
     "GPU frequencies in Hz, all, min, max (devfreq: the node of --gpu-devfreq, else\n"
     "the --platform board's gpu: devfreq; with --gpu-nvml the SM clocks of that\n"
     "NVIDIA GPU; restored afterwards, also on error or Ctrl-C), swept inside each\n"
     "CPU frequency. Where the node is absent or read-only, or the driver refuses\n"
     "setting clocks, this is noted and the current frequency is measured; without\n"
     "it the GPU is not touched", NULL},
    {"gpu-nvml", "gpu_nvml", POPT_INT, 0, 63, AT(gpu_nvml), NULL, NULL, "N",
     "an NVIDIA GPU by its NVML index (as nvidia-smi lists it; the driver's\n"
     "libnvidia-ml.so.1): every point records its SM and memory clocks seen at the\n"
     "end of the timed loop; --gpu-freq sets its SM clocks (locked clocks, else\n"
     "application clocks; reset afterwards, also on error or Ctrl-C)", NULL},
    {"gpu-devfreq", NULL, POPT_TEXT, 0, 0, AT(gpu_devfreq), NULL, NULL, "NODE",
     "the GPU's devfreq node under SYSFS-ROOT/class/devfreq (57000000.gpu), for\n"
     "--gpu-freq without a board file (default: the --platform board's gpu: devfreq)", NULL},
    {"backend", "backend", POPT_TEXT, 0, 0, AT(backend), "cpu", NULL, "NAME",
     "the inference backend that runs the forward passes (nn/backend.h), with its\n"
     "device after ':': cpu, opencl, opencl:PLATFORM[:DEVICE] (dynn devices lists them)", NULL},
    {"device", "device", POPT_TEXT, 0, 0, AT(backend), NULL, NULL, "SPEC",
     "the same as --backend: cpu, opencl, opencl:PLATFORM[:DEVICE]", NULL},
    {"warmup", "warmup", POPT_INT, 0, 1000000, AT(warmup), "3", NULL, "N", "untimed passes before the timed ones", NULL},
    {"repeat", "repeat", POPT_INT, 1, 1000000, AT(repeat), "10", NULL, "N", "timed passes, at least", NULL},
    {"count", "count", POPT_TEXT, 0, 0, AT(count), NULL, NULL, "WHAT",
     "instructions: instead of timing, count the instructions of each point's forward\n"
     "pass under valgrind's callgrind (exactly repeatable whatever the machine's load;\n"
     "the CI latency gate). dynn re-runs itself under valgrind; one thread, and a build\n"
     "valgrind can run (x86-64-v3: make BUILD=build-v3 OPT=\"-O3 -march=x86-64-v3\")",
     "instructions"},
    {"min-time-ms", "min_time_ms", POPT_NUMBER, 0, 3600000, AT(min_time_ms), "200", NULL, "MS",
     "timed time, at least: passes go on until both are reached", NULL},
    {"interf-max", "max_interference", POPT_NUMBER, 0, 1, AT(max_interference), INTERFERENCE_MAX_DEFAULT_TEXT, NULL,
     "SHARE", "a point whose threads waited for a CPU, or whose CPUs ran other work, for more\n"
     "than this share of the time measured (wall x threads, wall x CPUs) is measured\n"
     "again, then kept flagged (JSON interference_flagged; docs/PERFORMANCE.md)", NULL},
    {"interf-retries", "interference_retries", POPT_INT, 0, 100, AT(interference_retries),
     INTERFERENCE_RETRIES_DEFAULT_TEXT, NULL, "N",
     "re-measurements of such a point before it is kept flagged (0: flag at once);\n"
     "the least disturbed attempt is kept", NULL},
    {"wait-policy", "wait_policy", POPT_TEXT, 0, 0, AT(wait_policy), PROFILE_WAIT_POLICY_DEFAULT, NULL, "P",
     "OpenMP wait policy of the sweep (OMP_WAIT_POLICY; dynn re-runs itself with it set\n"
     "when the environment differs): active, passive, or inherit (the environment's);\n"
     "recorded per point as the condition omp_wait (docs/PERFORMANCE.md)",
     "active,passive,inherit"},
    {"platform", NULL, POPT_TEXT, 0, 0, AT(platform), NULL, NULL, "FILE",
     "a board file (experiments/platforms/, docs/FORMATS.md): its clusters, frequencies\n"
     "and power sensors; a board of type ssh (or a plugin's) is profiled there:\n"
     "this dynn (or its 'binary'), the model and FILE are deployed and run with --here", NULL},
    {"here", NULL, POPT_FLAG, 0, 0, AT(here), NULL, NULL, NULL,
     "this machine is the --platform board (how the profile stage runs the profiler\n"
     "on the target): profile here whatever its type", NULL},
    {"sysfs-root", NULL, POPT_TEXT, 0, 0, AT(sysfs_root), "/sys", "DYNN_SYSFS_ROOT", "DIR", "where sysfs is", NULL},
    {"sample-ms", "sample_ms", POPT_NUMBER, 0.1, 1000, AT(sample_ms), "2", NULL, "MS", "power sampling period", NULL},
    {"seed", NULL, POPT_U64, 0, 0, AT(seed), "1", NULL, "S", "seed of the random input", NULL},
    {"json", NULL, POPT_FLAG, 0, 0, AT(json), NULL, NULL, NULL, "one JSON object on stdout (docs/FORMATS.md, Profile output)", NULL},
};
#undef AT
#define N_OPTIONS (sizeof OPTIONS / sizeof *OPTIONS)

const ProfileOption *profile_options(size_t *n) {
    *n = N_OPTIONS;
    return OPTIONS;
}

const ProfileOption *profile_option_find(const char *name) {
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (!strcmp(OPTIONS[i].name, name)) return &OPTIONS[i];
    return NULL;
}

const ProfileOption *profile_option_param(const char *param) {
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (OPTIONS[i].param && !strcmp(OPTIONS[i].param, param)) return &OPTIONS[i];
    return NULL;
}

static int is_list(ProfileOptKind k) { return k == POPT_INTS || k == POPT_FREQS || k == POPT_HZ || k == POPT_NAMES; }

/* One Hz value in [o->min, o->max] (beyond an int: 100 GHz); *out its value. */
static int check_hz(const ProfileOption *o, const char *tok, const char *shown, long long *out, Err *err) {
    char *end;
    errno = 0;
    long long v = strtoll(tok, &end, 10);
    if (tok[0] < '0' || tok[0] > '9' || *end || errno)
        return err_set(err, "%s: '%s' is not a frequency in Hz, all, min or max", shown, tok);
    if (v < (long long)o->min || v > (long long)o->max)
        return err_set(err, "%s: %lld is out of range %lld..%lld", shown, v, (long long)o->min, (long long)o->max);
    *out = v;
    return 0;
}

/* A comma-separated list: every element checked, none empty, none twice, at most PROFILE_MAX_LIST. */
static int check_list(const ProfileOption *o, const char *value, const char *shown, Err *err) {
    char copy[1024], *items[PROFILE_MAX_LIST];
    long long ints[PROFILE_MAX_LIST];
    int numeric[PROFILE_MAX_LIST], n = 0;
    if (snprintf(copy, sizeof copy, "%s", value) >= (int)sizeof copy) return err_set(err, "%s: list too long", shown);
    size_t len = strlen(copy);
    if (!len || copy[0] == ',' || copy[len - 1] == ',' || strstr(copy, ",,"))
        return err_set(err, "%s: '%s' has an empty value (a comma-separated list)", shown, value);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == PROFILE_MAX_LIST) return err_set(err, "%s: more than %d values", shown, PROFILE_MAX_LIST);
        int freqs = o->kind == POPT_FREQS || o->kind == POPT_HZ;
        int word = o->kind == POPT_NAMES || (freqs && (!strcmp(tok, "all") || !strcmp(tok, "min") || !strcmp(tok, "max")));
        if (!word && o->kind == POPT_FREQS && (tok[0] < '0' || tok[0] > '9'))
            return err_set(err, "%s: '%s' is not a frequency in kHz, all, min or max", shown, tok);
        int one;
        if (!word && o->kind == POPT_HZ && check_hz(o, tok, shown, &ints[n], err)) return -1;
        if (!word && o->kind != POPT_HZ) {
            if (arg_int(shown, tok, (long)o->min, (long)o->max, &one, err)) return -1;
            ints[n] = one;
        }
        numeric[n] = !word;
        for (int k = 0; k < n; k++)
            if (numeric[k] == numeric[n] && (word ? !strcmp(items[k], tok) : ints[k] == ints[n]))
                return err_set(err, "%s: %s is listed twice", shown, tok);
        items[n++] = tok;
    }
    return 0;
}

int profile_option_check(const ProfileOption *o, const char *value, const char *shown, Err *err) {
    float f;
    int i;
    unsigned long long u;
    if (o->kind == POPT_FLAG) return value ? err_set(err, "%s takes no value", shown) : 0;
    if (!value) return err_set(err, "%s needs a value", shown);
    if (is_list(o->kind)) return check_list(o, value, shown, err);
    switch (o->kind) {
    case POPT_INT: return arg_int(shown, value, (long)o->min, (long)o->max, &i, err);
    case POPT_NUMBER: return arg_float(shown, value, o->min, o->max, &f, err);
    case POPT_U64: return arg_u64(shown, value, &u, err);
    default: break;
    }
    if (!value[0]) return err_set(err, "%s: empty value", shown);
    if (o->choices) { /* one of the words */
        size_t len = strlen(value);
        for (const char *c = o->choices; *c;) {
            const char *end = strchr(c, ',');
            size_t n = end ? (size_t)(end - c) : strlen(c);
            if (n == len && !strncmp(c, value, n)) return 0;
            c += n + (end ? 1 : 0);
        }
        return err_set(err, "%s: '%s' is not one of: %s", shown, value, o->choices);
    }
    return 0;
}

int profile_settings_set(ProfileSettings *s, const ProfileOption *o, const char *value, const char *shown, Err *err) {
    if (profile_option_check(o, value, shown, err)) return -1;
    void *field = (char *)s + o->offset;
    float f;
    switch (o->kind) {
    case POPT_FLAG: *(int *)field = 1; return 0;
    case POPT_INT: return arg_int(shown, value, (long)o->min, (long)o->max, (int *)field, err);
    case POPT_NUMBER: /* parsed as a float, as dynn always did: the same values reach the output */
        if (arg_float(shown, value, o->min, o->max, &f, err)) return -1;
        *(double *)field = f;
        return 0;
    case POPT_U64: return arg_u64(shown, value, (unsigned long long *)field, err);
    default: *(const char **)field = value; return 0;
    }
}

void profile_settings_defaults(ProfileSettings *s) {
    memset(s, 0, sizeof *s);
    s->gpu_nvml = -1; /* not given (the option has no default) */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = OPTIONS[i].env ? getenv(OPTIONS[i].env) : NULL;
        if (!v || !*v) v = OPTIONS[i].dflt;
        Err err; /* a bad environment value falls back to the default (which test_profile_options checks) */
        if (v && profile_settings_set(s, &OPTIONS[i], v, OPTIONS[i].name, &err) && OPTIONS[i].dflt)
            profile_settings_set(s, &OPTIONS[i], OPTIONS[i].dflt, OPTIONS[i].name, &err);
    }
}

int profile_option_ints(const char *value, int *out) {
    int n = 0;
    for (const char *p = value; *p && n < PROFILE_MAX_LIST;) {
        out[n++] = (int)strtol(p, (char **)&p, 10);
        if (*p == ',') p++;
    }
    return n;
}

/* A value for the table's option of the same name, already checked by cliopt for its kind. */
static int set_from_cli(void *ctx, const CliOptValue *v, Err *err) {
    return profile_settings_set(ctx, profile_option_find(v->opt->name), v->value, v->shown, err);
}

_Static_assert(N_OPTIONS <= PROFILE_MAX_OPTIONS, "PROFILE_MAX_OPTIONS is smaller than the table");

void profile_cli_options(ProfileCliOptions *cli, ProfileSettings *s) {
    memset(cli, 0, sizeof *cli);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const ProfileOption *o = &OPTIONS[i];
        CliOptKind kind = o->kind == POPT_FLAG     ? CLIOPT_FLAG
                          : o->kind == POPT_INT    ? CLIOPT_INT
                          : o->kind == POPT_NUMBER ? CLIOPT_FLOAT
                          : o->kind == POPT_U64    ? CLIOPT_U64
                                                   : CLIOPT_STRING; /* lists and texts: checked by the table */
        char *note = cli->notes[i];
        if (o->env) snprintf(note, sizeof cli->notes[i], "env %s", o->env);
        else if (is_list(o->kind) && o->kind != POPT_NAMES)
            snprintf(note, sizeof cli->notes[i], "each %.15g..%.15g", o->min, o->max);
        cli->opts[i] = (CliOpt){.name = o->name, .kind = kind, .metavar = o->arg, .help = o->help, .min = o->min,
                                .max = o->max, .dflt = o->dflt, .note = note[0] ? note : NULL, .set = set_from_cli,
                                .ctx = s};
    }
    cli->n = N_OPTIONS;
}

void profile_options_help(char *out, size_t size) {
    ProfileCliOptions cli;
    ProfileSettings s;
    profile_cli_options(&cli, &s);
    out[0] = '\0';
    FILE *fp = fmemopen(out, size, "w");
    if (!fp) return;
    cliopt_options_help(cli.opts, cli.n, 0, fp);
    fclose(fp);
}
