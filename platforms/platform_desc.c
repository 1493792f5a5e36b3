/* platforms/platform_desc.c — the one reader of platform descriptions (board files in
 * experiments/platforms/, a mapping inline in a profile stage's params, or declared under an
 * experiment's `platforms:`), for the profile stage, the experiment file and `dynn profile
 * --platform`; its limits; finding a board file by name; the binary to deploy. See platform.h. Every
 * problem is one line naming file:line:col. */
#include "platforms/platform.h"

#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "platforms/affinity.h"
#include "platforms/devfreq.h"
#include "platforms/energy.h"
#include "util/atomic_file.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/suggest.h"

static const char *const common_keys[] = {"name", "type", "arch", "binary", "prefix", "clusters", "frequencies_khz",
                                          "sensors", "gpu", "description"};
#define COUNT(a) (sizeof(a) / sizeof *(a))
#define MAX_KEYS 64

/* What a PlatformDescFile owns besides the YAML tree. */
typedef struct DescStorage {
    long long *freqs[PLATFORM_DESC_MAX_CLUSTERS];
    const char **prefix;
    char *prefix_text; /* a copy of a `prefix` string, split into words */
    char *paths[3]; /* binary, identity, known_hosts made absolute */
    long long *gpu_freqs;
} DescStorage;

/* One grammar for CPU lists: the profiler's (platforms/affinity.c), so a stage never accepts a
 * mapping the profiler on the target would refuse. */
int platform_desc_cpu_list_valid(const char *s) {
    cpu_set_t set;
    Err ignored;
    return cpulist_parse(s, "cpus", &set, &ignored) == 0;
}

_Static_assert(PLATFORM_DESC_MAX_NODE <= DEVFREQ_MAX_NODE, "a gpu's devfreq node fits the profiler's devfreq");
_Static_assert(PLATFORM_DESC_MAX_FREQS <= DEVFREQ_MAX_FREQS, "a gpu's frequency table fits the profiler's devfreq");
_Static_assert(PLATFORM_DESC_MAX_SENSORS <= ENERGY_MAX_SENSORS, "every sensor of a description fits the energy meter");
_Static_assert(PLATFORM_DESC_MAX_TEXT < sizeof ((PowerSensor *)0)->path, "a sensor path fits the energy meter");
_Static_assert(PLATFORM_DESC_MAX_NAME < sizeof ((PowerSensor *)0)->name, "a sensor name fits the energy meter");

/* A string of at most max characters at node n ("what" names it in the message). */
static int check_length(const YNode *n, size_t max, const char *file, const char *what, Err *err) {
    size_t len = strlen(n->str);
    if (len > max) return ynode_err(err, file, n, "%s is too long (%zu characters, at most %zu)", what, len, max);
    return 0;
}

/* A scalar value of a key, or NULL when absent; err when present but not a non-empty string of at
 * most max characters. */
static int get_text(const YNode *map, const char *key, size_t max, const char *file, const char **out, Err *err) {
    const YNode *n = ynode_get(map, key);
    *out = NULL;
    if (!n) return 0;
    if (n->kind != YNODE_SCALAR || !n->str[0])
        return ynode_err(err, file, n, "platform '%s' must be a non-empty string", key);
    char what[64];
    snprintf(what, sizeof what, "platform '%s'", key);
    if (check_length(n, max, file, what, err)) return -1;
    *out = n->str;
    return 0;
}

static int get_string(const YNode *map, const char *key, const char *file, const char **out, Err *err) {
    return get_text(map, key, PLATFORM_DESC_MAX_TEXT, file, out, err);
}

static int get_int(const YNode *map, const char *key, long long min, long long max, int dflt, const char *file,
                   int *out, Err *err) {
    const YNode *n = ynode_get(map, key);
    *out = dflt;
    if (!n) return 0;
    char what[64];
    snprintf(what, sizeof what, "platform '%s'", key);
    long long v;
    if (ynode_int(n, min, max, file, what, &v, err)) return -1;
    *out = (int)v;
    return 0;
}

