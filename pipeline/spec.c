/* pipeline/spec.c — experiment file → Spec: top-level keys, vars and --set, defaults, plugins,
 * platforms (the `platforms:` boards, and the stage params that name them) and each stage's own keys
 * (see spec.h). */
#include "pipeline/spec.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/executor.h"
#include "pipeline/subst.h"
#include "pipeline/stage.h"
#include "platforms/platform.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/suggest.h"

static const char *const top_keys[] = {"name", "seed", "vars", "defaults", "platforms", "plugins", "stages"};
static const char *const stage_keys[] = {"type", "needs", "params", "matrix", "threads", "resources", "executor"};
/* Stage types that read the results database: they run where it is, never through another
 * executor. */
static const char *const database_stage_types[] = {"aggregate", "report"};
#define COUNT(a) (sizeof(a) / sizeof *(a))
#define MAX_THREADS SPEC_MAX_THREADS

int spec_valid_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 0;
    return 1;
}

static int oom(const Spec *spec, Err *err) { return err_set(err, "%s: out of memory", spec->file); }

/* --set KEY=VALUE: replaces the value of an existing var (VALUE is parsed as YAML). */
static int apply_override(Spec *spec, YNode *vars, const char *set, Err *err) {
    const char *eq = strchr(set, '=');
    if (!eq || eq == set) return err_set(err, "--set '%s': expected KEY=VALUE", set);
    char key[256];
    size_t klen = (size_t)(eq - set);
    if (klen >= sizeof key) return err_set(err, "--set '%s': key too long", set);
    memcpy(key, set, klen);
    key[klen] = '\0';
    YPair *pair = ynode_get_pair(vars, key);
    if (!pair) {
        const char *cands[256];
        size_t n = 0;
        for (size_t i = 0; vars && i < vars->len && n < COUNT(cands); i++) cands[n++] = vars->pairs[i].key->str;
        char hint[160];
        return err_set(err, "--set %s: %s has no var '%s'%s", set, spec->file, key, suggest_hint(hint, sizeof hint, key, cands, n));
    }
    const char *value = eq + 1;
    YNode *node;
    if (!*value) {
        node = ynode_scalar("", pair->value->line, pair->value->col);
        if (!node) return oom(spec, err);
    } else {
        char name[300];
        snprintf(name, sizeof name, "--set %s", key);
        if (ynode_parse(value, strlen(value), name, &node, err)) return -1;
    }
    ynode_free(pair->value);
    pair->value = node;
    return 0;
}

static int load_vars(Spec *spec, const char *const *sets, size_t n_sets, Err *err) {
    YNode *vars = ynode_get(spec->root, "vars");
    if (vars && ynode_expect(vars, YNODE_MAP, spec->file, "'vars'", err)) return -1;
    for (size_t i = 0; i < n_sets; i++)
        if (apply_override(spec, vars, sets[i], err)) return -1;
    SubstBudget budget = {.max_bytes = SUBST_MAX_BYTES, .max_nodes = SUBST_MAX_NODES};
    for (size_t i = 0; vars && i < vars->len; i++) {
        SubstScope scope = {.values = vars, .visible = i, .budget = &budget};
        if (subst_tree(&vars->pairs[i].value, &scope, spec->file, err)) return -1;
    }
    spec->vars = vars;
    /* every other top-level value; stage params keep `$${` escapes for the matrix pass */
    for (size_t i = 0; i < spec->root->len; i++) {
        const char *key = spec->root->pairs[i].key->str;
        if (!strcmp(key, "vars")) continue;
        SubstScope scope = {.values = vars, .visible = vars ? vars->len : 0, .unescape = strcmp(key, "stages") != 0,
                            .budget = &budget};
        if (subst_tree(&spec->root->pairs[i].value, &scope, spec->file, err)) return -1;
    }
    return 0;
}

