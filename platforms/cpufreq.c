/* platforms/cpufreq.c — cpufreq sysfs: discovery, setting, restoring, the Ctrl-C handler (see
 * cpufreq.h). Everything that writes sysfs goes through platforms/sysfs_restore.c's async-signal-safe
 * helpers so that the signal handler (the one shared with devfreq) can share it. */
#include "platforms/cpufreq.h"

#include "platforms/sysfs_restore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers (async-signal-safe: platforms/sysfs_restore.h) ---- */

static void fmt_long(char *out, long v) { sysfs_fmt_ll(out, v); }

static long parse_long(const char *s, int *ok) {
    long long v = sysfs_parse_ll(s, ok);
    if (v > LONG_MAX) *ok = 0;
    return *ok ? (long)v : 0;
}

static const char *basename_of(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Writes val to path and records it in the trace. */
static int traced_write(Cpufreq *cf, const CpufreqPolicy *p, const char *path, const char *val) {
    if (cf->n_trace < CPUFREQ_MAX_TRACE) {
        CpufreqWrite *w = &cf->trace[cf->n_trace++];
        w->cpu = p->cpu;
        sysfs_copy(w->file, sizeof w->file, basename_of(path));
        sysfs_copy(w->value, sizeof w->value, val);
    }
    return sysfs_raw_write(path, val);
}

/* min = lo, max = hi in the order that keeps min <= max: raise max first when the new min is above
 * the current max, else lower min first. Returns 0 or -errno; *failed = the path that failed. */
static int set_minmax(Cpufreq *cf, const CpufreqPolicy *p, long lo, long hi, const char **failed) {
    char cur[64], lo_s[24], hi_s[24];
    int ok = 0;
    long cur_max = sysfs_raw_read(p->max_path, cur, sizeof cur) == 0 ? parse_long(cur, &ok) : 0;
    if (!ok) cur_max = LONG_MAX;
    fmt_long(lo_s, lo);
    fmt_long(hi_s, hi);
    const char *first = p->min_path, *second = p->max_path, *v1 = lo_s, *v2 = hi_s;
    if (lo > cur_max) {
        first = p->max_path, second = p->min_path, v1 = hi_s, v2 = lo_s;
    }
    int rc = traced_write(cf, p, first, v1);
    if (rc) {
        *failed = first;
        return rc;
    }
    rc = traced_write(cf, p, second, v2);
    if (rc) *failed = second;
    return rc;
}

/* Puts every changed policy back; returns 0 or the first -errno (*failed = its path). */
static int restore_raw(Cpufreq *cf, const char **failed) {
    int first_rc = 0;
    for (int i = 0; i < cf->n_policies; i++) {
        CpufreqPolicy *p = &cf->policies[i];
        if (!p->changed) continue;
        const char *where = p->governor_path;
        int rc = cf->method == CPUFREQ_USERSPACE ? traced_write(cf, p, p->governor_path, p->orig_governor)
                                                 : set_minmax(cf, p, p->orig_min_khz, p->orig_max_khz, &where);
        if (rc && !first_rc) {
            first_rc = rc;
            *failed = where;
        }
        if (!rc) p->changed = 0;
    }
    return first_rc;
}

/* ---- the signal handler (shared with devfreq: platforms/sysfs_restore.c) ---- */

static void restore_on_signal(void *owner) {
    const char *failed = NULL;
    restore_raw(owner, &failed);
}

static int install_handler(Cpufreq *cf) { return sysfs_restore_register(restore_on_signal, cf); }

static void remove_handler(Cpufreq *cf) { sysfs_restore_unregister(cf); }

/* ---- discovery ---- */

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int read_khz(const char *dir, const char *file, long *out) {
    char path[CPUFREQ_PATH + 64], buf[64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int ok = 0;
    if (sysfs_raw_read(path, buf, sizeof buf)) return -1;
    *out = parse_long(buf, &ok);
    return ok ? 0 : -1;
}

/* Frequencies: scaling_available_frequencies, else the cpuinfo range, else the current limits. */
static void read_freqs(CpufreqPolicy *p) {
    char path[CPUFREQ_PATH + 64], buf[2048];
    snprintf(path, sizeof path, "%s/scaling_available_frequencies", p->dir);
    p->n_freqs = 0;
    if (sysfs_raw_read(path, buf, sizeof buf) == 0) {
        char *save = NULL;
        for (char *tok = strtok_r(buf, " \t\n", &save); tok && p->n_freqs < CPUFREQ_MAX_FREQS;
             tok = strtok_r(NULL, " \t\n", &save)) {
            int ok;
            long v = parse_long(tok, &ok);
            if (ok && v > 0) p->freqs_khz[p->n_freqs++] = v;
        }
    }
    p->discrete = p->n_freqs > 0;
    if (!p->discrete) {
        long lo, hi;
        if (read_khz(p->dir, "cpuinfo_min_freq", &lo) || read_khz(p->dir, "cpuinfo_max_freq", &hi)) {
            lo = p->orig_min_khz;
            hi = p->orig_max_khz;
        }
        p->freqs_khz[p->n_freqs++] = lo;
        if (hi != lo) p->freqs_khz[p->n_freqs++] = hi;
    }
    qsort(p->freqs_khz, (size_t)p->n_freqs, sizeof(long), cmp_long);
    int n = 0;
    for (int i = 0; i < p->n_freqs; i++)
        if (!n || p->freqs_khz[n - 1] != p->freqs_khz[i]) p->freqs_khz[n++] = p->freqs_khz[i];
    p->n_freqs = n;
}

static int has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *s = strstr(list, word); s; s = strstr(s + 1, word))
        if ((s == list || isspace((unsigned char)s[-1])) && (!s[n] || isspace((unsigned char)s[n]))) return 1;
    return 0;
}