/* `~/x` is below $HOME; a relative path is relative to the description file's directory. */
static int resolve_path(const char *value, const char *file, char **out, Err *err) {
    char buf[PATH_MAX], dir[PATH_MAX];
    const char *home = getenv("HOME");
    int n;
    if (value[0] == '~' && value[1] == '/' && home) n = snprintf(buf, sizeof buf, "%s/%s", home, value + 2);
    else if (value[0] == '/' || !file) n = snprintf(buf, sizeof buf, "%s", value);
    else {
        fs_dirname(file, dir, sizeof dir);
        n = snprintf(buf, sizeof buf, "%s/%s", dir, value);
    }
    if (n < 0 || (size_t)n >= sizeof buf) return err_set(err, "%s: path too long", value);
    char abs[PATH_MAX];
    if (fs_absolute(buf, abs, sizeof abs, err)) return -1;
    if (!(*out = strdup(abs))) return err_set(err, "out of memory");
    return 0;
}

static int read_prefix(const YNode *map, const char *file, PlatformDesc *d, DescStorage *s, Err *err) {
    const YNode *n = ynode_get(map, "prefix"), *bad;
    if (!n) return 0;
    size_t count = ynode_string_list(n, &bad);
    if (bad) return ynode_err(err, file, bad, "platform 'prefix' must be a string or a list of strings");
    /* a string is split at white space into words; a list gives the words */
    size_t cap = n->kind == YNODE_SCALAR ? strlen(n->str) / 2 + 2 : count + 1;
    if (!(s->prefix = calloc(cap, sizeof *s->prefix))) return err_set(err, "out of memory");
    if (n->kind == YNODE_SCALAR) {
        if (!(s->prefix_text = strdup(n->str))) return err_set(err, "out of memory");
        for (char *p = s->prefix_text; *p;) {
            while (*p && isspace((unsigned char)*p)) *p++ = '\0';
            if (!*p) break;
            s->prefix[d->n_prefix++] = p;
            while (*p && !isspace((unsigned char)*p)) p++;
        }
    } else {
        for (size_t i = 0; i < count; i++) s->prefix[d->n_prefix++] = ynode_string_at(n, i)->str;
    }
    if (!d->n_prefix) return ynode_err(err, file, n, "platform 'prefix' is empty (leave it out instead)");
    for (size_t i = 0; i < d->n_prefix; i++)
        if (strlen(s->prefix[i]) > PLATFORM_DESC_MAX_TEXT)
            return ynode_err(err, file, n, "a word of platform 'prefix' is too long (at most %d characters)", PLATFORM_DESC_MAX_TEXT);
    d->prefix = s->prefix;
    return 0;
}