static int load_name_and_seed(Spec *spec, Err *err) {
    const YNode *name = ynode_get(spec->root, "name");
    if (name) {
        if (name->kind != YNODE_SCALAR || !name->str[0])
            return ynode_err(err, spec->file, name, "'name' must be a non-empty string");
        spec->name = strdup(name->str);
    } else {
        const char *base = strrchr(spec->file, '/');
        base = base ? base + 1 : spec->file;
        size_t len = strcspn(base, ".");
        spec->name = strndup(base, len ? len : strlen(base));
    }
    if (!spec->name) return oom(spec, err);
    const YNode *seed = ynode_get(spec->root, "seed");
    if (seed && ynode_int(seed, 0, LLONG_MAX, spec->file, "'seed'", &spec->seed, err)) return -1;
    return 0;
}

static int load_plugins(Spec *spec, Err *err) {
    const YNode *plugins = ynode_get(spec->root, "plugins");
    if (!plugins) return 0;
    if (ynode_expect(plugins, YNODE_SEQ, spec->file, "'plugins'", err)) return -1;
    spec->plugins = calloc(plugins->len ? plugins->len : 1, sizeof *spec->plugins);
    if (!spec->plugins) return oom(spec, err);
    for (size_t i = 0; i < plugins->len; i++) {
        const YNode *p = plugins->items[i];
        if (p->kind != YNODE_SCALAR || !p->str[0])
            return ynode_err(err, spec->file, p, "each plugin must be the path of a shared object");
        char path[PATH_MAX];
        if (fs_join(path, sizeof path, spec->dir, p->str)) return ynode_err(err, spec->file, p, "plugin path too long");
        spec->plugins[spec->n_plugins] = strdup(path);
        if (!spec->plugins[spec->n_plugins]) return oom(spec, err);
        spec->n_plugins++;
        Err why;
        if (stage_plugin_load(path, &why)) return ynode_err(err, spec->file, p, "cannot load plugin '%s': %s", p->str, why.msg);
    }
    return 0;
}

/* One entry of `platforms:`: its name and what a stage's `platform: NAME` becomes (owned; NULL for
 * a bare name, which stays a name of a board file in experiments/platforms/). */
typedef struct Declared {
    const char *name;
    const YNode *at; /* where it was declared, for "duplicate" */
    YNode *value;
} Declared;

/* An entry `{file: PATH}` or `{name: N, file: PATH}`: the board file (relative to the experiment
 * file) read and checked now; stages get its absolute path. */
static int declare_file(Spec *spec, const YNode *p, const YNode *file, Declared *d, Err *err) {
    static const char *const keys[] = {"name", "file"};
    if (ynode_check_keys(p, keys, COUNT(keys), spec->file, "a platform with 'file'", err)) return -1;
    if (file->kind != YNODE_SCALAR || !file->str[0])
        return ynode_err(err, spec->file, file, "platform 'file' must be the path of a board file");
    char path[PATH_MAX];
    if (fs_join(path, sizeof path, spec->dir, file->str)) return ynode_err(err, spec->file, file, "platform file path too long");
    if (!fs_exists(path)) return ynode_err(err, spec->file, file, "platform file '%s' does not exist (%s)", file->str, path);
    PlatformDescFile pf;
    if (platform_desc_load(path, &pf, err)) return -1;
    const YNode *name = ynode_get(p, "name");
    int rc = 0;
    if (name && (name->kind != YNODE_SCALAR || strcmp(name->str, pf.desc.name)))
        rc = ynode_err(err, spec->file, name, "platform '%s': %s names its board '%s' (leave 'name' out or make them the same)",
                       name->kind == YNODE_SCALAR ? name->str : "?", file->str, pf.desc.name);
    else if (!(d->value = ynode_scalar(path, file->line, file->col)) || !(d->name = strdup(pf.desc.name)))
        rc = oom(spec, err);
    d->at = name ? name : file;
    platform_desc_free(&pf);
    return rc;
}

