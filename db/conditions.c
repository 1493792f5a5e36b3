/* db/conditions.c — the registry of condition keys and the key/value set of a measurement's
 * conditions (see conditions.h), and a Measurement's conditions as one set (db/measurement.h). */
#include "db/conditions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/measurement.h"

const CondKey cond_keys[COND_COUNT] = {
#define DYNN_COND_ROW(id, name, type, min, unit, json, rules, description) {name, type, min, unit, json, rules, description},
    DYNN_CONDITION_KEYS(DYNN_COND_ROW)
#undef DYNN_COND_ROW
};

int cond_find(const char *name) {
    for (int k = 0; name && k < COND_COUNT; k++)
        if (!strcmp(cond_keys[k].name, name)) return k;
    return -1;
}

int cond_set(Conditions *c, int k, const char *text, Err *err) {
    if (k < 0 || k >= COND_COUNT) return err_set(err, "condition %d is not a key of the registry", k);
    const CondKey *key = &cond_keys[k];
    char *copy = NULL;
    if (text && key->type == COND_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (!text[0] || *end || errno == ERANGE || v < key->min)
            return err_set(err, "'%s' must be an integer >= %lld, not '%s'", key->name, key->min, text);
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", v); /* canonical: no sign or leading zeros */
        copy = strdup(buf);
    } else if (text) {
        copy = strdup(text);
    }
    if (text && !copy) return err_set(err, "out of memory");
    free(c->value[k]);
    c->value[k] = copy;
    return 0;
}

int cond_set_int(Conditions *c, int k, long long v, Err *err) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return cond_set(c, k, buf, err);
}

const char *cond_get(const Conditions *c, int k) { return k >= 0 && k < COND_COUNT ? c->value[k] : NULL; }

long long cond_get_int(const Conditions *c, int k, long long dflt) {
    const char *s = cond_get(c, k);
    return s ? strtoll(s, NULL, 10) : dflt;
}

int cond_copy(Conditions *dst, const Conditions *src, Err *err) {
    for (int k = 0; k < COND_COUNT; k++)
        if (cond_set(dst, k, src->value[k], err)) return -1;
    return 0;
}

int cond_equal(const Conditions *a, const Conditions *b) {
    for (int k = 0; k < COND_COUNT; k++) {
        const char *x = a->value[k], *y = b->value[k];
        if ((!x) != (!y) || (x && strcmp(x, y))) return 0;
    }
    return 1;
}

void cond_free(Conditions *c) {
    for (int k = 0; k < COND_COUNT; k++) free(c->value[k]);
    memset(c, 0, sizeof *c);
}

int cond_set_pairs(Conditions *c, const MeasCondition *pairs, size_t n, Err *err) {
    for (size_t i = 0; i < n; i++) {
        int k = cond_find(pairs[i].key);
        if (k < 0) {
            char known[512];
            size_t len = 0;
            for (int j = 0; j < COND_COUNT && len < sizeof known; j++)
                len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", j ? ", " : "", cond_keys[j].name);
            return err_set(err, "unknown condition '%s' (known: %s; a new one is a row of db/conditions.h)",
                           pairs[i].key ? pairs[i].key : "(null)", known);
        }
        if (cond_set(c, k, pairs[i].value, err)) return -1;
    }
    return 0;
}

int measurement_conditions(const Measurement *m, int with_pairs, Conditions *out, Err *err) {
    memset(out, 0, sizeof *out);
    int rc = 0;
    if (m->platform && m->platform[0]) rc = cond_set(out, COND_PLATFORM, m->platform, err);
    if (!rc && m->batch > 0) rc = cond_set_int(out, COND_BATCH, m->batch, err);
    if (!rc && m->cpus && m->cpus[0]) rc = cond_set(out, COND_CPUS, m->cpus, err);
    if (!rc && m->threads > 0) rc = cond_set_int(out, COND_THREADS, m->threads, err);
    if (!rc && m->frequency_khz > 0) rc = cond_set_int(out, COND_CPU_FREQ, m->frequency_khz, err);
    if (!rc && with_pairs) rc = cond_set_pairs(out, m->conditions, m->n_conditions, err);
    if (rc) cond_free(out);
    return rc;
}

void measurement_fill_api1(Measurement *m, const Conditions *c) {
    m->platform = cond_get(c, COND_PLATFORM);
    m->batch = (int)cond_get_int(c, COND_BATCH, 0);
    m->cpus = cond_get(c, COND_CPUS);
    m->threads = (int)cond_get_int(c, COND_THREADS, 0);
    m->frequency_khz = cond_get_int(c, COND_CPU_FREQ, 0);
}