static int read_clusters(const YNode *map, const char *file, PlatformDesc *d, DescStorage *s, Err *err) {
    const YNode *n = ynode_get(map, "clusters");
    if (n) {
        if (ynode_expect(n, YNODE_MAP, file, "platform 'clusters'", err)) return -1;
        if (n->len > PLATFORM_DESC_MAX_CLUSTERS)
            return ynode_err(err, file, n, "platform 'clusters': at most %d clusters", PLATFORM_DESC_MAX_CLUSTERS);
        for (size_t i = 0; i < n->len; i++) {
            const YNode *k = n->pairs[i].key, *v = n->pairs[i].value;
            if (check_length(k, PLATFORM_DESC_MAX_NAME, file, "a cluster name", err)) return -1;
            if (v->kind != YNODE_SCALAR || !platform_desc_cpu_list_valid(v->str))
                return ynode_err(err, file, v, "cluster '%s' must be a cpu list like \"0-3\" or \"0,2,4-7\"", k->str);
            d->clusters[d->n_clusters++] = (DescCluster){.name = k->str, .cpus = v->str};
        }
    }
    const YNode *f = ynode_get(map, "frequencies_khz");
    if (!f) return 0;
    if (ynode_expect(f, YNODE_MAP, file, "platform 'frequencies_khz'", err)) return -1;
    for (size_t i = 0; i < f->len; i++) {
        const YNode *k = f->pairs[i].key, *v = f->pairs[i].value;
        size_t c = 0;
        while (c < d->n_clusters && strcmp(d->clusters[c].name, k->str)) c++;
        if (c == d->n_clusters) {
            const char *names[PLATFORM_DESC_MAX_CLUSTERS];
            for (size_t j = 0; j < d->n_clusters; j++) names[j] = d->clusters[j].name;
            char hint[128];
            return ynode_err(err, file, k, "frequencies_khz: '%s' is not a cluster of 'clusters'%s", k->str,
                             suggest_hint(hint, sizeof hint, k->str, names, d->n_clusters));
        }
        if (v->kind != YNODE_SEQ || !v->len)
            return ynode_err(err, file, v, "frequencies_khz of '%s' must be a non-empty list of kHz", k->str);
        if (v->len > PLATFORM_DESC_MAX_FREQS)
            return ynode_err(err, file, v, "frequencies_khz of '%s': at most %d frequencies", k->str, PLATFORM_DESC_MAX_FREQS);
        if (!(s->freqs[c] = calloc(v->len, sizeof *s->freqs[c]))) return err_set(err, "out of memory");
        char what[128];
        snprintf(what, sizeof what, "a frequency of '%s' (kHz)", k->str);
        for (size_t j = 0; j < v->len; j++) {
            if (ynode_int(v->items[j], 1, 100000000, file, what, &s->freqs[c][j], err)) return -1;
            if (j && s->freqs[c][j] <= s->freqs[c][j - 1])
                return ynode_err(err, file, v->items[j], "frequencies_khz of '%s' must be ascending without repeats", k->str);
        }
        d->clusters[c].freqs_khz = s->freqs[c];
        d->clusters[c].n_freqs = v->len;
    }
    return 0;
}

static int read_sensors(const YNode *map, const char *file, PlatformDesc *d, Err *err) {
    static const char *const keys[] = {"name", "kind", "path", "scale"};
    const YNode *n = ynode_get(map, "sensors");
    if (!n) return 0;
    if (ynode_expect(n, YNODE_SEQ, file, "platform 'sensors'", err)) return -1;
    if (n->len > PLATFORM_DESC_MAX_SENSORS) return ynode_err(err, file, n, "platform 'sensors': at most %d", PLATFORM_DESC_MAX_SENSORS);
    for (size_t i = 0; i < n->len; i++) {
        const YNode *s = n->items[i];
        if (ynode_expect(s, YNODE_MAP, file, "a sensor", err) ||
            ynode_check_keys(s, keys, COUNT(keys), file, "a sensor", err))
            return -1;
        DescSensor *ps = &d->sensors[d->n_sensors++];
        ps->scale = 1.0;
        if (get_text(s, "name", PLATFORM_DESC_MAX_NAME, file, &ps->name, err) ||
            get_text(s, "kind", PLATFORM_DESC_MAX_NAME, file, &ps->kind, err) ||
            get_string(s, "path", file, &ps->path, err))
            return -1;
        if (!ps->name || !ps->kind || !ps->path) return ynode_err(err, file, s, "a sensor needs 'name', 'kind' and 'path'");
        SensorKind kind;
        if (energy_sensor_kind(ps->kind, &kind)) { /* the kinds the profiler's sampler reads (energy.c) */
            const char *kinds[] = {energy_sensor_kind_name(SENSOR_HWMON), energy_sensor_kind_name(SENSOR_INA231),
                                   energy_sensor_kind_name(SENSOR_INA3221), energy_sensor_kind_name(SENSOR_RAPL)};
            char hint[128];
            return ynode_err(err, file, ynode_get(s, "kind"), "sensor '%s': unknown kind '%s' (hwmon, ina231, ina3221 or rapl)%s",
                             ps->name, ps->kind, suggest_hint(hint, sizeof hint, ps->kind, kinds, COUNT(kinds)));
        }
        const YNode *scale = ynode_get(s, "scale");
        if (scale) {
            char *end;
            ps->scale = scale->kind == YNODE_SCALAR ? strtod(scale->str, &end) : 0;
            if (scale->kind != YNODE_SCALAR || *end || end == scale->str || !(ps->scale > 0))
                return ynode_err(err, file, scale, "sensor '%s': 'scale' must be a positive number", ps->name);
        }
    }
    return 0;
}