/* The experiment's boards: a name (a board file of experiments/platforms/), `{file: PATH}`, or a
 * whole description inline, each read and checked by the one reader (platforms/platform_desc.c);
 * names are unique. A stage param `platform: NAME` naming one becomes its description (inline: the
 * mapping, so it is part of the stage's cache key; `file`: the file's absolute path); any other
 * name must be a board file of experiments/platforms/, else it is refused here with the names it
 * could have been. A value with `${` (a matrix key) is left to the stage. */
static int load_platforms(Spec *spec, Err *err) {
    const YNode *platforms = ynode_get(spec->root, "platforms");
    if (platforms && ynode_expect(platforms, YNODE_SEQ, spec->file, "'platforms'", err)) return -1;
    size_t n = platforms ? platforms->len : 0, n_declared = 0;
    Declared *declared = calloc(n ? n : 1, sizeof *declared);
    if (!declared) return oom(spec, err);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const YNode *p = platforms->items[i], *file = p->kind == YNODE_MAP ? ynode_get(p, "file") : NULL;
        const YNode *name = p->kind == YNODE_MAP ? ynode_get(p, "name") : p;
        Declared *d = &declared[n_declared];
        if (file) {
            rc = declare_file(spec, p, file, d, err);
            if (rc) break;
        } else {
            if (p->kind == YNODE_SEQ || !name || name->kind != YNODE_SCALAR || !name->str[0]) {
                rc = ynode_err(err, spec->file, p, "each platform must be a name, a mapping with a 'name' or one with a 'file'");
                break;
            }
            if (p->kind == YNODE_MAP) { /* a description inline, checked now */
                PlatformDescFile pf;
                if ((rc = platform_desc_read(p, spec->file, &pf, err))) break;
                platform_desc_free(&pf);
                if (!(d->value = ynode_copy(p))) {
                    rc = oom(spec, err);
                    break;
                }
            }
            if (!(d->name = strdup(name->str))) {
                rc = oom(spec, err);
                break;
            }
            d->at = name;
        }
        n_declared++;
        for (size_t j = 0; j + 1 < n_declared && !rc; j++)
            if (!strcmp(declared[j].name, d->name))
                rc = ynode_err(err, spec->file, d->at, "duplicate platform '%s' (first at %d:%d)", d->name, declared[j].at->line,
                               declared[j].at->col);
    }
    for (size_t i = 0; i < spec->n_stages && !rc; i++) {
        YPair *pair = ynode_get_pair(spec->stages[i].params, "platform");
        if (!pair || pair->value->kind != YNODE_SCALAR || strstr(pair->value->str, "${")) continue;
        const char *value = pair->value->str;
        size_t k = 0;
        while (k < n_declared && strcmp(declared[k].name, value)) k++;
        if (k < n_declared) {
            if (!declared[k].value) continue; /* a bare name: the stage finds its file */
            YNode *copy = ynode_copy(declared[k].value);
            if (!copy) {
                rc = oom(spec, err);
                break;
            }
            ynode_free(pair->value);
            pair->value = copy;
            continue;
        }
        char path[PATH_MAX];
        Err why;
        if (strchr(value, '/') || strstr(value, ".yaml") || strstr(value, ".yml") || !platform_desc_find(value, ".", path, sizeof path, &why))
            continue; /* a path, or a board file of experiments/platforms/: the stage reads it */
        char builtin[64][PLATFORM_DESC_MAX_NAME + 1];
        size_t n_builtin = platform_desc_builtin_names(".", builtin, 64);
        const char *cands[128];
        size_t n_cands = 0;
        StrBuf list = {0};
        sb_append(&list, "declared:");
        for (size_t j = 0; j < n_declared && n_cands < 64; j++) sb_printf(&list, "%s %s", j ? "," : "", cands[n_cands++] = declared[j].name);
        if (!n_declared) sb_append(&list, " none");
        sb_append(&list, "; built in:");
        for (size_t j = 0; j < n_builtin; j++) sb_printf(&list, "%s %s", j ? "," : "", cands[n_cands++] = builtin[j]);
        if (!n_builtin) sb_append(&list, " none");
        char hint[160];
        rc = list.oom ? oom(spec, err)
                      : ynode_err(err, spec->file, pair->value, "stage '%s': unknown platform '%s'%s (%s)", spec->stages[i].name, value,
                                  suggest_hint(hint, sizeof hint, value, cands, n_cands), sb_str(&list));
        sb_free(&list);
    }
    for (size_t i = 0; i < n_declared; i++) {
        free((char *)declared[i].name);
        ynode_free(declared[i].value);
    }
    free(declared);
    if (!rc) spec->platforms = platforms;
    return rc;
}

