/* platforms/shell_quote.h — quoting words for a POSIX shell on another machine.
 *
 * ssh hands the remote side one command string, which the remote user's shell parses. Every word
 * dynn puts in such a string goes through shell_quote: it becomes a single-quoted word in which
 * nothing is special ('\'' closes the quote, adds an escaped quote and reopens), so no value — a
 * path, a subnet name, a parameter from an experiment file — can end the word or start a command. */
#ifndef DYNN_PLATFORMS_SHELL_QUOTE_H
#define DYNN_PLATFORMS_SHELL_QUOTE_H

#include "util/strbuf.h"

/* Appends s as one single-quoted shell word ("it's" -> 'it'\''s', "" -> ''). */
void shell_quote(StrBuf *sb, const char *s);
/* Appends " " then the quoted word (for building a command line word by word). */
void shell_quote_word(StrBuf *sb, const char *s);

#endif
