/* pipeline/resources.c — a stage's `resources:` map: keys, types, units and bounds (see
 * resources.h). */
#include "pipeline/resources.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/duration.h"

static const char *const keys[] = {"cpus", "memory", "time", "gpus", "partition", "account", "qos", "constraint", "sbatch"};
#define N_KEYS (sizeof keys / sizeof *keys)

void resources_init(Resources *r) {
    memset(r, 0, sizeof *r);
    r->gpus = -1;
}

int resources_parse_memory(const char *text, uint64_t *bytes) {
    uint64_t n = 0;
    const char *p = text;
    if (!isdigit((unsigned char)*p)) return -1;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (UINT64_MAX - 9) / 10) return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    int shift;
    switch (toupper((unsigned char)*p)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return -1;
    }
    if (p[1] || !n || n > (UINT64_MAX >> shift)) return -1;
    *bytes = n << shift;
    return 0;
}

/* The value as text for messages: 'x' for a scalar, else its kind. */
static const char *shown(const YNode *n, char *buf, size_t size) {
    if (n->kind == YNODE_SCALAR) snprintf(buf, size, "'%s'", n->str);
    else snprintf(buf, size, "%s", ynode_kind_name(n->kind));
    return buf;
}

/* "stage 'a': 'resources.cpus'" or "'defaults.resources.cpus'" (key "" names the map itself). */
static const char *field(char *buf, size_t size, const char *path, const char *stage, const char *key) {
    if (stage) snprintf(buf, size, "stage '%s': '%s%s%s'", stage, path, *key ? "." : "", key);
    else snprintf(buf, size, "'%s%s%s'", path, *key ? "." : "", key);
    return buf;
}

/* A partition, account or qos: a name. */
static int parse_name(const YNode *n, const char *file, const char *what, char *out, size_t size, Err *err) {
    char buf[128];
    int ok = n->kind == YNODE_SCALAR && n->str[0] && strlen(n->str) <= RESOURCES_MAX_PARTITION;
    for (const char *s = ok ? n->str : ""; *s && ok; s++)
        ok = isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.';
    if (!ok)
        return ynode_err(err, file, n, "%s must be a name of 1 to %d letters, digits, '_', '-' or '.', not %s", what,
                         RESOURCES_MAX_PARTITION, shown(n, buf, sizeof buf));
    snprintf(out, size, "%s", n->str);
    return 0;
}

/* A Slurm feature expression ("avx512&ib", "[rack1|rack2]*2"): printable, no space or quote. */
static int parse_constraint(const YNode *n, const char *file, const char *what, Resources *r, Err *err) {
    char buf[128];
    int ok = n->kind == YNODE_SCALAR && n->str[0] && strlen(n->str) <= RESOURCES_MAX_CONSTRAINT;
    for (const char *s = ok ? n->str : ""; *s && ok; s++)
        ok = isalnum((unsigned char)*s) || strchr("_-.&|!*[]():,=", *s);
    if (!ok)
        return ynode_err(err, file, n, "%s must be a Slurm feature expression of 1 to %d characters (letters, digits and _-.&|!*[]():,=), not %s",
                         what, RESOURCES_MAX_CONSTRAINT, shown(n, buf, sizeof buf));
    snprintf(r->constraint, sizeof r->constraint, "%s", n->str);
    return 0;
}

/* Extra sbatch options: a list of single words, each an option ("--exclusive", "--nice=10"). */
static int parse_sbatch(const YNode *n, const char *file, const char *what, Resources *r, Err *err) {
    char buf[128];
    if (n->kind != YNODE_SEQ)
        return ynode_err(err, file, n, "%s must be a list of sbatch options like [--exclusive, --nice=10], not %s", what,
                         shown(n, buf, sizeof buf));
    if (n->len > RESOURCES_MAX_SBATCH) return ynode_err(err, file, n, "%s has more than %d options", what, RESOURCES_MAX_SBATCH);
    for (size_t i = 0; i < n->len; i++) {
        const YNode *w = n->items[i];
        int ok = w->kind == YNODE_SCALAR && w->str[0] == '-' && strlen(w->str) <= 1024;
        for (const char *s = ok ? w->str : ""; *s && ok; s++) ok = !isspace((unsigned char)*s);
        if (!ok)
            return ynode_err(err, file, w, "%s: each item must be one sbatch option word starting with '-' (like --nice=10), not %s",
                             what, shown(w, buf, sizeof buf));
    }
    r->sbatch = n;
    return 0;
}

