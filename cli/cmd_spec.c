/* cli/cmd_spec.c — `dynn validate FILE` and `dynn dag FILE`: an experiment file checked and
 * shown, nothing run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli.h"
#include "util/json_out.h"

typedef struct SpecArgs {
    const char *file;
    const char *only;
    const char *sets[CLI_MAX_SETS];
    CliOptList set_list;
    int json, dot;
} SpecArgs;

/* Returns -1 to go on, else an exit code. `dag_options`: --dot and --only, for dag. */
static int parse_spec_args(const char *cmd, const char *synopsis, const char *summary, int dag_options, int argc,
                           char **argv, SpecArgs *a) {
    a->set_list = (CliOptList){a->sets, 0, CLI_MAX_SETS};
    const CliOpt opts[] = {
        {.name = "set", .kind = CLIOPT_LIST, .metavar = "KEY=VALUE", .dest = &a->set_list,
         .help = "override a var of the file (VALUE is YAML); repeatable"},
        {.name = "json", .kind = CLIOPT_FLAG, .dest = &a->json, .help = "print JSON"},
        {.name = "dot", .kind = CLIOPT_FLAG, .dest = &a->dot, .help = "print Graphviz"},
        {.name = "only", .kind = CLIOPT_STRING, .metavar = "REGEX", .dest = &a->only,
         .help = "only instances whose name matches (PCRE2), plus what they need"},
    };
    size_t n_pos = 0;
    const CliOptCommand c = {.name = cmd, .synopsis = synopsis, .summary = summary, .opts = opts,
                             .n_opts = dag_options ? 4 : 2 /* --dot and --only are last */, .pos = &a->file,
                             .max_pos = 1, .n_pos = &n_pos};
    int rc = cliopt_main(&c, argc, argv);
    if (rc >= 0) return rc;
    if (!a->file) return cli_missing(&c, "expected an experiment FILE");
    return -1;
}

/* Arguments, then the experiment loaded and checked. Returns -1 to go on, else the exit code. */
static int load_for(const char *cmd, const char *synopsis, const char *summary, int dag_options, int argc, char **argv,
                    SpecArgs *a, Spec *spec, Dag *dag) {
    int rc = parse_spec_args(cmd, synopsis, summary, dag_options, argc, argv, a);
    if (rc >= 0) return rc;
    return cli_load_experiment(cmd, a->file, a->sets, a->set_list.n, a->only, spec, dag) ? 1 : -1;
}

static size_t count_edges(const Dag *dag) {
    size_t e = 0;
    for (size_t i = 0; i < dag->n; i++) e += dag->inst[i].n_deps;
    return e;
}

int cmd_validate(int argc, char **argv) {
    static const char summary[] =
        "  Checks an experiment file (keys, types, params, needs, cycles) without running anything,\n"
        "  and its sizes: aliases, var expansion, instances, their params, dependencies, exec env entries\n"
        "  (docs/FORMATS.md, \"Limits\").\n";
    SpecArgs a = {0};
    Spec spec;
    Dag dag;
    int rc = load_for("validate", "FILE [--set KEY=VALUE]... [--json]", summary, 0, argc, argv, &a, &spec, &dag);
    if (rc >= 0) return rc;
    if (a.json) {
        JsonOut j;
        json_init(&j, stdout);
        json_object_begin(&j);
        json_key(&j, "file"), json_string(&j, a.file);
        json_key(&j, "name"), json_string(&j, spec.name);
        json_key(&j, "valid"), json_bool(&j, 1);
        json_key(&j, "stages"), json_int(&j, (long long)spec.n_stages);
        json_key(&j, "instances"), json_int(&j, (long long)dag.n);
        json_key(&j, "edges"), json_int(&j, (long long)count_edges(&dag));
        json_object_end(&j);
        json_finish(&j);
    } else {
        printf("%s: ok — experiment '%s', %zu stage%s, %zu instance%s, %zu dependenc%s\n", a.file, spec.name, spec.n_stages,
               spec.n_stages == 1 ? "" : "s", dag.n, dag.n == 1 ? "" : "s", count_edges(&dag), count_edges(&dag) == 1 ? "y" : "ies");
    }
    dag_free(&dag);
    spec_free(&spec);
    return 0;
}

