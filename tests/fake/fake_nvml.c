/* tests/fake/fake_nvml.c — a stand-in for the NVIDIA driver's NVML library, built as
 * build/tests/fake/libnvidia-ml.so.1 and found through LD_LIBRARY_PATH (or dlopen'ed by path), so the
 * GPU clock code (platforms/nvml_clocks.c) is tested on machines without an NVIDIA GPU.
 *
 * Its state is a text file named by $FAKE_NVML_STATE, one `key value` per line, read and rewritten by
 * every call, so a test (and a child process killed mid-sweep) leaves its last state for the test to
 * read. Every call that sets or resets clocks is appended to $FAKE_NVML_STATE.log as one line,
 * `name args = result` (result: ok, not_supported, no_permission, invalid, unknown).
 *
 * Configuration keys (the test writes them; defaults in brackets):
 *   devices N [1]          how many GPUs nvmlDeviceGetCount_v2 reports
 *   name TEXT [Fake GPU]
 *   mem_clocks LIST [1593 810]              supported memory clocks, MHz, as NVML lists them (descending)
 *   sm_clocks LIST [1410 1200 900 600 300]  supported SM clocks at every memory clock
 *   supported ok|not_supported [ok]         the two GetSupported*Clocks calls
 *   default_sm N, default_mem N [900 810]   the clocks read when nothing is set
 *   locked, mem_locked, app  ok|not_supported|no_permission [ok]   how Set*Clocks answer
 *   fail_set N [0]         setting the SM clock to N MHz fails with NVML_ERROR_UNKNOWN (an error mid-sweep)
 *   fail_read ok|unknown [ok]                GetClockInfo
 * State keys (the fake writes them): locked_sm, locked_mem, app_sm, app_mem (0: not set), inits (nvmlInit
 * calls minus nvmlShutdown calls), opened (nvmlInit calls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
enum { OK = 0, INVALID = 2, NOT_SUPPORTED = 3, NO_PERMISSION = 4, INSUFFICIENT_SIZE = 7, DRIVER_NOT_LOADED = 9, UNKNOWN = 999 };

#define MAX_KEYS 64
typedef struct State {
    int n;
    char key[MAX_KEYS][32];
    char value[MAX_KEYS][256];
} State;

static const char *state_path(void) { return getenv("FAKE_NVML_STATE"); }

static void load(State *s) {
    memset(s, 0, sizeof *s);
    const char *path = state_path();
    FILE *fp = path ? fopen(path, "r") : NULL;
    if (!fp) return;
    char line[300];
    while (s->n < MAX_KEYS && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        char *sp = strchr(line, ' ');
        if (!sp || sp == line) continue;
        *sp = '\0';
        snprintf(s->key[s->n], sizeof s->key[0], "%.31s", line);
        snprintf(s->value[s->n], sizeof s->value[0], "%.255s", sp + 1);
        s->n++;
    }
    fclose(fp);
}

static void save(const State *s) {
    const char *path = state_path();
    if (!path) return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) return;
    for (int i = 0; i < s->n; i++) fprintf(fp, "%s %s\n", s->key[i], s->value[i]);
    fclose(fp);
    rename(tmp, path);
}

static const char *get(const State *s, const char *key, const char *dflt) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->key[i], key)) return s->value[i];
    return dflt;
}

static long get_int(const State *s, const char *key, long dflt) {
    const char *v = get(s, key, NULL);
    return v ? strtol(v, NULL, 10) : dflt;
}

static void put_int(State *s, const char *key, long v) {
    int i = 0;
    while (i < s->n && strcmp(s->key[i], key)) i++;
    if (i == s->n) {
        if (s->n == MAX_KEYS) return;
        snprintf(s->key[s->n++], sizeof s->key[0], "%s", key);
    }
    snprintf(s->value[i], sizeof s->value[0], "%ld", v);
}

static const char *result_name(nvmlReturn_t rc) {
    switch (rc) {
    case OK: return "ok";
    case NOT_SUPPORTED: return "not_supported";
    case NO_PERMISSION: return "no_permission";
    case INVALID: return "invalid";
    default: return "unknown";
    }
}

static nvmlReturn_t logged(const char *call, nvmlReturn_t rc) {
    const char *path = state_path();
    if (!path) return rc;
    char log[4096];
    snprintf(log, sizeof log, "%s.log", path);
    FILE *fp = fopen(log, "a");
    if (fp) {
        fprintf(fp, "%s = %s\n", call, result_name(rc));
        fclose(fp);
    }
    return rc;
}

/* ok / not_supported / no_permission of a configuration key. */
static nvmlReturn_t behaviour(const State *s, const char *key) {
    const char *v = get(s, key, "ok");
    return !strcmp(v, "not_supported") ? NOT_SUPPORTED : !strcmp(v, "no_permission") ? NO_PERMISSION : OK;
}

