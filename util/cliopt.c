/* util/cliopt.c — declarative command-line options: strict parsing and generated --help (see
 * cliopt.h). */
#include "util/cliopt.h"

#include <stdlib.h>
#include <string.h>

#include "util/args.h"
#include "util/suggest.h"

#define HEAD_MIN 20 /* width of the option column in --help, at least */

static const CliOpt *find_long(const CliOptCommand *c, const char *name, size_t len) {
    for (size_t i = 0; i < c->n_opts; i++)
        if (strlen(c->opts[i].name) == len && !strncmp(c->opts[i].name, name, len)) return &c->opts[i];
    return NULL;
}

static const CliOpt *find_short(const CliOptCommand *c, char letter) {
    for (size_t i = 0; i < c->n_opts; i++)
        if (c->opts[i].short_name && c->opts[i].short_name == letter) return &c->opts[i];
    return NULL;
}

/* "unknown option '--x' (did you mean '--y'?); see 'dynn CMD --help'" */
static int unknown(const CliOptCommand *c, const char *arg, size_t len, Err *err) {
    char shown[128], hint[160] = "";
    snprintf(shown, sizeof shown, "%.*s", (int)(len < 100 ? len : 100), arg);
    if (arg[1] == '-') {
        char *names = malloc((c->n_opts + 1) * 104);
        const char **cands = malloc((c->n_opts + 1) * sizeof *cands);
        if (names && cands) {
            for (size_t i = 0; i < c->n_opts; i++) {
                snprintf(names + i * 104, 104, "--%.100s", c->opts[i].name);
                cands[i] = names + i * 104;
            }
            cands[c->n_opts] = "--help";
            suggest_hint(hint, sizeof hint, shown, cands, c->n_opts + 1);
        }
        free(names);
        free(cands);
    }
    return err_set(err, "unknown option '%s'%s; see 'dynn %s --help'", shown, hint, c->name);
}

/* Checks the value for the option's kind and stores it (or hands it to the callback). */
static int apply(const CliOptCommand *c, const CliOpt *o, const char *value, const char *shown, int attached, Err *err) {
    int i = 0;
    float f = 0;
    unsigned long long u = 0;
    switch (o->kind) {
    case CLIOPT_INT:
        if (arg_int(shown, value, (long)o->min, (long)o->max, &i, err)) return -1;
        break;
    case CLIOPT_FLOAT:
        if (arg_float(shown, value, o->min, o->max, &f, err)) return -1;
        break;
    case CLIOPT_U64:
        if (arg_u64(shown, value, &u, err)) return -1;
        break;
    default: break;
    }
    if (o->set) {
        CliOptValue v = {o, value, shown, attached};
        return o->set(o->ctx, &v, err);
    }
    if (!o->dest) return err_set(err, "%s: the command '%s' gives this option nowhere to go", shown, c->name);
    switch (o->kind) {
    case CLIOPT_FLAG: *(int *)o->dest = 1; break;
    case CLIOPT_STRING: *(const char **)o->dest = value; break;
    case CLIOPT_INT: *(int *)o->dest = i; break;
    case CLIOPT_FLOAT: *(float *)o->dest = f; break;
    case CLIOPT_U64: *(unsigned long long *)o->dest = u; break;
    case CLIOPT_OPTIONAL: *(const char **)o->dest = value ? value : ""; break;
    case CLIOPT_LIST: {
        CliOptList *l = o->dest;
        if (l->n >= l->max) return err_set(err, "%s: given more than %zu times", shown, l->max);
        l->items[l->n++] = value;
        break;
    }
    }
    return 0;
}

static int takes_value(CliOptKind k) { return k != CLIOPT_FLAG && k != CLIOPT_OPTIONAL; }

static int positional(const CliOptCommand *c, const char *arg, Err *err) {
    size_t n = c->n_pos ? *c->n_pos : 0;
    if (n >= c->max_pos)
        return err_set(err, "unexpected argument '%s' (usage: dynn %s %s)", arg, c->name, c->synopsis ? c->synopsis : "");
    c->pos[n] = arg;
    *c->n_pos = n + 1;
    return 0;
}

