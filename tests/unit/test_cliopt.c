/* tests/unit/test_cliopt.c — util/cliopt.c: every option kind and its range, --opt=value and
 * --opt value, short letters, `--` ending the options, a missing or unexpected value, unknown options
 * with and without a suggestion, positional arguments, callbacks, and the generated --help (every
 * option with its default and range). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cliopt.h"

typedef struct Vals {
    int flag, n;
    float f;
    unsigned long long u;
    const char *s, *opt;
    const char *items[3];
    CliOptList list;
    const char *pos[2];
    size_t n_pos;
} Vals;

/* The test command: one option of each kind, two positionals at most. */
static void setup(Vals *v, CliOpt *o, CliOptCommand *c) {
    memset(v, 0, sizeof *v);
    v->list = (CliOptList){v->items, 0, 3};
    CliOpt opts[] = {
        {.name = "json", .kind = CLIOPT_FLAG, .help = "JSON out", .dest = &v->flag},
        {.name = "jobs", .short_name = 'j', .kind = CLIOPT_INT, .metavar = "N", .help = "at once", .dest = &v->n, .min = 1,
         .max = 64, .dflt = "4"},
        {.name = "ratio", .kind = CLIOPT_FLOAT, .metavar = "R", .help = "a ratio\nsecond line", .dest = &v->f, .min = 0.5,
         .max = 2},
        {.name = "seed", .kind = CLIOPT_U64, .metavar = "S", .help = "the seed", .dest = &v->u},
        {.name = "db", .kind = CLIOPT_STRING, .metavar = "PATH", .help = "the database", .dest = &v->s,
         .dflt = ".dynn/results.db"},
        {.name = "set", .kind = CLIOPT_LIST, .metavar = "KEY=VALUE", .help = "a var", .dest = &v->list, .note = "repeatable"},
        {.name = "force", .kind = CLIOPT_OPTIONAL, .metavar = "REGEX", .help = "ignore the cache", .dest = &v->opt},
    };
    memcpy(o, opts, sizeof opts);
    *c = (CliOptCommand){.name = "demo", .synopsis = "FILE [OTHER] [options]", .summary = "  does things\n",
                         .epilog = "  Exit status: 0.\n", .opts = o, .n_opts = 7, .pos = v->pos, .max_pos = 2,
                         .n_pos = &v->n_pos};
}

#define ARGV(...) \
    char *argv[] = {"demo", __VA_ARGS__}; \
    int argc = (int)(sizeof argv / sizeof *argv)

static void test_kinds(void **state) {
    (void)state;
    Vals v;
    CliOpt o[7];
    CliOptCommand c;
    Err err;
    setup(&v, o, &c);
    ARGV("a.yaml", "--json", "--jobs", "8", "--ratio=1.5", "--seed", "18446744073709551615", "--db=x.db", "--set", "a=1",
         "--set=b=2", "b.yaml");
    assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
    assert_int_equal(v.flag, 1);
    assert_int_equal(v.n, 8);
    assert_true(v.f == 1.5f);
    assert_true(v.u == 18446744073709551615ULL);
    assert_string_equal(v.s, "x.db");
    assert_int_equal(v.list.n, 2);
    assert_string_equal(v.items[0], "a=1");
    assert_string_equal(v.items[1], "b=2");
    assert_null(v.opt);
    assert_int_equal(v.n_pos, 2);
    assert_string_equal(v.pos[0], "a.yaml");
    assert_string_equal(v.pos[1], "b.yaml");
}

static void test_short_and_optional(void **state) {
    (void)state;
    Vals v;
    CliOpt o[7];
    CliOptCommand c;
    Err err;
    setup(&v, o, &c);
    {
        ARGV("-j", "3");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
        assert_int_equal(v.n, 3);
    }
    {
        ARGV("-j5");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
        assert_int_equal(v.n, 5);
    }
    { /* an optional value: the next argument unless it is an option, or attached */
        ARGV("--force", "lr.*", "f.yaml");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
        assert_string_equal(v.opt, "lr.*");
        assert_int_equal(v.n_pos, 1);
    }
    {
        ARGV("--force", "--json");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
        assert_string_equal(v.opt, "");
        assert_int_equal(v.n_pos, 0);
    }
    {
        ARGV("--force=x");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
        assert_string_equal(v.opt, "x");
    }
}

