/* pipeline/stage_desc.c — writing and reading stage descriptions (see stage_desc.h). */
#include "pipeline/stage_desc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/strbuf.h"

static void key_string(StrBuf *sb, const char *key, const char *value) {
    sb_append_char(sb, ',');
    sb_append_json_string(sb, key);
    sb_append_char(sb, ':');
    sb_append_json_string(sb, value ? value : "");
}

static void key_number(StrBuf *sb, const char *key, long long value) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", value);
    key_string(sb, key, buf);
}

int stage_desc_write(const char *path, const StageDesc *d, Err *err) {
    StrBuf sb = {0};
    sb_append(&sb, "{\"version\":\"1\"");
    key_string(&sb, "name", d->name);
    key_string(&sb, "stage", d->stage);
    key_string(&sb, "type", d->type);
    key_string(&sb, "key", d->key);
    key_number(&sb, "threads", d->threads);
    key_number(&sb, "seed", d->seed);
    key_string(&sb, "workdir", d->workdir);
    key_string(&sb, "state_dir", d->state_dir);
    key_string(&sb, "db", d->db);
    key_string(&sb, "run", d->run);
    key_string(&sb, "log", d->log);
    key_string(&sb, "records", d->records);
    key_string(&sb, "scratch", d->scratch);
    key_string(&sb, "slot_dir", d->slot_dir);
    key_string(&sb, "resume_dir", d->resume_dir);
    sb_append(&sb, ",\"plugins\":[");
    for (size_t i = 0; i < d->n_plugins; i++) {
        if (i) sb_append_char(&sb, ',');
        sb_append_json_string(&sb, d->plugins[i]);
    }
    sb_append(&sb, "],\"params\":");
    ynode_canonical_json(d->params, &sb);
    sb_append(&sb, ",\"inputs\":[");
    for (size_t i = 0; i < d->n_inputs; i++) {
        const StageInput *in = &d->inputs[i];
        sb_append(&sb, i ? ",{\"v\":\"1\"" : "{\"v\":\"1\"");
        key_string(&sb, "stage", in->stage);
        key_string(&sb, "name", in->name);
        key_string(&sb, "kind", in->kind);
        key_string(&sb, "path", in->path);
        key_string(&sb, "hash", in->hash);
        key_number(&sb, "size", (long long)in->size);
        sb_append_char(&sb, '}');
    }
    sb_append(&sb, "]}\n");
    int rc = sb.oom ? err_set(err, "%s: out of memory", path) : fs_overwrite_file(path, sb.data, sb.len, err);
    sb_free(&sb);
    return rc;
}

static const char *text(const YNode *map, const char *key) {
    const YNode *n = ynode_get(map, key);
    return n && n->kind == YNODE_SCALAR ? n->str : NULL;
}

int stage_desc_read(const char *path, StageDesc *d, Err *err) {
    memset(d, 0, sizeof *d);
    if (ynode_parse_file(path, &d->root_, err)) return -1;
    const YNode *root = d->root_;
    d->name = text(root, "name"), d->stage = text(root, "stage"), d->type = text(root, "type"), d->key = text(root, "key");
    d->workdir = text(root, "workdir"), d->state_dir = text(root, "state_dir"), d->log = text(root, "log");
    d->records = text(root, "records"), d->scratch = text(root, "scratch"), d->slot_dir = text(root, "slot_dir");
    d->resume_dir = text(root, "resume_dir");
    d->db = text(root, "db"), d->run = text(root, "run");
    const char *threads = text(root, "threads"), *seed = text(root, "seed");
    const YNode *plugins = ynode_get(root, "plugins"), *inputs = ynode_get(root, "inputs");
    d->params = ynode_get(root, "params");
    if (!d->name || !d->stage || !d->type || !d->workdir || !d->state_dir || !d->log || !d->records || !d->scratch ||
        !threads || !seed || !plugins || plugins->kind != YNODE_SEQ || !inputs || inputs->kind != YNODE_SEQ ||
        !d->params || d->params->kind != YNODE_MAP) {
        stage_desc_free(d);
        return err_set(err, "%s: not a complete stage description", path);
    }
    d->threads = atoi(threads);
    d->seed = strtoll(seed, NULL, 10);
    const char **plugin_paths = calloc(plugins->len + 1, sizeof *plugin_paths);
    StageInput *ins = calloc(inputs->len + 1, sizeof *ins);
    if (!plugin_paths || !ins) {
        free(plugin_paths);
        free(ins);
        stage_desc_free(d);
        return err_set(err, "out of memory");
    }
    for (size_t i = 0; i < plugins->len; i++) plugin_paths[i] = plugins->items[i]->str;
    for (size_t i = 0; i < inputs->len; i++) {
        const YNode *in = inputs->items[i];
        ins[i].stage = text(in, "stage"), ins[i].name = text(in, "name"), ins[i].kind = text(in, "kind");
        ins[i].path = text(in, "path"), ins[i].hash = text(in, "hash");
        const char *size = text(in, "size");
        ins[i].size = size ? strtoull(size, NULL, 10) : 0;
    }
    d->plugins = plugin_paths;
    d->n_plugins = plugins->len;
    d->inputs = ins;
    d->n_inputs = inputs->len;
    for (size_t i = 0; i < d->n_inputs; i++)
        if (!ins[i].stage || !ins[i].name || !ins[i].kind || !ins[i].path || !ins[i].hash) {
            stage_desc_free(d);
            return err_set(err, "%s: input %zu is incomplete", path, i + 1);
        }
    return 0;
}

void stage_desc_free(StageDesc *d) {
    free((void *)d->plugins);
    free((void *)d->inputs);
    ynode_free(d->root_);
    memset(d, 0, sizeof *d);
}
