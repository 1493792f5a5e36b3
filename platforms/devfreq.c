/* platforms/devfreq.c — devfreq sysfs for a GPU: discovery, setting, restoring, the part of the
 * Ctrl-C handler that puts the node back (see devfreq.h). Everything that writes sysfs goes through
 * platforms/sysfs_restore.c's async-signal-safe helpers, so the signal handler can share it. */
#include "platforms/devfreq.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platforms/sysfs_restore.h"

/* ROOT/class/devfreq/NODE/file (and the governor's own directory). */
static void node_path(const Devfreq *df, const char *file, char *out, size_t size) {
    size_t a = strlen(df->dir), b = strlen(file);
    if (a + 1 + b >= size) {
        out[0] = '\0';
        return;
    }
    memcpy(out, df->dir, a);
    out[a] = '/';
    memcpy(out + a + 1, file, b + 1);
}

static const char *basename_of(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Writes val to DIR/file and records it in the trace. */
static int traced_write(Devfreq *df, const char *file, const char *val) {
    char path[DEVFREQ_PATH + 32];
    node_path(df, file, path, sizeof path);
    if (df->n_trace < DEVFREQ_MAX_TRACE) {
        DevfreqWrite *w = &df->trace[df->n_trace++];
        sysfs_copy(w->file, sizeof w->file, basename_of(file));
        sysfs_copy(w->value, sizeof w->value, val);
    }
    return sysfs_raw_write(path, val);
}

/* min = lo, max = hi in the order that keeps min <= max: raise max first when the new min is above
 * the current max, else lower min first. Returns 0 or -errno; *failed = the file that failed. */
static int set_minmax(Devfreq *df, long long lo, long long hi, const char **failed) {
    char path[DEVFREQ_PATH + 32], cur[64], lo_s[24], hi_s[24];
    int ok = 0;
    node_path(df, "max_freq", path, sizeof path);
    long long cur_max = sysfs_raw_read(path, cur, sizeof cur) == 0 ? sysfs_parse_ll(cur, &ok) : 0;
    if (!ok) cur_max = LLONG_MAX;
    sysfs_fmt_ll(lo_s, lo);
    sysfs_fmt_ll(hi_s, hi);
    const char *first = "min_freq", *second = "max_freq", *v1 = lo_s, *v2 = hi_s;
    if (lo > cur_max) first = "max_freq", second = "min_freq", v1 = hi_s, v2 = lo_s;
    int rc = traced_write(df, first, v1);
    if (rc) {
        *failed = first;
        return rc;
    }
    rc = traced_write(df, second, v2);
    if (rc) *failed = second;
    return rc;
}

/* Puts the node back; returns 0 or -errno (*failed = the file). */
static int restore_raw(Devfreq *df, const char **failed) {
    if (!df->changed) return 0;
    *failed = "governor";
    int rc = df->method == DEVFREQ_USERSPACE ? traced_write(df, "governor", df->orig_governor)
                                             : set_minmax(df, df->orig_min_hz, df->orig_max_hz, failed);
    if (!rc) df->changed = 0;
    return rc;
}

static void restore_on_signal(void *owner) {
    const char *failed = NULL;
    restore_raw(owner, &failed);
}

/* ---- discovery ---- */

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int read_hz(const Devfreq *df, const char *file, long long *out) {
    char path[DEVFREQ_PATH + 32], buf[64];
    node_path(df, file, path, sizeof path);
    int ok = 0;
    if (sysfs_raw_read(path, buf, sizeof buf)) return -1;
    *out = sysfs_parse_ll(buf, &ok);
    return ok ? 0 : -1;
}

/* available_frequencies (Hz), else the min..max limits as a range; ascending, no repeats. */
static void read_freqs(Devfreq *df) {
    char path[DEVFREQ_PATH + 32], buf[4096];
    node_path(df, "available_frequencies", path, sizeof path);
    df->n_freqs = 0;
    if (sysfs_raw_read(path, buf, sizeof buf) == 0) {
        char *save = NULL;
        for (char *tok = strtok_r(buf, " \t\n", &save); tok && df->n_freqs < DEVFREQ_MAX_FREQS;
             tok = strtok_r(NULL, " \t\n", &save)) {
            int ok;
            long long v = sysfs_parse_ll(tok, &ok);
            if (ok && v > 0) df->freqs_hz[df->n_freqs++] = v;
        }
    }
    df->discrete = df->n_freqs > 0;
    if (!df->discrete) {
        df->freqs_hz[df->n_freqs++] = df->orig_min_hz;
        if (df->orig_max_hz != df->orig_min_hz) df->freqs_hz[df->n_freqs++] = df->orig_max_hz;
    }
    qsort(df->freqs_hz, (size_t)df->n_freqs, sizeof(long long), cmp_ll);
    int n = 0;
    for (int i = 0; i < df->n_freqs; i++)
        if (!n || df->freqs_hz[n - 1] != df->freqs_hz[i]) df->freqs_hz[n++] = df->freqs_hz[i];
    df->n_freqs = n;
}

static int has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *s = strstr(list, word); s; s = strstr(s + 1, word))
        if ((s == list || isspace((unsigned char)s[-1])) && (!s[n] || isspace((unsigned char)s[n]))) return 1;
    return 0;
}