int cliopt_parse(const CliOptCommand *c, int argc, char **argv, Err *err) {
    if (c->n_pos) *c->n_pos = 0;
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (positional(c, arg, err)) return -1;
            continue;
        }
        if (!strcmp(arg, "--")) {
            options_done = 1;
            continue;
        }
        const CliOpt *o;
        const char *value = NULL;
        char shown[128];
        if (arg[1] == '-') { /* --name, --name=VALUE */
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(c, name, len);
            if (!o && len == 4 && !strncmp(name, "help", 4)) return CLIOPT_HELP;
            if (!o) return unknown(c, arg, len + 2, err);
            snprintf(shown, sizeof shown, "--%s", o->name);
            if (eq) {
                if (o->kind == CLIOPT_FLAG) return err_set(err, "%s takes no value (given '%s')", shown, eq + 1);
                value = eq + 1;
            }
        } else { /* -x, -x VALUE, -xVALUE */
            o = find_short(c, arg[1]);
            if (!o && arg[1] == 'h' && !arg[2]) return CLIOPT_HELP;
            if (!o || (!takes_value(o->kind) && arg[2])) return unknown(c, arg, strlen(arg), err);
            snprintf(shown, sizeof shown, "-%c", o->short_name);
            if (arg[2]) value = arg[2] == '=' ? arg + 3 : arg + 2;
        }
        int attached = value != NULL;
        if (!value && takes_value(o->kind)) {
            if (i + 1 >= argc) return err_set(err, "%s needs a value (%s)", shown, o->metavar ? o->metavar : "a value");
            value = argv[++i];
        } else if (!value && o->kind == CLIOPT_OPTIONAL && i + 1 < argc && argv[i + 1][0] != '-') {
            value = argv[++i];
        }
        if (apply(c, o, value, shown, attached, err)) return -1;
    }
    return CLIOPT_GO;
}

int cliopt_main(const CliOptCommand *c, int argc, char **argv) {
    Err err;
    int rc = cliopt_parse(c, argc, argv, &err);
    if (rc == CLIOPT_HELP) {
        cliopt_help(c, stdout);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "dynn %s: %s\n", c->name, err.msg);
        return 2;
    }
    return -1;
}

/* "-j, --jobs N" / "--db PATH" */
static void head_of(const CliOpt *o, char *buf, size_t size) {
    char letter[8] = "";
    if (o->short_name) snprintf(letter, sizeof letter, "-%c, ", o->short_name);
    const char *mv = o->metavar;
    if (o->kind == CLIOPT_OPTIONAL && mv) snprintf(buf, size, "%s--%s [%s]", letter, o->name, mv);
    else snprintf(buf, size, "%s--%s%s%s", letter, o->name, mv ? " " : "", mv ? mv : "");
}

static void option_line(const CliOpt *o, int width, FILE *fp) {
    char head[160], range[96] = "";
    head_of(o, head, sizeof head);
    if (o->kind == CLIOPT_INT || o->kind == CLIOPT_FLOAT) snprintf(range, sizeof range, "%.15g..%.15g", o->min, o->max);
    fprintf(fp, "  %-*s", width, head);
    const char *h = o->help ? o->help : "";
    for (int first = 1; first || *h; first = 0) {
        const char *nl = strchr(h, '\n');
        int n = nl ? (int)(nl - h) : (int)strlen(h);
        fprintf(fp, "%*s%.*s", first ? 0 : width + 2, "", n, h);
        h += n;
        if (*h) {
            h++;
            fputc('\n', fp);
        }
    }
    const char *parts[3] = {o->dflt, o->note, range[0] ? range : NULL};
    int shown = 0;
    for (int k = 0; k < 3; k++) {
        if (!parts[k]) continue;
        fprintf(fp, "%s%s", shown ? "; " : " (", parts[k]);
        shown = 1;
    }
    fputs(shown ? ")\n" : "\n", fp);
}

void cliopt_options_help(const CliOpt *opts, size_t n, int with_help, FILE *fp) {
    int width = HEAD_MIN;
    for (size_t i = 0; i < n; i++) {
        char head[160];
        head_of(&opts[i], head, sizeof head);
        if ((int)strlen(head) + 2 > width) width = (int)strlen(head) + 2;
    }
    for (size_t i = 0; i < n; i++) option_line(&opts[i], width, fp);
    if (with_help) fprintf(fp, "  %-*sthis text\n", width, "-h, --help");
}

void cliopt_help(const CliOptCommand *c, FILE *fp) {
    fprintf(fp, "usage: dynn %s%s%s\n", c->name, c->synopsis && c->synopsis[0] ? " " : "", c->synopsis ? c->synopsis : "");
    if (c->summary) fputs(c->summary, fp);
    cliopt_options_help(c->opts, c->n_opts, 1, fp);
    if (c->epilog) fputs(c->epilog, fp);
}
