/* platforms/platform_file.c — reading a platform description YAML for the profiler (see
 * platform_file.h): the profiler's own subset, or a whole board description (experiments/platforms/,
 * with `type:`), which is read and checked by the stage side's reader (platform_desc.c). */
#include "platforms/platform_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ynode.h"
#include "platforms/affinity.h"
#include "platforms/platform.h"

static const char *const TOP_KEYS[] = {"name", "arch", "clusters", "frequencies_khz", "sensors"};
static const char *const SENSOR_KEYS[] = {"name", "kind", "path", "scale"};

static int scalar_copy(const YNode *n, const char *file, const char *what, char *out, size_t size, Err *err) {
    if (ynode_expect(n, YNODE_SCALAR, file, what, err)) return -1;
    if (strlen(n->str) >= size) return ynode_err(err, file, n, "%s is too long (at most %zu characters)", what, size - 1);
    memcpy(out, n->str, strlen(n->str) + 1);
    return 0;
}

static int load_clusters(const YNode *map, PlatformFile *pf, Err *err) {
    const char *file = pf->path;
    if (ynode_expect(map, YNODE_MAP, file, "'clusters'", err)) return -1;
    for (size_t i = 0; i < map->len; i++) {
        if (pf->n_clusters == PLATFORM_MAX_CLUSTERS)
            return ynode_err(err, file, map->pairs[i].key, "more than %d clusters", PLATFORM_MAX_CLUSTERS);
        PlatformCluster *c = &pf->clusters[pf->n_clusters];
        if (scalar_copy(map->pairs[i].key, file, "a cluster name", c->name, sizeof c->name, err)) return -1;
        const YNode *v = map->pairs[i].value;
        char what[64];
        snprintf(what, sizeof what, "cluster '%s'", c->name);
        if (ynode_expect(v, YNODE_SCALAR, file, what, err)) return -1;
        Err bad;
        if (cpulist_parse(v->str, what, &c->cpus, &bad)) return ynode_err(err, file, v, "%s", bad.msg);
        pf->n_clusters++;
    }
    return 0;
}

static int load_frequencies(const YNode *map, PlatformFile *pf, Err *err) {
    const char *file = pf->path;
    if (ynode_expect(map, YNODE_MAP, file, "'frequencies_khz'", err)) return -1;
    for (size_t i = 0; i < map->len; i++) {
        const YNode *key = map->pairs[i].key, *list = map->pairs[i].value;
        PlatformCluster *c = (PlatformCluster *)platform_cluster(pf, key->str);
        if (!c) return ynode_err(err, file, key, "frequencies_khz: no cluster '%s' in 'clusters'", key->str);
        if (ynode_expect(list, YNODE_SEQ, file, "a frequency list", err)) return -1;
        if (list->len > PLATFORM_MAX_FREQS) return ynode_err(err, file, list, "more than %d frequencies", PLATFORM_MAX_FREQS);
        for (size_t k = 0; k < list->len; k++) {
            long long v;
            if (ynode_int(list->items[k], 1, 100000000, file, "a frequency in kHz", &v, err)) return -1;
            c->freqs_khz[c->n_freqs++] = (long)v;
        }
    }
    return 0;
}

static int load_sensors(const YNode *seq, PlatformFile *pf, Err *err) {
    const char *file = pf->path;
    if (ynode_expect(seq, YNODE_SEQ, file, "'sensors'", err)) return -1;
    for (size_t i = 0; i < seq->len; i++) {
        const YNode *m = seq->items[i];
        if (ynode_expect(m, YNODE_MAP, file, "a sensor", err) ||
            ynode_check_keys(m, SENSOR_KEYS, 4, file, "a sensor", err))
            return -1;
        if (pf->n_sensors == ENERGY_MAX_SENSORS) return ynode_err(err, file, m, "more than %d sensors", ENERGY_MAX_SENSORS);
        PlatformSensor *s = &pf->sensors[pf->n_sensors];
        const YNode *name = ynode_get(m, "name"), *kind = ynode_get(m, "kind"), *path = ynode_get(m, "path"),
                    *scale = ynode_get(m, "scale");
        if (!name || !kind || !path) return ynode_err(err, file, m, "a sensor needs name, kind and path");
        if (scalar_copy(name, file, "sensor name", s->name, sizeof s->name, err) ||
            scalar_copy(path, file, "sensor path", s->path, sizeof s->path, err) ||
            ynode_expect(kind, YNODE_SCALAR, file, "sensor kind", err))
            return -1;
        if (energy_sensor_kind(kind->str, &s->kind))
            return ynode_err(err, file, kind, "unknown sensor kind '%s' (hwmon, ina231, ina3221 or rapl)", kind->str);
        s->scale = 1.0;
        if (scale) {
            char *end;
            errno = 0;
            s->scale = scale->kind == YNODE_SCALAR ? strtod(scale->str, &end) : NAN;
            if (scale->kind != YNODE_SCALAR || !scale->str[0] || *end || errno || !(s->scale > 0) || !isfinite(s->scale))
                return ynode_err(err, file, scale, "sensor scale must be a positive number");
        }
        pf->n_sensors++;
    }
    return 0;
}