/* `gpu: {name, devfreq, frequencies_hz, sensor}`, after the sensors (`sensor` names one of them). */
static int read_gpu(const YNode *map, const char *file, PlatformDesc *d, DescStorage *s, Err *err) {
    static const char *const keys[] = {"name", "devfreq", "frequencies_hz", "sensor"};
    const YNode *n = ynode_get(map, "gpu");
    if (!n) return 0;
    if (ynode_expect(n, YNODE_MAP, file, "platform 'gpu'", err) || ynode_check_keys(n, keys, COUNT(keys), file, "platform 'gpu'", err))
        return -1;
    DescGpu *g = &d->gpu;
    if (get_text(n, "name", PLATFORM_DESC_MAX_NAME, file, &g->name, err) ||
        get_text(n, "devfreq", PLATFORM_DESC_MAX_NODE, file, &g->devfreq, err) ||
        get_text(n, "sensor", PLATFORM_DESC_MAX_NAME, file, &g->sensor, err))
        return -1;
    if (!g->devfreq)
        return ynode_err(err, file, n, "platform 'gpu' needs 'devfreq': the GPU's node under /sys/class/devfreq (57000000.gpu)");
    if (strchr(g->devfreq, '/') || !strcmp(g->devfreq, ".") || !strcmp(g->devfreq, ".."))
        return ynode_err(err, file, ynode_get(n, "devfreq"),
                         "gpu 'devfreq' must be the name of a node under /sys/class/devfreq (57000000.gpu), not a path: '%s'", g->devfreq);
    const YNode *f = ynode_get(n, "frequencies_hz");
    if (f) {
        if (f->kind != YNODE_SEQ || !f->len) return ynode_err(err, file, f, "gpu 'frequencies_hz' must be a non-empty list of Hz");
        if (f->len > PLATFORM_DESC_MAX_FREQS)
            return ynode_err(err, file, f, "gpu 'frequencies_hz': at most %d frequencies", PLATFORM_DESC_MAX_FREQS);
        if (!(s->gpu_freqs = calloc(f->len, sizeof *s->gpu_freqs))) return err_set(err, "out of memory");
        for (size_t j = 0; j < f->len; j++) {
            if (ynode_int(f->items[j], 1, 100000000000LL, file, "a frequency of the gpu (Hz)", &s->gpu_freqs[j], err)) return -1;
            if (j && s->gpu_freqs[j] <= s->gpu_freqs[j - 1])
                return ynode_err(err, file, f->items[j], "gpu 'frequencies_hz' must be ascending without repeats");
        }
        g->freqs_hz = s->gpu_freqs;
        g->n_freqs = f->len;
    }
    if (g->sensor) {
        const char *names[PLATFORM_DESC_MAX_SENSORS];
        int found = 0;
        for (size_t i = 0; i < d->n_sensors; i++) {
            names[i] = d->sensors[i].name;
            found |= !strcmp(names[i], g->sensor);
        }
        if (!found) {
            char hint[128];
            return ynode_err(err, file, ynode_get(n, "sensor"), "gpu 'sensor': '%s' is not a name of 'sensors'%s", g->sensor,
                             d->n_sensors ? suggest_hint(hint, sizeof hint, g->sensor, names, d->n_sensors) : " (the file has none)");
        }
    }
    d->has_gpu = 1;
    return 0;
}

/* The ssh keys; they are only allowed (ynode_check_keys) when the type lists them. */
static int read_ssh(const YNode *map, const char *file, PlatformDesc *d, DescStorage *s, Err *err) {
    const char *identity, *known_hosts;
    if (get_string(map, "host", file, &d->host, err) || get_string(map, "user", file, &d->user, err) ||
        get_string(map, "identity", file, &identity, err) || get_string(map, "workdir", file, &d->workdir, err) ||
        get_string(map, "known_hosts", file, &known_hosts, err) ||
        get_string(map, "strict_host_key_checking", file, &d->strict_host_key_checking, err) ||
        get_int(map, "port", 1, 65535, 22, file, &d->port, err) ||
        get_int(map, "connect_timeout", 1, 3600, 10, file, &d->connect_timeout_s, err) ||
        get_int(map, "retries", 0, 100, 3, file, &d->retries, err) ||
        get_int(map, "backoff_ms", 0, 600000, 1000, file, &d->backoff_ms, err))
        return -1;
    if (identity && resolve_path(identity, file, &s->paths[1], err)) return -1;
    if (known_hosts && resolve_path(known_hosts, file, &s->paths[2], err)) return -1;
    d->identity = s->paths[1];
    d->known_hosts = s->paths[2];
    if (!d->workdir) d->workdir = "dynn-work";
    if (!d->strict_host_key_checking) d->strict_host_key_checking = "yes";
    return 0;
}

