/* util/regex.c — PCRE2 wrapper (see regex.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "util/regex.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

struct Regex {
    pcre2_code *code;
    pcre2_match_data *match;
};

Regex *regex_compile(const char *pattern, const char *what, Err *err) {
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
    if (!re) {
        PCRE2_UCHAR reason[256];
        pcre2_get_error_message(code, reason, sizeof reason);
        err_set(err, "%s: bad pattern '%s' at offset %zu: %s", what, pattern, (size_t)offset, (const char *)reason);
        return NULL;
    }
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
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, start, 0, re->match, NULL);
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
    return regex_search(re, subject, strlen(subject), 0, NULL, NULL, NULL, NULL) == 1;
}