static int unavailable(Cpufreq *cf, const char *fmt, const char *a, const char *b) {
    cf->available = 0;
    cf->method = CPUFREQ_NONE;
    snprintf(cf->reason, sizeof cf->reason, fmt, a, b);
    return 0;
}

/* Saves a policy's state; returns 0, or fills cf->reason and returns -1. */
static int read_policy(Cpufreq *cf, CpufreqPolicy *p) {
    int rc = sysfs_raw_read(p->governor_path, p->orig_governor, sizeof p->orig_governor);
    if (rc) {
        unavailable(cf, "cannot read %s (%s)", p->governor_path, strerror(-rc));
        return -1;
    }
    if (read_khz(p->dir, "scaling_min_freq", &p->orig_min_khz) || read_khz(p->dir, "scaling_max_freq", &p->orig_max_khz)) {
        unavailable(cf, "cannot read the scaling_min_freq/scaling_max_freq limits in %s%s", p->dir, "");
        return -1;
    }
    read_freqs(p);
    return 0;
}

int cpufreq_open(Cpufreq *cf, const char *root, Err *err) {
    memset(cf, 0, sizeof *cf);
    if (strlen(root) >= sizeof cf->root) return err_set(err, "--sysfs-root: '%s' is too long", root);
    sysfs_copy(cf->root, sizeof cf->root, root);
    char cpu_dir[CPUFREQ_PATH];
    snprintf(cpu_dir, sizeof cpu_dir, "%s/devices/system/cpu", root);
    DIR *dir = opendir(cpu_dir);
    if (!dir) return unavailable(cf, "no CPU directory %s (%s)", cpu_dir, strerror(errno));
    int cpus[CPU_SETSIZE], n_cpus = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n_cpus < CPU_SETSIZE) {
        int ok;
        if (strncmp(e->d_name, "cpu", 3)) continue;
        long c = parse_long(e->d_name + 3, &ok);
        if (ok && c < CPU_SETSIZE) cpus[n_cpus++] = (int)c;
    }
    closedir(dir);
    /* ascending CPU numbers (insertion sort: a few hundred at most) */
    for (int i = 1; i < n_cpus; i++)
        for (int j = i; j > 0 && cpus[j - 1] > cpus[j]; j--) {
            int t = cpus[j];
            cpus[j] = cpus[j - 1];
            cpus[j - 1] = t;
        }
    for (int i = 0; i < n_cpus; i++) {
        char path[CPUFREQ_PATH + 64], real[PATH_MAX];
        snprintf(path, sizeof path, "%s/cpu%d/cpufreq", cpu_dir, cpus[i]);
        struct stat st;
        if (stat(path, &st) || !S_ISDIR(st.st_mode)) continue;
        const char *key = realpath(path, real) ? real : path;
        CpufreqPolicy *p = NULL;
        for (int k = 0; k < cf->n_policies; k++)
            if (!strcmp(cf->policies[k].dir, key)) p = &cf->policies[k];
        if (!p) {
            if (cf->n_policies == CPUFREQ_MAX_POLICIES) break;
            p = &cf->policies[cf->n_policies++];
            p->cpu = cpus[i];
            CPU_ZERO(&p->cpus);
            if (strlen(key) > 480) /* room for "/scaling_governor" in the paths below */
                return unavailable(cf, "cpufreq path %.500s... is too long%s", key, "");
            sysfs_copy(p->dir, sizeof p->dir, key);
            snprintf(p->governor_path, sizeof p->governor_path, "%.480s/scaling_governor", key);
            snprintf(p->setspeed_path, sizeof p->setspeed_path, "%.480s/scaling_setspeed", key);
            snprintf(p->min_path, sizeof p->min_path, "%.480s/scaling_min_freq", key);
            snprintf(p->max_path, sizeof p->max_path, "%.480s/scaling_max_freq", key);
        }
        CPU_SET(cpus[i], &p->cpus);
    }
    if (cf->n_policies == 0) {
        char first[CPUFREQ_PATH + 64];
        snprintf(first, sizeof first, "%s/cpu0/cpufreq", cpu_dir);
        return unavailable(cf, "no cpufreq under %s%s", first, "");
    }
    int userspace = 1;
    for (int i = 0; i < cf->n_policies; i++) {
        CpufreqPolicy *p = &cf->policies[i];
        if (read_policy(cf, p)) return 0;
        char path[CPUFREQ_PATH + 64], govs[512] = "";
        snprintf(path, sizeof path, "%s/scaling_available_governors", p->dir);
        sysfs_raw_read(path, govs, sizeof govs);
        if (!has_word(govs, "userspace") || access(p->setspeed_path, F_OK)) userspace = 0;
    }
    cf->method = userspace ? CPUFREQ_USERSPACE : CPUFREQ_MINMAX;
    /* Writable? Write a current value back: the governor (userspace) or the max limit (minmax). */
    for (int i = 0; i < cf->n_policies; i++) {
        CpufreqPolicy *p = &cf->policies[i];
        char max_s[24];
        fmt_long(max_s, p->orig_max_khz);
        const char *path = userspace ? p->governor_path : p->max_path;
        int rc = sysfs_raw_write(path, userspace ? p->orig_governor : max_s);
        if (rc) return unavailable(cf, "%s is not writable (%s): DVFS needs root and a writable cpufreq", path, strerror(-rc));
    }
    cf->available = 1;
    return 0;
}