static int load_defaults(Spec *spec, Err *err) {
    const YNode *defaults = ynode_get(spec->root, "defaults");
    if (!defaults) return 0;
    if (ynode_expect(defaults, YNODE_MAP, spec->file, "'defaults'", err)) return -1;
    const char *allowed[130] = {"threads", "resources"};
    size_t n = 2 + stage_type_names(allowed + 2, COUNT(allowed) - 2);
    if (ynode_check_keys(defaults, allowed, n, spec->file, "'defaults' (threads, resources or a stage type)", err)) return -1;
    long long threads;
    const YNode *t = ynode_get(defaults, "threads");
    if (t && ynode_int(t, 1, MAX_THREADS, spec->file, "'defaults.threads'", &threads, err)) return -1;
    Resources checked;
    resources_init(&checked);
    if (resources_parse(ynode_get(defaults, "resources"), spec->file, "defaults.resources", NULL, &checked, err)) return -1;
    for (size_t i = 0; i < defaults->len; i++) {
        const YNode *v = defaults->pairs[i].value;
        const char *key = defaults->pairs[i].key->str;
        if (strcmp(key, "threads") && strcmp(key, "resources") && v->kind != YNODE_MAP)
            return ynode_err(err, spec->file, v, "'defaults.%s' must be a mapping of params, not %s",
                             defaults->pairs[i].key->str, ynode_kind_name(v->kind));
    }
    spec->defaults = defaults;
    return 0;
}

/* params of one stage: its own, plus `defaults.<type>` entries it does not set. */
static int merge_params(Spec *spec, StageSpec *st, const YNode *own, Err *err) {
    if (own && ynode_expect(own, YNODE_MAP, spec->file, "'params'", err)) return -1;
    st->params = own ? ynode_copy(own) : ynode_new(YNODE_MAP, st->node->line, st->node->col);
    if (!st->params) return oom(spec, err);
    const YNode *defaults = ynode_get(spec->defaults, st->type);
    for (size_t i = 0; defaults && i < defaults->len; i++) {
        if (ynode_get(st->params, defaults->pairs[i].key->str)) continue;
        YNode *k = ynode_copy(defaults->pairs[i].key), *v = ynode_copy(defaults->pairs[i].value);
        if (!k || !v || ynode_put(st->params, k, v)) {
            ynode_free(k);
            ynode_free(v);
            return oom(spec, err);
        }
    }
    return 0;
}

