/* platforms/interference.c — the CPU share of a profiling point and the OpenMP wait policy (see
 * interference.h). */
#include "platforms/interference.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts)) return NAN;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The run delay (ns, field 2 of schedstat) of every thread of this process, summed, in seconds. */
static double run_delay_s(void) {
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return NAN;
    double sum = 0.0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/schedstat", e->d_name);
        FILE *fp = fopen(path, "r");
        unsigned long long run, delay;
        if (!fp) continue; /* the thread ended meanwhile */
        if (fscanf(fp, "%llu %llu", &run, &delay) == 2) sum += 1e-9 * (double)delay, n++;
        fclose(fp);
    }
    closedir(dir);
    return n ? sum : NAN;
}

/* Busy time of the CPUs of `cpus` from /proc/stat, in seconds. */
static double busy_s(const cpu_set_t *cpus) {
    FILE *fp = fopen("/proc/stat", "r");
    if (!fp) return NAN;
    long hz = sysconf(_SC_CLK_TCK);
    char line[512];
    unsigned long long ticks = 0;
    int found = 0;
    while (fgets(line, sizeof line, fp)) {
        int cpu;
        unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal = 0;
        if (strncmp(line, "cpu", 3) || !isdigit((unsigned char)line[3])) continue;
        int n = sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice, &sys, &idle, &iowait,
                       &irq, &softirq, &steal);
        if (n < 8 || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, cpus)) continue;
        ticks += user + nice + sys + irq + softirq + steal;
        found++;
    }
    fclose(fp);
    return found && hz > 0 ? (double)ticks / (double)hz : NAN;
}

void interference_snap(const cpu_set_t *cpus, InterferenceSnap *out) {
    out->busy_s = busy_s(cpus);
    out->run_delay_s = run_delay_s();
    out->cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    out->wall_s = clock_s(CLOCK_MONOTONIC);
}

void interference_shares(const InterferenceSnap *a, const InterferenceSnap *b, int threads, const cpu_set_t *cpus,
                         InterferenceShares *out) {
    double wall = b->wall_s - a->wall_s, cpu = b->cpu_s - a->cpu_s;
    int ncpus = CPU_COUNT(cpus);
    out->cpu_share = out->wait_share = out->others_share = NAN;
    out->wall_s = wall, out->threads = threads, out->cpus = ncpus;
    if (!(wall > 0) || threads < 1 || ncpus < 1) return;
    out->cpu_share = cpu / (wall * threads);
    out->wait_share = (b->run_delay_s - a->run_delay_s) / (wall * threads);
    double others = (b->busy_s - a->busy_s) - cpu;
    out->others_share = isnan(others) ? NAN : (others > 0 ? others : 0.0) / (wall * ncpus);
}

double interference_level(const InterferenceShares *s) {
    if (!(s->wall_s >= INTERFERENCE_MIN_WALL_S) || s->threads < 1 || s->cpus < 1) return NAN;
    if (isnan(s->wait_share)) return s->wall_s >= INTERFERENCE_MIN_TICKS_S ? s->others_share : NAN;
    double self = s->threads > s->cpus ? 1.0 - (double)s->cpus / s->threads : 0.0; /* its own threads queue */
    return s->wait_share > self ? s->wait_share - self : 0.0;
}

int interference_flagged(const InterferenceShares *s, double max) {
    double level = interference_level(s);
    return !isnan(level) && level > max;
}

void interference_omp_wait(char *out, size_t size) {
    const char *policy = getenv("OMP_WAIT_POLICY"), *spin = getenv("GOMP_SPINCOUNT");
    char lower[32];
    size_t i = 0;
    for (; policy && policy[i] && i < sizeof lower - 1; i++) lower[i] = (char)tolower((unsigned char)policy[i]);
    lower[i] = '\0';
    int n = snprintf(out, size, "%s", lower[0] ? lower : "default");
    if (spin && spin[0] && n >= 0 && (size_t)n < size) snprintf(out + n, size - (size_t)n, ",spincount=%.20s", spin);
}

int interference_apply_wait_policy(const char *policy, int argc, char **argv, Err *err) {
    if (!policy || !strcmp(policy, "inherit")) return 0;
    const char *now = getenv("OMP_WAIT_POLICY");
    if (now && !strcasecmp(now, policy)) return 0;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return err_set(err, "--wait-policy %s: cannot find this dynn executable (/proc/self/exe)", policy);
    self[n] = '\0';
    char **args = calloc((size_t)argc + 2, sizeof *args), *before = now ? strdup(now) : NULL;
    if (!args || (now && !before)) {
        free(args);
        free(before);
        return err_set(err, "out of memory");
    }
    args[0] = self;
    for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
    if (setenv("OMP_WAIT_POLICY", policy, 1)) {
        free(args);
        free(before);
        return err_set(err, "--wait-policy %s: setenv: %s", policy, strerror(errno));
    }
    fflush(stdout);
    fflush(stderr);
    execv(self, args);
    /* Not run again (an emulator without binfmt_misc cannot exec a foreign binary): measure under the
     * policy the runtime has, which the condition omp_wait records, and say so. */
    int e = errno;
    if (before) setenv("OMP_WAIT_POLICY", before, 1);
    else unsetenv("OMP_WAIT_POLICY");
    char have[96];
    interference_omp_wait(have, sizeof have);
    fprintf(stderr, "dynn profile: note: --wait-policy %s not applied (cannot run %s again: %s); measuring under the "
                    "runtime's %s, recorded as omp_wait\n", policy, self, strerror(e), have);
    free(args);
    free(before);
    return 0;
}
