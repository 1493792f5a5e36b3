/* util/regex.c — PCRE2 wrapper and UTF-8 validity of subjects (see regex.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "util/regex.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

struct Regex {
    pcre2_code *code;
    pcre2_match_data *match;
};

Regex *regex_compile(const char *pattern, const char *what, Err *err) {
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &offset, NULL);
    if (!re) {
        PCRE2_UCHAR reason[256];
        pcre2_get_error_message(code, reason, sizeof reason);
        err_set(err, "%s: bad pattern '%s' at offset %zu: %s", what, pattern, (size_t)offset, (const char *)reason);
        return NULL;
    }
    /* The JIT is optional: without it the interpreter runs. Not under valgrind: memcheck cannot follow
     * what JIT-compiled matchers read (reports of uninitialised values at addresses without symbols). */
    if (!RUNNING_ON_VALGRIND) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    Regex *r = malloc(sizeof *r);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!r || !md) {
        free(r);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        err_set(err, "%s: out of memory", what);
        return NULL;
    }
    r->code = re;
    r->match = md;
    return r;
}

void regex_free(Regex *re) {
    if (!re) return;
    pcre2_match_data_free(re->match);
    pcre2_code_free(re->code);
    free(re);
}

int regex_groups(const Regex *re) {
    uint32_t n = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n);
    return (int)n;
}

int regex_search(const Regex *re, const char *subject, size_t len, size_t start, size_t *match_end, size_t *g_start,
                 long *g_len, Err *err) {
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, start, PCRE2_NO_UTF_CHECK, re->match, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        PCRE2_UCHAR reason[256];
        pcre2_get_error_message(rc, reason, sizeof reason);
        return err_set(err, "pattern match failed: %s", (const char *)reason);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->match);
    if (match_end) *match_end = ov[1];
    if (g_start && g_len) {
        if (rc >= 2 && ov[2] != PCRE2_UNSET) {
            *g_start = ov[2];
            *g_len = (long)(ov[3] - ov[2]);
        } else {
            *g_start = 0;
            *g_len = -1;
        }
    }
    return 1;
}

int regex_matches(const Regex *re, const char *subject) {
    size_t len = strlen(subject);
    if (regex_utf8_valid(subject, len)) return regex_search(re, subject, len, 0, NULL, NULL, NULL, NULL) == 1;
    char *copy = strdup(subject);
    if (!copy) return 0;
    regex_utf8_sanitize(copy, len);
    int found = regex_search(re, copy, len, 0, NULL, NULL, NULL, NULL) == 1;
    free(copy);
    return found;
}

/* Length of the valid UTF-8 sequence starting at p (left bytes available), 0 when invalid
 * (RFC 3629: the ranges of the second byte exclude overlong forms, surrogates and > U+10FFFF). */
static size_t utf8_sequence(const unsigned char *p, size_t left) {
    unsigned char b = p[0];
    if (b < 0x80) return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) n = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

int regex_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_sequence(p + i, len - i);
        if (!n) return 0;
        i += n;
    }
    return 1;
}

size_t regex_utf8_sanitize(char *s, size_t len) {
    unsigned char *p = (unsigned char *)s;
    size_t replaced = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_sequence(p + i, len - i);
        if (n) {
            i += n;
            continue;
        }
        p[i++] = '?';
        replaced++;
    }
    return replaced;
}