static int load_matrix(Spec *spec, StageSpec *st, const YNode *matrix, Err *err) {
    if (!matrix) return 0;
    if (ynode_expect(matrix, YNODE_MAP, spec->file, "'matrix'", err)) return -1;
    if (!matrix->len) return ynode_err(err, spec->file, matrix, "stage '%s': 'matrix' is empty", st->name);
    for (size_t i = 0; i < matrix->len; i++) {
        const YNode *key = matrix->pairs[i].key, *values = matrix->pairs[i].value;
        if (!spec_valid_name(key->str))
            return ynode_err(err, spec->file, key, "matrix key '%s' may only use letters, digits, '_', '-' and '.'", key->str);
        if (values->kind != YNODE_SEQ)
            return ynode_err(err, spec->file, values, "matrix '%s' must be a list of values, not %s", key->str,
                             ynode_kind_name(values->kind));
        if (!values->len) return ynode_err(err, spec->file, values, "matrix '%s' is empty", key->str);
        StrMap seen = {0};
        int rc = 0;
        for (size_t j = 0; j < values->len && !rc; j++) {
            const YNode *v = values->items[j];
            size_t first;
            if (v->kind != YNODE_SCALAR)
                rc = ynode_err(err, spec->file, v, "matrix '%s' values must be plain values, not %s", key->str,
                               ynode_kind_name(v->kind));
            else if (!v->str[0] || strpbrk(v->str, ",=@/\n"))
                rc = ynode_err(err, spec->file, v, "matrix value '%s' cannot be empty or contain ',', '=', '@', '/' or a newline", v->str);
            else if (strmap_get(&seen, v->str, &first))
                rc = ynode_err(err, spec->file, v, "duplicate matrix value '%s' for '%s'", v->str, key->str);
            else if (strmap_put(&seen, v->str, j))
                rc = oom(spec, err);
        }
        strmap_free(&seen);
        if (rc) return -1;
    }
    st->matrix = matrix;
    return 0;
}

/* `executor:`: a name of the executor table, refused on the stages that read the database. */
static int load_executor(Spec *spec, StageSpec *st, const YNode *ex, Err *err) {
    if (!ex) return 0;
    char what[300];
    snprintf(what, sizeof what, "stage '%s': 'executor'", st->name);
    if (ex->kind != YNODE_SCALAR) return ynode_expect(ex, YNODE_SCALAR, spec->file, what, err);
    for (size_t i = 0; i < COUNT(database_stage_types); i++)
        if (!strcmp(st->type, database_stage_types[i]))
            return ynode_err(err, spec->file, ex,
                             "stage '%s': 'executor' cannot be set on a%s %s stage: it reads the results database and "
                             "always runs where the database is (remove the key)",
                             st->name, st->type[0] == 'a' ? "n" : "", st->type);
    if (!executor_type_find(ex->str)) {
        char msg[600];
        return ynode_err(err, spec->file, ex, "stage '%s' has %s", st->name, executor_unknown_message(ex->str, msg, sizeof msg));
    }
    st->executor = ex->str;
    return 0;
}

static int load_stage(Spec *spec, const YPair *pair, StageSpec *st, Err *err) {
    st->name = pair->key->str;
    st->key = pair->key;
    st->node = pair->value;
    if (!spec_valid_name(st->name))
        return ynode_err(err, spec->file, pair->key, "stage name '%s' may only use letters, digits, '_', '-' and '.'", st->name);
    if (st->node->kind != YNODE_MAP)
        return ynode_err(err, spec->file, st->node, "stage '%s' must be a mapping (type, needs, params, matrix, threads, resources, executor), not %s",
                         st->name, ynode_kind_name(st->node->kind));
    char context[300];
    snprintf(context, sizeof context, "stage '%s'", st->name);
    if (ynode_check_keys(st->node, stage_keys, COUNT(stage_keys), spec->file, context, err)) return -1;
    const char *types[128];
    size_t n_types = stage_type_names(types, COUNT(types));
    const YNode *type = ynode_get(st->node, "type");
    if (!type) {
        StrBuf list = {0};
        for (size_t i = 0; i < n_types; i++) sb_printf(&list, "%s%s", i ? ", " : "", types[i]);
        ynode_err(err, spec->file, pair->key, "stage '%s' has no 'type' (one of: %s)", st->name, sb_str(&list));
        sb_free(&list);
        return -1;
    }
    if (type->kind != YNODE_SCALAR) return ynode_expect(type, YNODE_SCALAR, spec->file, "'type'", err);
    if (!stage_type_find(type->str)) {
        char hint[160];
        return ynode_err(err, spec->file, type, "stage '%s' has unknown type '%s'%s", st->name, type->str,
                         suggest_hint(hint, sizeof hint, type->str, types, n_types));
    }
    st->type = type->str;
    long long threads = 1;
    const YNode *t = ynode_get(st->node, "threads");
    if (!t) t = ynode_get(spec->defaults, "threads");
    char what[300];
    snprintf(what, sizeof what, "stage '%s': 'threads'", st->name);
    if (t && ynode_int(t, 1, MAX_THREADS, spec->file, what, &threads, err)) return -1;
    st->threads = (int)threads;
    resources_init(&st->resources);
    if (resources_parse(ynode_get(spec->defaults, "resources"), spec->file, "defaults.resources", NULL, &st->resources, err) ||
        resources_parse(ynode_get(st->node, "resources"), spec->file, "resources", st->name, &st->resources, err) ||
        load_executor(spec, st, ynode_get(st->node, "executor"), err))
        return -1;
    st->needs = ynode_get(st->node, "needs");
    const YNode *bad;
    if (st->needs && !ynode_string_list(st->needs, &bad) && bad)
        return ynode_err(err, spec->file, bad, "'needs' must be a stage name or a list of stage names");
    if (load_matrix(spec, st, ynode_get(st->node, "matrix"), err)) return -1;
    return merge_params(spec, st, ynode_get(st->node, "params"), err);
}

