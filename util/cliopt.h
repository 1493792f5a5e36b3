/* util/cliopt.h — declarative command-line options: the one way every `dynn` command declares,
 * parses and documents its options.
 *
 * A command declares a table of CliOpt (long name, optional short letter, kind, the value's
 * metavar, one line of help, where the value goes or a callback) and a CliOptCommand (its name, the
 * synopsis after "usage: dynn NAME", a summary, where positional arguments go). cliopt_parse() reads
 * argv strictly: `--name VALUE` and `--name=VALUE` (short: `-x VALUE`, `-xVALUE`), `--` ends the
 * options, numbers go through util/args.h's bounded parsers, a missing value, a value given to a flag,
 * an unknown option (" (did you mean '--x'?)" from util/suggest.h) and a positional argument too many
 * are one-line errors. `--help` / `-h` print the help generated from the table (cliopt_help): usage,
 * summary, one aligned line per option with its default and range, then the epilog. */
#ifndef DYNN_UTIL_CLIOPT_H
#define DYNN_UTIL_CLIOPT_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

typedef enum CliOptKind {
    CLIOPT_FLAG,     /* no value: *(int *)dest = 1 */
    CLIOPT_STRING,   /* *(const char **)dest = value */
    CLIOPT_INT,      /* an integer in [min, max]: *(int *)dest */
    CLIOPT_FLOAT,    /* a number in [min, max]: *(float *)dest */
    CLIOPT_U64,      /* a non-negative integer: *(unsigned long long *)dest */
    CLIOPT_LIST,     /* a string, repeatable: appended to *(CliOptList *)dest */
    CLIOPT_OPTIONAL, /* a flag that may take a value: --name=VALUE, or --name VALUE when VALUE does not
                      * start with '-'; *(const char **)dest = the value, or "" without one */
} CliOptKind;

/* Where a repeatable option's values go: items[0..max), n of them so far (borrowed from argv). */
typedef struct CliOptList {
    const char **items;
    size_t n, max;
} CliOptList;

typedef struct CliOpt CliOpt;

/* What a callback gets: the option, its value (NULL for a flag or an optional value not given), the
 * option as written ("-j", "--jobs") for messages, and whether the value was attached to it
 * (--name=VALUE, -xVALUE) rather than the next argument. */
typedef struct CliOptValue {
    const CliOpt *opt;
    const char *value;
    const char *shown;
    int attached;
} CliOptValue;

/* Called instead of storing into dest, after the value has been checked for the option's kind and
 * range; returns 0, or -1 with err set ("--epochs: ..."). */
typedef int (*CliOptSet)(void *ctx, const CliOptValue *v, Err *err);

struct CliOpt {
    const char *name;    /* long name without "--": "keep-going" */
    char short_name;     /* 'k', or 0 */
    CliOptKind kind;
    const char *metavar; /* the value in --help: "N", "PATH"; NULL for flags */
    const char *help;    /* --help text; lines after the first ('\n') are indented under it */
    void *dest;          /* where the value goes (see CliOptKind); unused when set is given */
    double min, max;     /* range of CLIOPT_INT / CLIOPT_FLOAT */
    const char *dflt;    /* the default as shown in --help, or NULL */
    const char *note;    /* more in --help's parentheses after the default ("each 1..64"), or NULL */
    CliOptSet set;       /* optional callback, with ctx */
    void *ctx;
};

typedef struct CliOptCommand {
    const char *name;     /* "run": messages say "dynn run: ..." */
    const char *synopsis; /* what follows "usage: dynn NAME ": "FILE [-j N] [--json]" */
    const char *summary;  /* lines printed under the usage line (each ends in '\n'), or NULL */
    const char *epilog;   /* lines printed after the options, or NULL */
    const CliOpt *opts;
    size_t n_opts;
    const char **pos;     /* positional arguments go here, at most max_pos of them */
    size_t max_pos;
    size_t *n_pos;        /* how many were given (may be NULL when max_pos is 0) */
} CliOptCommand;

enum { CLIOPT_GO = 0, CLIOPT_HELP = 1 };

/* Parses argv[1..argc) (argv[0] is the command's name). Returns CLIOPT_GO, CLIOPT_HELP when --help or
 * -h was given (nothing after it is looked at), or -1 with a one-line message in err. */
int cliopt_parse(const CliOptCommand *c, int argc, char **argv, Err *err);

/* cliopt_parse for a command's entry point: returns -1 to go on, 0 after printing the help on stdout,
 * 2 after printing "dynn NAME: message" on stderr (the command's exit code). */
int cliopt_main(const CliOptCommand *c, int argc, char **argv);

/* The whole --help text: usage line, summary, options, epilog. */
void cliopt_help(const CliOptCommand *c, FILE *fp);
/* Only the option lines ("  --name ARG  help (default; range)"), aligned, --help included when
 * with_help. */
void cliopt_options_help(const CliOpt *opts, size_t n, int with_help, FILE *fp);

#endif