/* Text tree: each instance under what it needs; a subtree already printed is referenced, not
 * repeated, so the output stays linear in the graph size. */
static void print_tree(const Dag *dag, const unsigned char *sel, unsigned char *printed, size_t i, char *prefix,
                       size_t plen, int last, int root) {
    const Instance *in = &dag->inst[i];
    printf("%s%s%s", prefix, root ? "" : last ? "└── " : "├── ", in->name);
    if (in->n_deps > 1) printf("  (needs %zu)", in->n_deps);
    if (printed[i]) {
        printf("  (see above)\n");
        return;
    }
    printf("\n");
    printed[i] = 1;
    size_t n_children = 0;
    for (size_t k = 0; k < in->n_users; k++) n_children += sel[in->users[k]];
    const char *ext = root ? "" : last ? "    " : "│   ";
    size_t add = strlen(ext);
    if (plen + add + 1 >= 4096) return;
    memcpy(prefix + plen, ext, add + 1);
    for (size_t k = 0, seen = 0; k < in->n_users; k++) {
        if (!sel[in->users[k]]) continue;
        seen++;
        print_tree(dag, sel, printed, in->users[k], prefix, plen + add, seen == n_children, 0);
    }
    prefix[plen] = '\0';
}

static void print_dot(const Dag *dag, const unsigned char *sel, const char *name) {
    printf("digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n", name);
    for (size_t i = 0; i < dag->n; i++)
        if (sel[i]) printf("  \"%s\";\n", dag->inst[i].name);
    for (size_t i = 0; i < dag->n; i++)
        for (size_t k = 0; sel[i] && k < dag->inst[i].n_deps; k++)
            printf("  \"%s\" -> \"%s\";\n", dag->inst[dag->inst[i].deps[k]].name, dag->inst[i].name);
    printf("}\n");
}

static void print_dag_json(const Dag *dag, const unsigned char *sel) {
    JsonOut j;
    json_init(&j, stdout);
    json_array_begin(&j);
    for (size_t k = 0; k < dag->n; k++) {
        size_t i = dag->order[k];
        if (!sel[i]) continue;
        const Instance *in = &dag->inst[i];
        json_object_begin(&j);
        json_key(&j, "name"), json_string(&j, in->name);
        json_key(&j, "stage"), json_string(&j, dag->spec->stages[in->stage].name);
        json_key(&j, "type"), json_string(&j, dag->spec->stages[in->stage].type);
        json_key(&j, "threads"), json_int(&j, in->threads);
        json_key(&j, "needs");
        json_array_begin(&j);
        for (size_t d = 0; d < in->n_deps; d++) json_string(&j, dag->inst[in->deps[d]].name);
        json_array_end(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_finish(&j);
}

int cmd_dag(int argc, char **argv) {
    static const char summary[] =
        "  Shows the stage instances of an experiment and what each needs: a text tree (each instance under\n"
        "  the ones it needs), Graphviz with --dot (dynn dag FILE --dot | dot -Tsvg > dag.svg), or JSON.\n";
    SpecArgs a = {0};
    Spec spec;
    Dag dag;
    int rc = load_for("dag", "FILE [--dot | --json] [--only REGEX] [--set KEY=VALUE]...", summary, 1, argc, argv, &a,
                      &spec, &dag);
    if (rc >= 0) return rc;
    unsigned char *sel = malloc(dag.n + 1), *printed = calloc(dag.n + 1, 1);
    Err err;
    rc = 0;
    if (!sel || !printed) rc = 1, fprintf(stderr, "dynn dag: out of memory\n");
    else if (a.only && dag_select(&dag, a.only, sel, &err)) rc = 1, fprintf(stderr, "dynn dag: %s\n", err.msg);
    else if (!a.only) memset(sel, 1, dag.n);
    if (!rc) {
        if (a.dot) print_dot(&dag, sel, spec.name);
        else if (a.json) print_dag_json(&dag, sel);
        else {
            char prefix[4096] = "";
            for (size_t k = 0; k < dag.n; k++) {
                size_t i = dag.order[k];
                if (sel[i] && !dag.inst[i].n_deps) print_tree(&dag, sel, printed, i, prefix, 0, 1, 1);
            }
        }
    }
    free(sel);
    free(printed);
    dag_free(&dag);
    spec_free(&spec);
    return rc;
}