int platform_desc_read_flags(const YNode *node, const char *file, unsigned flags, PlatformDescFile *out, Err *err) {
    memset(out, 0, sizeof *out);
    PlatformDesc *d = &out->desc;
    DescStorage *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, "out of memory");
    out->storage = s;
    d->file = file;
    d->node = node;
    if (ynode_expect(node, YNODE_MAP, file, "a platform description", err)) goto fail;
    if (get_text(node, "name", PLATFORM_DESC_MAX_NAME, file, &d->name, err) ||
        get_text(node, "type", PLATFORM_DESC_MAX_NAME, file, &d->type, err))
        goto fail;
    for (const char *p = d->name ? d->name : ""; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p)) {
            ynode_err(err, file, ynode_get(node, "name"), "platform name '%s': use letters, digits, '_', '.', '-'", d->name);
            goto fail;
        }
    const char *shown = d->name ? d->name : "(no name)";
    if (!d->type) d->type = "local"; /* the profiler's own keys alone describe this machine */
    const PlatformType *type = platform_type_find(d->type);
    if (!type && !(flags & PLATFORM_READ_HERE)) {
        const char *names[64];
        size_t n = platform_type_names(names, 64);
        char hint[128];
        ynode_err(err, file, ynode_get(node, "type"), "platform '%s': unknown type '%s'%s (types: local, ssh, or one a plugin registers)",
                  shown, d->type, suggest_hint(hint, sizeof hint, d->type, names, n));
        goto fail;
    }
    int here = (flags & PLATFORM_READ_HERE) != 0;
    if (type && !here) { /* on the target the type's keys were checked where the board was loaded */
        const char *keys[MAX_KEYS];
        size_t n_keys = 0;
        for (size_t i = 0; i < COUNT(common_keys); i++) keys[n_keys++] = common_keys[i];
        for (size_t i = 0; i < type->n_keys && n_keys < MAX_KEYS; i++) keys[n_keys++] = type->keys[i];
        char context[160];
        snprintf(context, sizeof context, "platform '%s' (%s)", shown, d->type);
        if (ynode_check_keys(node, keys, n_keys, file, context, err)) goto fail;
    }
    const char *binary;
    if (get_text(node, "arch", PLATFORM_DESC_MAX_NAME, file, &d->arch, err) || get_string(node, "binary", file, &binary, err))
        goto fail;
    if (binary && !here && resolve_path(binary, file, &s->paths[0], err)) goto fail;
    d->binary = s->paths[0];
    if (read_prefix(node, file, d, s, err) || read_clusters(node, file, d, s, err) || read_sensors(node, file, d, err) ||
        read_gpu(node, file, d, s, err) || (!here && read_ssh(node, file, d, s, err)))
        goto fail;
    if (!d->name) { /* after the keys, so a mistake in them is named where it is */
        ynode_err(err, file, node, "a platform description needs a 'name'");
        goto fail;
    }
    if (type && !here && type->validate && type->validate(d, err)) goto fail;
    return 0;
fail:
    platform_desc_free(out);
    return -1;
}

int platform_desc_read(const YNode *node, const char *file, PlatformDescFile *out, Err *err) {
    return platform_desc_read_flags(node, file, 0, out, err);
}

