/* util/json_out.c — streaming JSON writer (see json_out.h). */
#include "util/json_out.h"

#include <math.h>

void json_init(JsonOut *j, FILE *fp) {
    j->fp = fp;
    j->depth = 0;
    j->count[0] = 0;
    j->after_key = 0;
}

static void before_value(JsonOut *j) {
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->count[j->depth]++ > 0) fputc(',', j->fp);
}

static void open_level(JsonOut *j, char c) {
    before_value(j);
    fputc(c, j->fp);
    if (j->depth < JSON_MAX_DEPTH - 1) j->depth++;
    j->count[j->depth] = 0;
}

static void close_level(JsonOut *j, char c) {
    fputc(c, j->fp);
    if (j->depth > 0) j->depth--;
}

void json_object_begin(JsonOut *j) { open_level(j, '{'); }
void json_object_end(JsonOut *j) { close_level(j, '}'); }
void json_array_begin(JsonOut *j) { open_level(j, '['); }
void json_array_end(JsonOut *j) { close_level(j, ']'); }

void json_write_escaped(FILE *fp, const char *s) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20) fprintf(fp, "\\u%04x", *p);
            else fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

void json_key(JsonOut *j, const char *key) {
    before_value(j);
    json_write_escaped(j->fp, key);
    fputc(':', j->fp);
    j->after_key = 1;
}

void json_string(JsonOut *j, const char *s) {
    before_value(j);
    if (s) json_write_escaped(j->fp, s);
    else fputs("null", j->fp);
}

void json_number(JsonOut *j, double v) {
    before_value(j);
    if (isfinite(v)) fprintf(j->fp, "%.10g", v);
    else fputs("null", j->fp);
}

void json_int(JsonOut *j, long long v) {
    before_value(j);
    fprintf(j->fp, "%lld", v);
}

void json_bool(JsonOut *j, int v) {
    before_value(j);
    fputs(v ? "true" : "false", j->fp);
}

void json_null(JsonOut *j) {
    before_value(j);
    fputs("null", j->fp);
}

void json_finish(JsonOut *j) { fputc('\n', j->fp); }