static int unavailable(Devfreq *df, const char *fmt, const char *a, const char *b) {
    df->available = 0;
    df->method = DEVFREQ_NONE;
    snprintf(df->reason, sizeof df->reason, fmt, a, b);
    return 0;
}

int devfreq_open(Devfreq *df, const char *root, const char *node, Err *err) {
    memset(df, 0, sizeof *df);
    df->cur_hz = -1;
    if (strlen(root) >= sizeof df->root) return err_set(err, "--sysfs-root: '%s' is too long", root);
    if (!node[0] || strlen(node) > DEVFREQ_MAX_NODE || strchr(node, '/') || !strcmp(node, ".") || !strcmp(node, ".."))
        return err_set(err, "GPU devfreq node '%s': give the name of a directory of /sys/class/devfreq (57000000.gpu), "
                            "at most %d characters", node, DEVFREQ_MAX_NODE);
    sysfs_copy(df->root, sizeof df->root, root);
    sysfs_copy(df->node, sizeof df->node, node);
    snprintf(df->dir, sizeof df->dir, "%s/class/devfreq/%s", root, node);
    struct stat st;
    if (stat(df->dir, &st)) return unavailable(df, "no devfreq node %s (%s)", df->dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return unavailable(df, "no devfreq node %s (%s)", df->dir, "not a directory");
    char path[DEVFREQ_PATH + 32];
    node_path(df, "governor", path, sizeof path);
    int rc = sysfs_raw_read(path, df->orig_governor, sizeof df->orig_governor);
    if (rc) return unavailable(df, "cannot read %s (%s)", path, strerror(-rc));
    if (read_hz(df, "min_freq", &df->orig_min_hz) || read_hz(df, "max_freq", &df->orig_max_hz))
        return unavailable(df, "cannot read the min_freq/max_freq limits in %s%s", df->dir, "");
    if (read_hz(df, "cur_freq", &df->cur_hz)) df->cur_hz = -1;
    read_freqs(df);
    char govs[512] = "";
    node_path(df, "available_governors", path, sizeof path);
    sysfs_raw_read(path, govs, sizeof govs);
    df->method = has_word(govs, "userspace") ? DEVFREQ_USERSPACE : DEVFREQ_MINMAX;
    /* Writable? Write a current value back: the governor (userspace) or the max limit (minmax). */
    char max_s[24];
    sysfs_fmt_ll(max_s, df->orig_max_hz);
    node_path(df, df->method == DEVFREQ_USERSPACE ? "governor" : "max_freq", path, sizeof path);
    rc = sysfs_raw_write(path, df->method == DEVFREQ_USERSPACE ? df->orig_governor : max_s);
    if (rc) return unavailable(df, "%s is not writable (%s): GPU DVFS needs root and a writable devfreq node", path, strerror(-rc));
    df->available = 1;
    return 0;
}

const char *devfreq_method_name(DevfreqMethod m) {
    return m == DEVFREQ_USERSPACE ? "userspace" : m == DEVFREQ_MINMAX ? "minmax" : "none";
}

static void freq_list_text(const Devfreq *df, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < df->n_freqs && len + 1 < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%lld", i ? (df->discrete ? " " : "..") : "", df->freqs_hz[i]);
}

int devfreq_resolve(const Devfreq *df, const char *spec, long long *hz, int max, int *n, Err *err) {
    *n = 0;
    if (!df->available) return err_set(err, "--gpu-freq: GPU DVFS is not available: %s", df->reason);
    char copy[1024];
    if (strlen(spec) >= sizeof copy) return err_set(err, "--gpu-freq: list too long");
    sysfs_copy(copy, sizeof copy, spec);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long long list[DEVFREQ_MAX_FREQS];
        int m = 0, ok;
        if (!strcmp(tok, "all")) {
            for (int i = 0; i < df->n_freqs; i++) list[m++] = df->freqs_hz[i];
        } else if (!strcmp(tok, "min")) {
            list[m++] = df->freqs_hz[0];
        } else if (!strcmp(tok, "max")) {
            list[m++] = df->freqs_hz[df->n_freqs - 1];
        } else {
            long long v = sysfs_parse_ll(tok, &ok);
            if (!ok || v <= 0) return err_set(err, "--gpu-freq: '%s' is not a frequency in Hz, all, min or max", tok);
            int found = 0;
            for (int i = 0; i < df->n_freqs; i++) found |= df->freqs_hz[i] == v;
            if (!df->discrete) found = v >= df->freqs_hz[0] && v <= df->freqs_hz[df->n_freqs - 1];
            if (!found) {
                char avail[1024];
                freq_list_text(df, avail, sizeof avail);
                return err_set(err, "--gpu-freq: %lld Hz is not available on GPU devfreq node %s (available: %s)", v,
                               df->node, avail);
            }
            list[m++] = v;
        }
        for (int i = 0; i < m; i++) {
            int dup = 0;
            for (int k = 0; k < *n; k++) dup |= hz[k] == list[i];
            if (dup) continue;
            if (*n == max) return err_set(err, "--gpu-freq: more than %d frequencies", max);
            hz[(*n)++] = list[i];
        }
    }
    if (*n == 0) return err_set(err, "--gpu-freq: empty list");
    return 0;
}