const char *cpufreq_method_name(CpufreqMethod m) {
    return m == CPUFREQ_USERSPACE ? "userspace" : m == CPUFREQ_MINMAX ? "minmax" : "none";
}

const CpufreqPolicy *cpufreq_policy_of(const Cpufreq *cf, int cpu) {
    for (int i = 0; i < cf->n_policies; i++)
        if (CPU_ISSET(cpu, &cf->policies[i].cpus)) return &cf->policies[i];
    return NULL;
}

static int lowest_cpu(const cpu_set_t *set) {
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set)) return c;
    return -1;
}

static void freq_list_text(const CpufreqPolicy *p, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < p->n_freqs && len + 1 < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%ld", i ? (p->discrete ? " " : "..") : "", p->freqs_khz[i]);
}

int cpufreq_resolve(const Cpufreq *cf, const cpu_set_t *cpus, const char *spec, long *khz, int max, int *n,
                    Err *err) {
    *n = 0;
    if (!cf->available) return err_set(err, "--freq: DVFS is not available: %s", cf->reason);
    int cpu = lowest_cpu(cpus);
    const CpufreqPolicy *p = cpu >= 0 ? cpufreq_policy_of(cf, cpu) : NULL;
    if (!p) return err_set(err, "--freq: CPU %d has no cpufreq policy under %s/devices/system/cpu", cpu, cf->root);
    char copy[1024];
    if (strlen(spec) >= sizeof copy) return err_set(err, "--freq: list too long");
    sysfs_copy(copy, sizeof copy, spec);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long list[CPUFREQ_MAX_FREQS];
        int m = 0, ok;
        if (!strcmp(tok, "all")) {
            for (int i = 0; i < p->n_freqs; i++) list[m++] = p->freqs_khz[i];
        } else if (!strcmp(tok, "min")) {
            list[m++] = p->freqs_khz[0];
        } else if (!strcmp(tok, "max")) {
            list[m++] = p->freqs_khz[p->n_freqs - 1];
        } else {
            long v = parse_long(tok, &ok);
            if (!ok || v <= 0) return err_set(err, "--freq: '%s' is not a frequency in kHz, all, min or max", tok);
            int found = 0;
            for (int i = 0; i < p->n_freqs; i++) found |= p->freqs_khz[i] == v;
            if (!p->discrete) found = v >= p->freqs_khz[0] && v <= p->freqs_khz[p->n_freqs - 1];
            if (!found) {
                char avail[1024];
                freq_list_text(p, avail, sizeof avail);
                return err_set(err, "--freq: %ld kHz is not available on CPU %d (available: %s)", v, cpu, avail);
            }
            list[m++] = v;
        }
        for (int i = 0; i < m; i++) {
            int dup = 0;
            for (int k = 0; k < *n; k++) dup |= khz[k] == list[i];
            if (dup) continue;
            if (*n == max) return err_set(err, "--freq: more than %d frequencies", max);
            khz[(*n)++] = list[i];
        }
    }
    if (*n == 0) return err_set(err, "--freq: empty list");
    return 0;
}

