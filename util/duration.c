/* util/duration.c — parsing durations and the monotonic clock (see duration.h). */
#include "util/duration.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <time.h>

double duration_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A decimal number without sign or exponent ("12", "1.5", ".5"); returns its length, 0 if none. */
static size_t number(const char *s, double *value) {
    size_t i = 0, digits = 0;
    double v = 0, scale = 1;
    for (; isdigit((unsigned char)s[i]); i++, digits++) v = v * 10 + (s[i] - '0');
    if (s[i] == '.') {
        for (i++; isdigit((unsigned char)s[i]); i++, digits++) v += (s[i] - '0') * (scale /= 10);
    }
    if (!digits) return 0;
    *value = v;
    return i;
}

int duration_parse(const char *text, double *seconds) {
    static const struct {
        const char *name;
        double seconds;
    } units[] = {{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    double total = 0, v;
    size_t n = number(text, &v);
    if (!n) return -1;
    if (!text[n]) { /* a bare number: seconds */
        total = v;
    } else {
        const char *p = text;
        while (*p) {
            if (!(n = number(p, &v))) return -1;
            p += n;
            size_t u = 0, best = sizeof units / sizeof *units;
            for (; u < sizeof units / sizeof *units; u++) {
                size_t len = strlen(units[u].name);
                if (!strncmp(p, units[u].name, len) && !isalpha((unsigned char)p[len])) best = u;
            }
            if (best == sizeof units / sizeof *units) return -1;
            total += v * units[best].seconds;
            p += strlen(units[best].name);
        }
    }
    if (!(total > 0) || !isfinite(total)) return -1;
    *seconds = total;
    return 0;
}