static void test_ranges(void **state) {
    (void)state;
    Vals v;
    CliOpt o[7];
    CliOptCommand c;
    Err err;
    setup(&v, o, &c);
    struct {
        char *opt, *val, *msg;
    } bad[] = {
        {"--jobs", "0", "--jobs: 0 is out of range 1..64"},
        {"--jobs", "65", "--jobs: 65 is out of range 1..64"},
        {"--jobs", "3x", "--jobs: '3x' is not an integer"},
        {"-j", "65", "-j: 65 is out of range 1..64"},
        {"--ratio", "0.25", "--ratio: 0.25 is out of range [0.5, 2]"},
        {"--ratio", "abc", "--ratio: 'abc' is not a number"},
        {"--seed", "-1", "--seed: '-1' is not a non-negative integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ARGV(bad[i].opt, bad[i].val);
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, bad[i].msg);
    }
    { /* the bounds themselves are in */
        ARGV("--jobs", "64", "--ratio", "0.5");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
        assert_int_equal(v.n, 64);
    }
    { /* a repeatable option past its room */
        ARGV("--set", "a", "--set", "b", "--set", "c", "--set", "d");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "--set: given more than 3 times");
    }
}

static void test_values_missing_and_unexpected(void **state) {
    (void)state;
    Vals v;
    CliOpt o[7];
    CliOptCommand c;
    Err err;
    setup(&v, o, &c);
    {
        ARGV("--db");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "--db needs a value (PATH)");
    }
    {
        ARGV("--json=yes");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "--json takes no value (given 'yes')");
    }
    { /* a value starting with '-' is taken when one is needed */
        ARGV("--db", "-weird.db");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
        assert_string_equal(v.s, "-weird.db");
    }
    {
        ARGV("a", "b", "c");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "unexpected argument 'c' (usage: dynn demo FILE [OTHER] [options])");
    }
}

static void test_double_dash(void **state) {
    (void)state;
    Vals v;
    CliOpt o[7];
    CliOptCommand c;
    Err err;
    setup(&v, o, &c);
    ARGV("--json", "--", "--jobs", "-");
    assert_int_equal(cliopt_parse(&c, argc, argv, &err), CLIOPT_GO);
    assert_int_equal(v.flag, 1);
    assert_int_equal(v.n, 0);
    assert_int_equal(v.n_pos, 2);
    assert_string_equal(v.pos[0], "--jobs");
    assert_string_equal(v.pos[1], "-");
}

static void test_unknown(void **state) {
    (void)state;
    Vals v;
    CliOpt o[7];
    CliOptCommand c;
    Err err;
    setup(&v, o, &c);
    {
        ARGV("--josn");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "unknown option '--josn' (did you mean '--json'?); see 'dynn demo --help'");
    }
    {
        ARGV("--ratoi=2");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "unknown option '--ratoi' (did you mean '--ratio'?); see 'dynn demo --help'");
    }
    {
        ARGV("--zzzz-nothing");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "unknown option '--zzzz-nothing'; see 'dynn demo --help'");
    }
    {
        ARGV("-q");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_string_equal(err.msg, "unknown option '-q'; see 'dynn demo --help'");
    }
    { /* no prefix matching: --jo is neither --json nor --jobs */
        ARGV("--jo", "3");
        assert_int_equal(cliopt_parse(&c, argc, argv, &err), -1);
        assert_non_null(strstr(err.msg, "unknown option '--jo'"));
    }
}