int resources_parse(const YNode *map, const char *file, const char *path, const char *stage, Resources *r, Err *err) {
    if (!map) return 0;
    char what[400], context[500], buf[128];
    if (map->kind != YNODE_MAP)
        return ynode_err(err, file, map, "%s must be a mapping (cpus, memory, time, gpus, partition, account, qos, constraint, sbatch), not %s",
                         field(what, sizeof what, path, stage, ""), ynode_kind_name(map->kind));
    if (stage) snprintf(context, sizeof context, "'%s' of stage '%s' (cpus, memory, time, gpus, partition, account, qos, constraint, sbatch)", path, stage);
    else snprintf(context, sizeof context, "'%s' (cpus, memory, time, gpus, partition, account, qos, constraint, sbatch)", path);
    if (ynode_check_keys(map, keys, N_KEYS, file, context, err)) return -1;
    const YNode *n;
    long long v;
    if ((n = ynode_get(map, "cpus"))) {
        if (ynode_int(n, 1, RESOURCES_MAX_CPUS, file, field(what, sizeof what, path, stage, "cpus"), &v, err)) return -1;
        r->cpus = (int)v;
    }
    if ((n = ynode_get(map, "gpus"))) {
        if (ynode_int(n, 0, RESOURCES_MAX_GPUS, file, field(what, sizeof what, path, stage, "gpus"), &v, err)) return -1;
        r->gpus = (int)v;
    }
    if ((n = ynode_get(map, "memory"))) {
        uint64_t bytes = 0;
        field(what, sizeof what, path, stage, "memory");
        if (n->kind != YNODE_SCALAR || resources_parse_memory(n->str, &bytes))
            return ynode_err(err, file, n, "%s must be a size like 512M or 4G (a whole number and a unit K, M, G or T), not %s",
                             what, shown(n, buf, sizeof buf));
        if (bytes < RESOURCES_MIN_MEMORY || bytes > RESOURCES_MAX_MEMORY)
            return ynode_err(err, file, n, "%s must be between 1M and 1024T, not '%s'", what, n->str);
        r->memory = bytes;
    }
    if ((n = ynode_get(map, "time"))) {
        double s = 0;
        field(what, sizeof what, path, stage, "time");
        if (n->kind != YNODE_SCALAR || duration_parse(n->str, &s))
            return ynode_err(err, file, n, "%s must be a duration like 30m, 2h or 1h30m (units ms, s, m, h, d), not %s", what,
                             shown(n, buf, sizeof buf));
        if (s < RESOURCES_MIN_TIME_S || s > RESOURCES_MAX_TIME_S)
            return ynode_err(err, file, n, "%s must be between 1s and 365d, not '%s'", what, n->str);
        r->time_s = s;
    }
    if ((n = ynode_get(map, "partition")) &&
        parse_name(n, file, field(what, sizeof what, path, stage, "partition"), r->partition, sizeof r->partition, err))
        return -1;
    if ((n = ynode_get(map, "account")) &&
        parse_name(n, file, field(what, sizeof what, path, stage, "account"), r->account, sizeof r->account, err))
        return -1;
    if ((n = ynode_get(map, "qos")) && parse_name(n, file, field(what, sizeof what, path, stage, "qos"), r->qos, sizeof r->qos, err))
        return -1;
    if ((n = ynode_get(map, "constraint")) &&
        parse_constraint(n, file, field(what, sizeof what, path, stage, "constraint"), r, err))
        return -1;
    if ((n = ynode_get(map, "sbatch")) && parse_sbatch(n, file, field(what, sizeof what, path, stage, "sbatch"), r, err))
        return -1;
    return 0;
}