int platform_desc_load_flags(const char *path, unsigned flags, PlatformDescFile *out, Err *err) {
    YNode *root;
    if (ynode_parse_file(path, &root, err)) return -1;
    char *copy = strdup(path);
    if (!copy) {
        ynode_free(root);
        return err_set(err, "out of memory");
    }
    if (platform_desc_read_flags(root, copy, flags, out, err)) {
        ynode_free(root);
        free(copy);
        return -1;
    }
    out->root = root;
    out->path = copy;
    return 0;
}

int platform_desc_load(const char *path, PlatformDescFile *out, Err *err) {
    return platform_desc_load_flags(path, 0, out, err);
}

void platform_desc_free(PlatformDescFile *pf) {
    DescStorage *s = pf->storage;
    if (s) {
        for (size_t i = 0; i < PLATFORM_DESC_MAX_CLUSTERS; i++) free(s->freqs[i]);
        free(s->prefix);
        free(s->prefix_text);
        for (size_t i = 0; i < COUNT(s->paths); i++) free(s->paths[i]);
        free(s->gpu_freqs);
        free(s);
    }
    ynode_free(pf->root);
    free(pf->path);
    memset(pf, 0, sizeof *pf);
}

int platform_desc_open_param(const YNode *platform, const char *file, const char *base, PlatformDescFile *pf, Err *err) {
    if (platform->kind == YNODE_MAP) return platform_desc_read(platform, file, pf, err);
    if (platform->kind != YNODE_SCALAR || !platform->str[0])
        return ynode_err(err, file, platform, "'platform' must be a name, a path to a .yaml file or a mapping");
    char path[PATH_MAX];
    Err why;
    if (platform_desc_find(platform->str, base, path, sizeof path, &why)) return ynode_err(err, file, platform, "%s", why.msg);
    return platform_desc_load(path, pf, err);
}

static int is_path(const char *v) {
    size_t n = strlen(v);
    return strchr(v, '/') || (n > 5 && !strcmp(v + n - 5, ".yaml")) || (n > 4 && !strcmp(v + n - 4, ".yml"));
}

int platform_desc_find(const char *value, const char *base, char *out, size_t size, Err *err) {
    char try1[PATH_MAX], try2[PATH_MAX] = "", exe[PATH_MAX], dir[PATH_MAX];
    if (is_path(value)) {
        if (fs_join(out, size, base, value)) return err_set(err, "%s: path too long", value);
        return fs_exists(out) ? 0 : err_set(err, "platform file '%s' does not exist", out);
    }
    for (const char *p = value; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            return err_set(err, "platform '%s': give a name from experiments/platforms/ or a path to a .yaml file", value);
    int w = snprintf(try1, sizeof try1, "%s/experiments/platforms/%s.yaml", base, value);
    if (w < 0 || (size_t)w >= sizeof try1) return err_set(err, "platform '%s': path too long", value);
    if (fs_exists(try1)) return snprintf(out, size, "%s", try1) < (int)size ? 0 : err_set(err, "path too long");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        fs_dirname(exe, dir, sizeof dir);
        w = snprintf(try2, sizeof try2, "%s/../experiments/platforms/%s.yaml", dir, value);
        if (w > 0 && (size_t)w < sizeof try2 && fs_exists(try2)) return snprintf(out, size, "%s", try2) < (int)size ? 0 : err_set(err, "path too long");
    }
    return err_set(err, "no platform '%s': neither %s nor %s exists", value, try1, try2[0] ? try2 : "(the dynn executable's tree)");
}

static const DescCluster *cluster_named(const PlatformDesc *d, const char *name) {
    for (size_t i = 0; i < d->n_clusters; i++)
        if (!strcmp(d->clusters[i].name, name)) return &d->clusters[i];
    return NULL;
}

const char *platform_desc_pin_cpus(const PlatformDesc *d, const char *cpus) {
    const DescCluster *cl = cluster_named(d, cpus);
    return cl ? cl->cpus : cpus;
}

const DescCluster *platform_desc_cluster(const PlatformDesc *d, const char *cpus) {
    const DescCluster *named = cluster_named(d, cpus);
    if (named) return named;
    cpu_set_t want, have;
    Err ignored = {0};
    if (cpulist_parse(cpus, "cpus", &want, &ignored) || !CPU_COUNT(&want)) return NULL;
    for (size_t i = 0; i < d->n_clusters; i++) {
        if (cpulist_parse(d->clusters[i].cpus, "cpus", &have, &ignored)) continue;
        cpu_set_t both;
        CPU_AND(&both, &want, &have);
        if (CPU_EQUAL(&both, &want)) return &d->clusters[i];
    }
    return NULL;
}