/* The clocks of a list key, in the order written; their count. */
static unsigned clocks(const State *s, const char *key, const char *dflt, unsigned *out, unsigned max) {
    const char *p = get(s, key, dflt);
    unsigned n = 0;
    while (*p && n < max) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p) break;
        out[n++] = (unsigned)v;
        p = end;
        while (*p == ' ') p++;
    }
    return n;
}

static int listed(const State *s, const char *key, const char *dflt, unsigned v) {
    unsigned c[256], n = clocks(s, key, dflt, c, 256);
    for (unsigned i = 0; i < n; i++)
        if (c[i] == v) return 1;
    return 0;
}

#define MEM_DEFAULT "1593 810"
#define SM_DEFAULT "1410 1200 900 600 300"

typedef struct nvmlDevice_st {
    unsigned index;
} *nvmlDevice_t;
static struct nvmlDevice_st devices[64];

nvmlReturn_t nvmlInit_v2(void) {
    if (!state_path()) return DRIVER_NOT_LOADED;
    State s;
    load(&s);
    put_int(&s, "inits", get_int(&s, "inits", 0) + 1);
    put_int(&s, "opened", get_int(&s, "opened", 0) + 1);
    save(&s);
    return OK;
}

nvmlReturn_t nvmlShutdown(void) {
    State s;
    load(&s);
    put_int(&s, "inits", get_int(&s, "inits", 0) - 1);
    save(&s);
    return OK;
}

const char *nvmlErrorString(nvmlReturn_t rc) {
    switch (rc) {
    case OK: return "Success";
    case INVALID: return "Invalid Argument";
    case NOT_SUPPORTED: return "Not Supported";
    case NO_PERMISSION: return "Insufficient Permissions";
    case INSUFFICIENT_SIZE: return "Insufficient Size";
    case DRIVER_NOT_LOADED: return "Driver Not Loaded";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *count) {
    State s;
    load(&s);
    *count = (unsigned)get_int(&s, "devices", 1);
    return OK;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *dev) {
    State s;
    load(&s);
    if (index >= (unsigned)get_int(&s, "devices", 1) || index >= 64) return INVALID;
    devices[index].index = index;
    *dev = &devices[index];
    return OK;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t dev, char *name, unsigned length) {
    State s;
    load(&s);
    (void)dev;
    snprintf(name, length, "%s", get(&s, "name", "Fake GPU"));
    return OK;
}

static nvmlReturn_t copy_clocks(const State *s, const char *key, const char *dflt, unsigned *count, unsigned *out) {
    unsigned c[256], n = clocks(s, key, dflt, c, 256);
    if (*count < n) {
        *count = n;
        return INSUFFICIENT_SIZE;
    }
    memcpy(out, c, n * sizeof *c);
    *count = n;
    return OK;
}

nvmlReturn_t nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_t dev, unsigned *count, unsigned *mhz) {
    State s;
    load(&s);
    (void)dev;
    if (behaviour(&s, "supported") != OK) return NOT_SUPPORTED;
    return copy_clocks(&s, "mem_clocks", MEM_DEFAULT, count, mhz);
}

nvmlReturn_t nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t dev, unsigned mem, unsigned *count, unsigned *mhz) {
    State s;
    load(&s);
    (void)dev;
    if (behaviour(&s, "supported") != OK) return NOT_SUPPORTED;
    if (!listed(&s, "mem_clocks", MEM_DEFAULT, mem)) return INVALID;
    return copy_clocks(&s, "sm_clocks", SM_DEFAULT, count, mhz);
}