int cpufreq_set(Cpufreq *cf, const cpu_set_t *cpus, long khz, Err *err) {
    if (!cf->available) return err_set(err, "DVFS is not available: %s", cf->reason);
    if (install_handler(cf))
        return err_set(err, "cannot set CPU frequencies: %d other settings await restoring already", SYSFS_RESTORE_MAX);
    for (int i = 0; i < cf->n_policies; i++) {
        CpufreqPolicy *p = &cf->policies[i];
        cpu_set_t both;
        CPU_AND(&both, &p->cpus, cpus);
        if (!CPU_COUNT(&both)) continue;
        long target = p->freqs_khz[0];
        for (int k = 0; k < p->n_freqs; k++)
            if (p->freqs_khz[k] <= khz) target = p->freqs_khz[k];
        if (!p->discrete && khz >= p->freqs_khz[0] && khz <= p->freqs_khz[p->n_freqs - 1]) target = khz;
        char val[24];
        fmt_long(val, target);
        const char *failed = NULL;
        int rc;
        if (cf->method == CPUFREQ_USERSPACE) {
            int first = !p->changed;
            p->changed = 1;
            rc = first ? traced_write(cf, p, p->governor_path, "userspace") : 0;
            failed = p->governor_path;
            if (!rc) {
                rc = traced_write(cf, p, p->setspeed_path, val);
                failed = p->setspeed_path;
            }
        } else {
            p->changed = 1;
            rc = set_minmax(cf, p, target, target, &failed);
        }
        if (rc) return err_set(err, "%s: cannot write %s (%s)", failed, val, strerror(-rc));
    }
    return 0;
}

int cpufreq_restore(Cpufreq *cf, Err *err) {
    const char *failed = NULL;
    int rc = restore_raw(cf, &failed);
    remove_handler(cf);
    if (rc) return err_set(err, "%s: cannot restore the original setting (%s)", failed, strerror(-rc));
    return 0;
}
