/* platforms/affinity.c — CPU lists, process-wide pinning, observed CPUs (see affinity.h). */
#include "platforms/affinity.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int cpulist_parse(const char *text, const char *what, cpu_set_t *set, Err *err) {
    CPU_ZERO(set);
    const char *p = text;
    if (!*p) return err_set(err, "%s: empty CPU list (write e.g. 0 or 0-3 or 0,2-3)", what);
    for (;;) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return err_set(err, "%s: '%s' is not a CPU list (write e.g. 0 or 0-3 or 0,2-3)", what, text);
        long lo = strtol(p, &end, 10), hi = lo;
        p = end;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p))
                return err_set(err, "%s: '%s' is not a CPU list (write e.g. 0 or 0-3 or 0,2-3)", what, text);
            hi = strtol(p, &end, 10);
            p = end;
        }
        if (hi < lo) return err_set(err, "%s: reversed range %ld-%ld in '%s'", what, lo, hi, text);
        if (hi >= CPU_SETSIZE) return err_set(err, "%s: CPU %ld is beyond the largest CPU number %d", what, hi, CPU_SETSIZE - 1);
        for (long c = lo; c <= hi; c++) CPU_SET((int)c, set);
        if (!*p) return 0;
        if (*p != ',' || !p[1])
            return err_set(err, "%s: '%s' is not a CPU list (write e.g. 0 or 0-3 or 0,2-3)", what, text);
        p++;
    }
}

void cpulist_format(const cpu_set_t *set, char *out, size_t size) {
    size_t len = 0;
    if (size) out[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, set)) continue;
        int hi = c;
        while (hi + 1 < CPU_SETSIZE && CPU_ISSET(hi + 1, set)) hi++;
        int w = hi > c ? snprintf(out + len, size - len, "%s%d-%d", len ? "," : "", c, hi)
                       : snprintf(out + len, size - len, "%s%d", len ? "," : "", c);
        if (w < 0 || (size_t)w >= size - len) return; /* truncated: keep what fits */
        len += (size_t)w;
        c = hi;
    }
}

int affinity_get(cpu_set_t *set, Err *err) {
    if (sched_getaffinity(0, sizeof *set, set))
        return err_set(err, "sched_getaffinity: %s", strerror(errno));
    return 0;
}

int affinity_pin_process(const cpu_set_t *set, const cpu_set_t *allowed, const char *what, Err *err) {
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set) && !CPU_ISSET(c, allowed)) {
            char have[256];
            cpulist_format(allowed, have, sizeof have);
            return err_set(err, "%s: CPU %d is not available (this process may run on %s)", what, c, have);
        }
    if (CPU_COUNT(set) == 0) return err_set(err, "%s: no CPUs to run on", what);
    /* Every existing thread, then the caller again (threads may start while we iterate; they inherit
     * the caller's mask, which is set first). */
    if (sched_setaffinity(0, sizeof *set, set))
        return err_set(err, "%s: sched_setaffinity: %s", what, strerror(errno));
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return err_set(err, "/proc/self/task: %s", strerror(errno));
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(dir))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        pid_t tid = (pid_t)atoi(e->d_name);
        if (sched_setaffinity(tid, sizeof *set, set) && errno != ESRCH) {
            rc = err_set(err, "%s: sched_setaffinity(thread %d): %s", what, (int)tid, strerror(errno));
            break;
        }
    }
    closedir(dir);
    return rc;
}

/* Field 39 ("processor") of a /proc/.../stat line: the fields after the parenthesized command
 * name start at field 3. */
static int stat_last_cpu(const char *path) {
    char buf[1024];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    for (int field = 3; field <= 39; field++) {
        while (*p == ' ') p++;
        if (!*p) return -1;
        if (field == 39) return atoi(p);
        while (*p && *p != ' ') p++;
    }
    return -1;
}

int affinity_tasks_last_cpu(cpu_set_t *seen, int skip_self) {
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return -1;
    pid_t self = (pid_t)syscall(SYS_gettid);
    struct dirent *e;
    int count = 0;
    while ((e = readdir(dir))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        if (skip_self && atoi(e->d_name) == (int)self) continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        int cpu = stat_last_cpu(path);
        if (cpu >= 0 && cpu < CPU_SETSIZE) {
            CPU_SET(cpu, seen);
            count++;
        }
    }
    closedir(dir);
    return count;
}

void affinity_omp_probe(cpu_set_t *seen) {
#pragma omp parallel
    {
        int cpu = sched_getcpu();
        if (cpu >= 0 && cpu < CPU_SETSIZE) {
#pragma omp critical(dynn_affinity_probe)
            CPU_SET(cpu, seen);
        }
    }
}
