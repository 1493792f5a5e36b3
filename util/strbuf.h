/* util/strbuf.h — a growable NUL-terminated byte string (for building JSON, SQL-free text, paths).
 *
 * Allocation failure is sticky: the buffer keeps its old content, sets `oom`, and later appends are
 * ignored, so a builder can append freely and check `sb.oom` once at the end. */
#ifndef DYNN_UTIL_STRBUF_H
#define DYNN_UTIL_STRBUF_H

#include <stddef.h>

typedef struct StrBuf {
    char *data; /* always NUL-terminated once anything was appended (NULL before) */
    size_t len;
    size_t cap;
    int oom;
} StrBuf;

void sb_append(StrBuf *sb, const char *s);
void sb_append_len(StrBuf *sb, const char *s, size_t len);
void sb_append_char(StrBuf *sb, char c);
void sb_printf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes and escapes). */
void sb_append_json_string(StrBuf *sb, const char *s);
/* "" when nothing was appended, never NULL. */
const char *sb_str(const StrBuf *sb);
void sb_clear(StrBuf *sb);
/* Hands the string to the caller (malloc'd, never NULL unless oom) and resets the buffer. */
char *sb_take(StrBuf *sb);
void sb_free(StrBuf *sb);

#endif