nvmlReturn_t nvmlDeviceSetGpuLockedClocks(nvmlDevice_t dev, unsigned lo, unsigned hi) {
    State s;
    char call[96];
    load(&s);
    (void)dev;
    snprintf(call, sizeof call, "SetGpuLockedClocks %u %u", lo, hi);
    nvmlReturn_t rc = behaviour(&s, "locked");
    if (rc == OK && lo == (unsigned)get_int(&s, "fail_set", 0)) rc = UNKNOWN;
    if (rc == OK && (lo > hi || !listed(&s, "sm_clocks", SM_DEFAULT, lo) || !listed(&s, "sm_clocks", SM_DEFAULT, hi))) rc = INVALID;
    if (rc == OK) put_int(&s, "locked_sm", lo), save(&s);
    return logged(call, rc);
}

nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t dev) {
    State s;
    load(&s);
    (void)dev;
    nvmlReturn_t rc = behaviour(&s, "locked");
    if (rc == OK) put_int(&s, "locked_sm", 0), save(&s);
    return logged("ResetGpuLockedClocks", rc);
}

nvmlReturn_t nvmlDeviceSetMemoryLockedClocks(nvmlDevice_t dev, unsigned lo, unsigned hi) {
    State s;
    char call[96];
    load(&s);
    (void)dev;
    snprintf(call, sizeof call, "SetMemoryLockedClocks %u %u", lo, hi);
    nvmlReturn_t rc = behaviour(&s, "mem_locked");
    if (rc == OK && (lo > hi || !listed(&s, "mem_clocks", MEM_DEFAULT, lo))) rc = INVALID;
    if (rc == OK) put_int(&s, "locked_mem", lo), save(&s);
    return logged(call, rc);
}

nvmlReturn_t nvmlDeviceResetMemoryLockedClocks(nvmlDevice_t dev) {
    State s;
    load(&s);
    (void)dev;
    nvmlReturn_t rc = behaviour(&s, "mem_locked");
    if (rc == OK) put_int(&s, "locked_mem", 0), save(&s);
    return logged("ResetMemoryLockedClocks", rc);
}

nvmlReturn_t nvmlDeviceSetApplicationsClocks(nvmlDevice_t dev, unsigned mem, unsigned sm) {
    State s;
    char call[96];
    load(&s);
    (void)dev;
    snprintf(call, sizeof call, "SetApplicationsClocks %u %u", mem, sm);
    nvmlReturn_t rc = behaviour(&s, "app");
    if (rc == OK && sm == (unsigned)get_int(&s, "fail_set", 0)) rc = UNKNOWN;
    if (rc == OK && (!listed(&s, "mem_clocks", MEM_DEFAULT, mem) || !listed(&s, "sm_clocks", SM_DEFAULT, sm))) rc = INVALID;
    if (rc == OK) put_int(&s, "app_sm", sm), put_int(&s, "app_mem", mem), save(&s);
    return logged(call, rc);
}

nvmlReturn_t nvmlDeviceResetApplicationsClocks(nvmlDevice_t dev) {
    State s;
    load(&s);
    (void)dev;
    nvmlReturn_t rc = behaviour(&s, "app");
    if (rc == OK) put_int(&s, "app_sm", 0), put_int(&s, "app_mem", 0), save(&s);
    return logged("ResetApplicationsClocks", rc);
}

/* SM (1) or memory (2): the locked clock, else the application clock, else the default. */
nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t dev, int type, unsigned *mhz) {
    State s;
    load(&s);
    (void)dev;
    if (!strcmp(get(&s, "fail_read", "ok"), "unknown")) return UNKNOWN;
    if (type != 1 && type != 2) return INVALID;
    const char *locked = type == 1 ? "locked_sm" : "locked_mem", *app = type == 1 ? "app_sm" : "app_mem";
    long v = get_int(&s, locked, 0);
    if (!v) v = get_int(&s, app, 0);
    if (!v) v = get_int(&s, type == 1 ? "default_sm" : "default_mem", type == 1 ? 900 : 810);
    *mhz = (unsigned)v;
    return OK;
}