static int text_copy(const char *s, const char *file, const char *what, char *out, size_t size, Err *err) {
    if (strlen(s) >= size) return err_set(err, "%s: %s is too long (at most %zu characters)", file, what, size - 1);
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* The parts of a board description the profiler uses, copied into pf (already checked by
 * platform_desc_read: CPU lists, ascending frequencies, sensor kinds). */
static int from_desc(const PlatformDesc *d, PlatformFile *pf, Err *err) {
    const char *file = pf->path;
    if (text_copy(d->name, file, "'name'", pf->name, sizeof pf->name, err) ||
        (d->arch && text_copy(d->arch, file, "'arch'", pf->arch, sizeof pf->arch, err)))
        return -1;
    if (d->n_clusters > PLATFORM_MAX_CLUSTERS) return err_set(err, "%s: more than %d clusters", file, PLATFORM_MAX_CLUSTERS);
    for (size_t i = 0; i < d->n_clusters; i++) {
        const DescCluster *dc = &d->clusters[i];
        PlatformCluster *c = &pf->clusters[pf->n_clusters++];
        if (text_copy(dc->name, file, "a cluster name", c->name, sizeof c->name, err)) return -1;
        if (cpulist_parse(dc->cpus, dc->name, &c->cpus, err)) return -1;
        if (dc->n_freqs > PLATFORM_MAX_FREQS)
            return err_set(err, "%s: cluster '%s' has more than %d frequencies", file, dc->name, PLATFORM_MAX_FREQS);
        for (size_t k = 0; k < dc->n_freqs; k++) c->freqs_khz[c->n_freqs++] = (long)dc->freqs_khz[k];
    }
    if (d->n_sensors > ENERGY_MAX_SENSORS) return err_set(err, "%s: more than %d sensors", file, ENERGY_MAX_SENSORS);
    for (size_t i = 0; i < d->n_sensors; i++) {
        const DescSensor *ds = &d->sensors[i];
        PlatformSensor *ps = &pf->sensors[pf->n_sensors++];
        if (text_copy(ds->name, file, "sensor name", ps->name, sizeof ps->name, err) ||
            text_copy(ds->path, file, "sensor path", ps->path, sizeof ps->path, err))
            return -1;
        if (energy_sensor_kind(ds->kind, &ps->kind)) return err_set(err, "%s: unknown sensor kind '%s'", file, ds->kind);
        ps->scale = ds->scale;
    }
    return 0;
}

int platform_file_load(const char *path, PlatformFile *pf, Err *err) {
    memset(pf, 0, sizeof *pf);
    snprintf(pf->path, sizeof pf->path, "%s", path);
    YNode *root = NULL;
    if (ynode_parse_file(path, &root, err)) return -1;
    int rc = -1;
    const YNode *v;
    if (root->kind == YNODE_MAP && ynode_get(root, "type")) { /* a whole board description */
        PlatformDescFile d;
        if (platform_desc_read(root, path, &d, err) == 0) {
            rc = from_desc(&d.desc, pf, err);
            platform_desc_free(&d);
        }
        goto done;
    }
    if (ynode_expect(root, YNODE_MAP, path, "a platform file", err) ||
        ynode_check_keys(root, TOP_KEYS, sizeof TOP_KEYS / sizeof *TOP_KEYS, path, "a platform file", err))
        goto done;
    if ((v = ynode_get(root, "name")) && scalar_copy(v, path, "'name'", pf->name, sizeof pf->name, err)) goto done;
    if ((v = ynode_get(root, "arch")) && scalar_copy(v, path, "'arch'", pf->arch, sizeof pf->arch, err)) goto done;
    if ((v = ynode_get(root, "clusters")) && load_clusters(v, pf, err)) goto done;
    if ((v = ynode_get(root, "frequencies_khz")) && load_frequencies(v, pf, err)) goto done;
    if ((v = ynode_get(root, "sensors")) && load_sensors(v, pf, err)) goto done;
    rc = 0;
done:
    ynode_free(root);
    return rc;
}

const PlatformCluster *platform_cluster(const PlatformFile *pf, const char *name) {
    for (int i = 0; i < pf->n_clusters; i++)
        if (!strcmp(pf->clusters[i].name, name)) return &pf->clusters[i];
    return NULL;
}