/* The governor's set_freq: NODE/userspace/set_freq (mainline), else NODE/set_freq. */
static const char *set_freq_file(const Devfreq *df) {
    char path[DEVFREQ_PATH + 32];
    node_path(df, "userspace/set_freq", path, sizeof path);
    return access(path, F_OK) == 0 ? "userspace/set_freq" : "set_freq";
}

int devfreq_set(Devfreq *df, long long hz, Err *err) {
    if (!df->available) return err_set(err, "GPU DVFS is not available: %s", df->reason);
    if (sysfs_restore_register(restore_on_signal, df))
        return err_set(err, "cannot set the GPU frequency: %d other settings await restoring already", SYSFS_RESTORE_MAX);
    long long target = df->freqs_hz[0];
    for (int k = 0; k < df->n_freqs; k++)
        if (df->freqs_hz[k] <= hz) target = df->freqs_hz[k];
    if (!df->discrete && hz >= df->freqs_hz[0] && hz <= df->freqs_hz[df->n_freqs - 1]) target = hz;
    char val[24];
    sysfs_fmt_ll(val, target);
    const char *failed = NULL;
    int rc;
    if (df->method == DEVFREQ_USERSPACE) {
        int first = !df->changed;
        df->changed = 1;
        rc = first ? traced_write(df, "governor", "userspace") : 0;
        failed = "governor";
        if (!rc) {
            failed = set_freq_file(df);
            rc = traced_write(df, failed, val);
        }
    } else {
        df->changed = 1;
        rc = set_minmax(df, target, target, &failed);
    }
    if (rc) return err_set(err, "%s/%s: cannot write %s (%s)", df->dir, failed, val, strerror(-rc));
    return 0;
}

int devfreq_restore(Devfreq *df, Err *err) {
    const char *failed = NULL;
    int rc = restore_raw(df, &failed);
    sysfs_restore_unregister(df);
    if (rc) return err_set(err, "%s/%s: cannot restore the original setting (%s)", df->dir, failed, strerror(-rc));
    return 0;
}
