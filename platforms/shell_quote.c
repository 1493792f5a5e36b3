/* platforms/shell_quote.c — single-quote quoting for remote shell command lines (see shell_quote.h). */
#include "platforms/shell_quote.h"

void shell_quote(StrBuf *sb, const char *s) {
    sb_append_char(sb, '\'');
    for (; *s; s++) {
        if (*s == '\'') sb_append(sb, "'\\''");
        else sb_append_char(sb, *s);
    }
    sb_append_char(sb, '\'');
}

void shell_quote_word(StrBuf *sb, const char *s) {
    sb_append_char(sb, ' ');
    shell_quote(sb, s);
}