static int load_stages(Spec *spec, Err *err) {
    const YNode *stages = ynode_get(spec->root, "stages");
    if (!stages) return ynode_err(err, spec->file, spec->root, "the experiment has no 'stages'");
    if (ynode_expect(stages, YNODE_MAP, spec->file, "'stages'", err)) return -1;
    if (!stages->len) return ynode_err(err, spec->file, stages, "'stages' is empty");
    spec->stages = calloc(stages->len, sizeof *spec->stages);
    if (!spec->stages) return oom(spec, err);
    for (size_t i = 0; i < stages->len; i++) {
        if (load_stage(spec, &stages->pairs[i], &spec->stages[i], err)) return -1;
        spec->n_stages++;
        if (strmap_put(&spec->stage_index, spec->stages[i].name, i)) return oom(spec, err);
    }
    return 0;
}

int spec_load(const char *path, const char *const *sets, size_t n_sets, Spec *spec, Err *err) {
    memset(spec, 0, sizeof *spec);
    spec->file = strdup(path);
    if (!spec->file) return err_set(err, "out of memory");
    char *text;
    size_t len;
    if (fs_read_file(path, &text, &len, err)) return -1;
    sha256_hex_of(text, len, spec->sha256);
    int rc = ynode_parse(text, len, path, &spec->root, err);
    free(text);
    if (rc) return -1;
    char abs[PATH_MAX], dir[PATH_MAX];
    if (fs_absolute(path, abs, sizeof abs, err)) return -1;
    fs_dirname(abs, dir, sizeof dir);
    spec->dir = strdup(dir);
    if (!spec->dir) return oom(spec, err);
    if (ynode_expect(spec->root, YNODE_MAP, path, "the experiment file", err)) return -1;
    if (ynode_check_keys(spec->root, top_keys, COUNT(top_keys), path, "the experiment file", err)) return -1;
    if (load_vars(spec, sets, n_sets, err) || load_name_and_seed(spec, err) || load_plugins(spec, err) ||
        load_defaults(spec, err) || load_stages(spec, err) || load_platforms(spec, err))
        return -1;
    return 0;
}

void spec_free(Spec *spec) {
    for (size_t i = 0; i < spec->n_stages; i++) ynode_free(spec->stages[i].params);
    /* a stage that failed to load may still own params */
    if (spec->stages && spec->root) {
        const YNode *stages = ynode_get(spec->root, "stages");
        if (stages && spec->n_stages < stages->len) ynode_free(spec->stages[spec->n_stages].params);
    }
    free(spec->stages);
    for (size_t i = 0; i < spec->n_plugins; i++) free(spec->plugins[i]);
    free(spec->plugins);
    strmap_free(&spec->stage_index);
    ynode_free(spec->root);
    free(spec->file);
    free(spec->dir);
    free(spec->name);
    memset(spec, 0, sizeof *spec);
}
