/* util/provenance.c — host, CPU, time and process facts (see provenance.h). */
#include "util/provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void provenance_host(char *out, size_t size) {
    if (gethostname(out, size) != 0) snprintf(out, size, "unknown");
    out[size - 1] = '\0';
}

void provenance_cpu_model(char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        const char *colon = strchr(line, ':');
        if (!colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        snprintf(out, size, "%s", colon);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    fclose(f);
}

double provenance_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* /proc/PID/stat after the command name: ") S PPID …" (field 3 onwards); 0 when there is no such process. */
static int read_stat(long long pid, char *buf, size_t size, const char **after_name) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    *after_name = strrchr(buf, ')'); /* the command name may contain spaces */
    return *after_name != NULL;
}

int provenance_pid_running(long long pid) {
    char buf[1024];
    const char *p;
    if (pid <= 0 || !read_stat(pid, buf, sizeof buf, &p)) return 0;
    return p[1] == ' ' && p[2] != 'Z' && p[2] != 'X'; /* field 3, the state: zombie or dead */
}

long long provenance_pid_start(pid_t pid) {
    char buf[1024];
    const char *p;
    if (!read_stat(pid, buf, sizeof buf, &p)) return -1;
    /* after ") " come fields 3, 4, …; starttime is field 22 */
    int field = 2;
    for (; *p && field < 22; p++)
        if (*p == ' ') field++;
    return field == 22 ? strtoll(p, NULL, 10) : -1;
}

int provenance_run_alive(const char *host, long long pid, long long pid_start, void *ctx) {
    (void)ctx;
    char self[256];
    provenance_host(self, sizeof self);
    if (strcmp(host, self)) return 1;
    return provenance_pid_start((pid_t)pid) == pid_start;
}