int platform_desc_board_file(const PlatformDescFile *pf, const char *dir, char *out, size_t size, Err *err) {
    if (pf->path) return snprintf(out, size, "%s", pf->path) < (int)size ? 0 : err_set(err, "%s: path too long", pf->path);
    if (fs_join(out, size, dir, "platform.yaml")) return err_set(err, "%s: path too long", dir);
    if (fs_mkdir_p(dir, err)) return -1;
    StrBuf sb = {0}; /* the mapping as it was given (JSON is YAML); every scalar a string, as the reader takes it */
    ynode_canonical_json(pf->desc.node, &sb);
    sb_append_char(&sb, '\n');
    int rc = sb.oom ? err_set(err, "out of memory") : atomic_write_file(out, sb.data, sb.len, err);
    sb_free(&sb);
    return rc;
}

/* How this repository builds dynn for a board's arch: " (make TARGET=...)", or "" for an arch it has no
 * cross build for (the Makefile's cross targets, README "Cross builds"). */
static const char *cross_build_hint(const char *arch) {
    if (!arch) return "";
    if (!strcmp(arch, "aarch64")) return " (make TARGET=aarch64)";
    if (!strcmp(arch, "armv7l")) return " (make TARGET=armhf)";
    return "";
}

int platform_desc_binary(const PlatformDesc *d, char *out, size_t size, Err *err) {
    if (d->binary) {
        if (access(d->binary, X_OK))
            return err_set(err, "platform '%s': its binary %s is not an executable file (%s): build dynn for %s%s or change 'binary:'",
                           d->name, d->binary, strerror(errno), d->arch ? d->arch : "the board", cross_build_hint(d->arch));
        return snprintf(out, size, "%s", d->binary) < (int)size ? 0 : err_set(err, "path too long");
    }
    struct utsname u;
    if (d->arch && !uname(&u) && strcmp(u.machine, d->arch))
        return err_set(err, "platform '%s' is %s and this dynn is built for %s: give the platform a 'binary:' (dynn built for %s%s)",
                       d->name, d->arch, u.machine, d->arch, cross_build_hint(d->arch));
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0) return err_set(err, "cannot find this dynn executable (/proc/self/exe)");
    out[n] = '\0';
    return 0;
}

static size_t add_names(const char *dir, char (*names)[PLATFORM_DESC_MAX_NAME + 1], size_t n, size_t max) {
    DIR *dp = opendir(dir);
    if (!dp) return n;
    for (struct dirent *e; (e = readdir(dp));) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || len - 5 > PLATFORM_DESC_MAX_NAME || strcmp(e->d_name + len - 5, ".yaml")) continue;
        char name[PLATFORM_DESC_MAX_NAME + 1];
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
        size_t at = 0; /* sorted insert, no repeats */
        while (at < n && strcmp(names[at], name) < 0) at++;
        if ((at < n && !strcmp(names[at], name)) || n == max) continue;
        memmove(names[at + 1], names[at], (n - at) * sizeof *names);
        memcpy(names[at], name, sizeof name);
        n++;
    }
    closedir(dp);
    return n;
}

size_t platform_desc_builtin_names(const char *base, char (*names)[PLATFORM_DESC_MAX_NAME + 1], size_t max) {
    char dir[PATH_MAX], exe[PATH_MAX], exe_dir[PATH_MAX];
    size_t n = 0;
    if (snprintf(dir, sizeof dir, "%s/experiments/platforms", base) < (int)sizeof dir) n = add_names(dir, names, n, max);
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        fs_dirname(exe, exe_dir, sizeof exe_dir);
        if (snprintf(dir, sizeof dir, "%s/../experiments/platforms", exe_dir) < (int)sizeof dir) n = add_names(dir, names, n, max);
    }
    return n;
}
