/* util/json_out.h — a small streaming JSON writer (commas and escaping handled for the caller).
 *
 *   JsonOut j; json_init(&j, stdout);
 *   json_object_begin(&j); json_key(&j, "acc"); json_number(&j, 0.93); json_object_end(&j);
 *   json_finish(&j);   // newline */
#ifndef DYNN_UTIL_JSON_OUT_H
#define DYNN_UTIL_JSON_OUT_H

#include <stdio.h>

#define JSON_MAX_DEPTH 64

typedef struct JsonOut {
    FILE *fp;
    int depth;
    int count[JSON_MAX_DEPTH]; /* values written so far at each nesting level */
    int after_key;             /* a key was just written: the next value needs no comma */
} JsonOut;

void json_init(JsonOut *j, FILE *fp);
void json_object_begin(JsonOut *j);
void json_object_end(JsonOut *j);
void json_array_begin(JsonOut *j);
void json_array_end(JsonOut *j);
void json_key(JsonOut *j, const char *key);
void json_string(JsonOut *j, const char *s);
void json_number(JsonOut *j, double v);  /* NaN/Inf are written as null */
void json_int(JsonOut *j, long long v);
void json_bool(JsonOut *j, int v);
void json_null(JsonOut *j);
void json_finish(JsonOut *j);

/* Writes s as a quoted, escaped JSON string. */
void json_write_escaped(FILE *fp, const char *s);

#endif