static int record(void *ctx, const CliOptValue *v, Err *err) {
    char *out = ctx;
    if (v->value && !strcmp(v->value, "no")) return err_set(err, "%s: no is refused", v->shown);
    snprintf(out + strlen(out), 64, "%s=%s/%d;", v->shown, v->value ? v->value : "(none)", v->attached);
    return 0;
}

static void test_callback_and_help_request(void **state) {
    (void)state;
    char seen[256] = "";
    CliOpt o[] = {
        {.name = "level", .short_name = 'l', .kind = CLIOPT_INT, .metavar = "N", .help = "level", .min = 0, .max = 9,
         .set = record, .ctx = seen},
        {.name = "quiet", .kind = CLIOPT_FLAG, .help = "quiet", .set = record, .ctx = seen},
        {.name = "word", .kind = CLIOPT_STRING, .metavar = "W", .help = "word", .set = record, .ctx = seen},
    };
    CliOptCommand c = {.name = "cb", .synopsis = "[options]", .opts = o, .n_opts = 3};
    Err err;
    {
        char *argv[] = {"cb", "-l", "3", "--quiet", "--word=hi", "--level=4"};
        assert_int_equal(cliopt_parse(&c, 6, argv, &err), CLIOPT_GO);
        assert_string_equal(seen, "-l=3/0;--quiet=(none)/0;--word=hi/1;--level=4/1;");
    }
    { /* the range is checked before the callback sees the value; the callback's refusal stops parsing */
        char *argv[] = {"cb", "--level", "10"};
        assert_int_equal(cliopt_parse(&c, 3, argv, &err), -1);
        assert_string_equal(err.msg, "--level: 10 is out of range 0..9");
        char *argv2[] = {"cb", "--word", "no"};
        assert_int_equal(cliopt_parse(&c, 3, argv2, &err), -1);
        assert_string_equal(err.msg, "--word: no is refused");
    }
    { /* --help and -h win over what follows, even an unknown option */
        char *argv[] = {"cb", "--help", "--bogus"};
        assert_int_equal(cliopt_parse(&c, 3, argv, &err), CLIOPT_HELP);
        char *argv2[] = {"cb", "-h"};
        assert_int_equal(cliopt_parse(&c, 2, argv2, &err), CLIOPT_HELP);
    }
    { /* no positional argument declared: any is unexpected */
        char *argv[] = {"cb", "x"};
        assert_int_equal(cliopt_parse(&c, 2, argv, &err), -1);
        assert_string_equal(err.msg, "unexpected argument 'x' (usage: dynn cb [options])");
    }
}

static void test_help(void **state) {
    (void)state;
    Vals v;
    CliOpt o[7];
    CliOptCommand c;
    setup(&v, o, &c);
    char *text = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&text, &size);
    assert_non_null(fp);
    cliopt_help(&c, fp);
    fclose(fp);
    assert_true(!strncmp(text, "usage: dynn demo FILE [OTHER] [options]\n  does things\n", 54));
    for (size_t i = 0; i < 7; i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s", o[i].name);
        assert_non_null(strstr(text, want));
    }
    /* aligned: every help text starts in the same column */
    assert_non_null(strstr(text, "\n  -j, --jobs N        at once (4; 1..64)\n"));
    assert_non_null(strstr(text, "\n  --json              JSON out\n"));
    assert_non_null(strstr(text, "\n  --ratio R           a ratio\n                      second line (0.5..2)\n"));
    assert_non_null(strstr(text, "\n  --db PATH           the database (.dynn/results.db)\n"));
    assert_non_null(strstr(text, "\n  --set KEY=VALUE     a var (repeatable)\n"));
    assert_non_null(strstr(text, "\n  --force [REGEX]     ignore the cache\n"));
    assert_non_null(strstr(text, "\n  -h, --help          this text\n  Exit status: 0.\n"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_short_and_optional),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_values_missing_and_unexpected),
        cmocka_unit_test(test_double_dash),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_callback_and_help_request),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
