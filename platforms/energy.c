/* platforms/energy.c — power sensors, RAPL counters, the sampling thread (see energy.h). */
#include "platforms/energy.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/fs.h"

static const char *const KIND_NAMES[] = {"hwmon", "ina231", "ina3221", "rapl"};

int energy_sensor_kind(const char *name, SensorKind *out) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, KIND_NAMES[i])) {
            *out = (SensorKind)i;
            return 0;
        }
    return -1;
}

const char *energy_sensor_kind_name(SensorKind kind) { return KIND_NAMES[kind]; }

double energy_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int energy_resolve_path(const char *root, const char *path, char *out, size_t size, Err *err) {
    int n;
    if (!strncmp(path, "/sys/", 5)) n = snprintf(out, size, "%s/%s", root, path + 5);
    else if (path[0] == '/') n = snprintf(out, size, "%s", path);
    else n = snprintf(out, size, "%s/%s", root, path);
    if (n < 0 || (size_t)n >= size) return err_set(err, "sensor path '%s' is too long", path);
    return 0;
}

/* A whole small file as text. */
static int read_text(const char *path, char *buf, size_t size, Err *err) {
    FILE *fp = fopen(path, "r");
    if (!fp) return err_set(err, "%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, size - 1, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) return err_set(err, "%s: read error", path);
    buf[n] = '\0';
    return 0;
}

static int read_number(const char *path, double *v, unsigned long long *u, Err *err) {
    char buf[128], *end;
    if (read_text(path, buf, sizeof buf, err)) return -1;
    errno = 0;
    if (u) {
        *u = strtoull(buf, &end, 10);
        *v = (double)*u;
    } else {
        *v = strtod(buf, &end);
    }
    while (*end == '\n' || *end == ' ' || *end == '\t') end++;
    if (end == buf || *end || errno) return err_set(err, "%s: '%.40s' is not a number", path, buf);
    return 0;
}

int power_sensor_read(const PowerSensor *s, double *value, unsigned long long *raw, Err *err) {
    double v;
    unsigned long long u = 0;
    if (read_number(s->path, &v, s->kind == SENSOR_RAPL ? &u : NULL, err)) return -1;
    static const double unit[] = {1e-6, 1.0, 1e-3, 1e-6}; /* microwatts, watts, milliwatts, microjoules */
    *value = v * unit[s->kind] * s->scale;
    if (raw) *raw = u;
    return 0;
}

unsigned long long rapl_delta_uj(unsigned long long prev, unsigned long long cur, unsigned long long range_uj) {
    if (cur >= prev) return cur - prev;
    return range_uj > prev ? range_uj - prev + cur : cur; /* one wrap; a reset counts from zero */
}

int energy_add_sensor(EnergySensors *es, const char *root, const char *name, SensorKind kind, const char *path,
                      double scale, Err *err) {
    if (es->n == ENERGY_MAX_SENSORS) return err_set(err, "more than %d power sensors", ENERGY_MAX_SENSORS);
    PowerSensor *s = &es->s[es->n];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%.63s", name);
    s->kind = kind;
    s->scale = scale;
    if (energy_resolve_path(root, path, s->path, sizeof s->path, err)) return -1;
    double v;
    if (power_sensor_read(s, &v, NULL, err)) return err_prefix(err, "sensor '%s'", name);
    if (kind == SENSOR_RAPL) {
        char dir[512], range[600];
        fs_dirname(s->path, dir, sizeof dir);
        snprintf(range, sizeof range, "%s/max_energy_range_uj", dir);
        if (read_number(range, &v, &s->range_uj, err)) return err_prefix(err, "sensor '%s' (rapl)", name);
    }
    es->n++;
    return 0;
}

int energy_add_rapl_domains(EnergySensors *es, const char *root) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/class/powercap", root);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int added = 0;
    struct dirent *e;
    char names[ENERGY_MAX_SENSORS][64];
    int n = 0;
    while ((e = readdir(d)) && n < ENERGY_MAX_SENSORS) {
        /* package domains only: "intel-rapl:0", not the "intel-rapl:0:0" subdomains they contain */
        if (strncmp(e->d_name, "intel-rapl:", 11) || strchr(e->d_name + 11, ':')) continue;
        snprintf(names[n++], sizeof names[0], "%.63s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < n; i++) {
        char path[700];
        Err ignore;
        snprintf(path, sizeof path, "class/powercap/%.63s/energy_uj", names[i]);
        if (energy_add_sensor(es, root, names[i], SENSOR_RAPL, path, 1.0, &ignore) == 0) added++;
    }
    return added;
}

void energy_meter_begin(EnergyMeter *m, const EnergySensors *es) {
    memset(m, 0, sizeof *m);
    m->es = es;
}

int energy_meter_sample(EnergyMeter *m, double t, Err *err) {
    double power = 0.0, counted = 0.0;
    unsigned long long raw[ENERGY_MAX_SENSORS] = {0};
    for (int i = 0; i < m->es->n; i++) {
        const PowerSensor *s = &m->es->s[i];
        double v;
        if (power_sensor_read(s, &v, &raw[i], err)) return -1;
        if (s->kind != SENSOR_RAPL) power += v;
        else if (m->n_samples) counted += 1e-6 * s->scale * (double)rapl_delta_uj(m->rapl_last[i], raw[i], s->range_uj);
    }
    if (m->n_samples) {
        m->joules += 0.5 * (power + m->power_w_last) * (t - m->t_last) + counted;
        if (t - m->t_last > m->max_gap_s) m->max_gap_s = t - m->t_last;
    } else {
        m->t_first = t;
    }
    for (int i = 0; i < m->es->n; i++) m->rapl_last[i] = raw[i];
    m->power_w_last = power;
    m->t_last = t;
    m->n_samples++;
    return 0;
}

double energy_meter_seconds(const EnergyMeter *m) { return m->n_samples ? m->t_last - m->t_first : 0.0; }

static void *sampler_main(void *arg) {
    EnergyMeter *m = arg;
    struct timespec period = {(time_t)m->period_s, (long)((m->period_s - (double)(time_t)m->period_s) * 1e9)};
    while (!m->stop) {
        nanosleep(&period, NULL);
        if (m->stop) break;
        Err err;
        if (!m->failed && energy_meter_sample(m, energy_now(), &err)) {
            m->error = err;
            m->failed = 1;
        }
    }
    return NULL;
}

int energy_meter_start(EnergyMeter *m, const EnergySensors *es, double period_s, const cpu_set_t *cpus, Err *err) {
    energy_meter_begin(m, es);
    m->period_s = period_s;
    if (energy_meter_sample(m, energy_now(), err)) return -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (cpus) pthread_attr_setaffinity_np(&attr, sizeof *cpus, cpus);
    int rc = pthread_create(&m->thread, &attr, sampler_main, m);
    pthread_attr_destroy(&attr);
    if (rc) return err_set(err, "cannot start the power sampling thread: %s", strerror(rc));
    m->running = 1;
    return 0;
}

int energy_meter_stop(EnergyMeter *m, Err *err) {
    if (m->running) {
        m->stop = 1;
        pthread_join(m->thread, NULL);
        m->running = 0;
    }
    if (m->failed) {
        *err = m->error;
        return -1;
    }
    return energy_meter_sample(m, energy_now(), err);
}
