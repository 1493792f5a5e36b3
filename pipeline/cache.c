/* pipeline/cache.c — stage cache keys (see cache.h). */
#include "pipeline/cache.h"

#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

static int compare_inputs(const void *a, const void *b) {
    const CacheInput *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->hash, y->hash);
}

int cache_key(CacheKeyParts *p, char key[SHA256_HEX_LEN + 1], Err *err) {
    qsort(p->inputs, p->n_inputs, sizeof *p->inputs, compare_inputs);
    StrBuf sb = {0};
    sb_append(&sb, "{\"build\":");
    sb_append_json_string(&sb, p->build_id);
    sb_append(&sb, ",\"inputs\":[");
    for (size_t i = 0; i < p->n_inputs; i++) {
        sb_append(&sb, i ? ",[" : "[");
        sb_append_json_string(&sb, p->inputs[i].name);
        sb_append_char(&sb, ',');
        sb_append_json_string(&sb, p->inputs[i].hash);
        sb_append_char(&sb, ']');
    }
    sb_append(&sb, "],\"params\":");
    ynode_canonical_json(p->params, &sb);
    sb_printf(&sb, ",\"seed\":\"%lld\",\"threads\":\"%d\",\"type\":", p->seed, p->threads);
    sb_append_json_string(&sb, p->type);
    sb_append_char(&sb, '}');
    if (sb.oom) {
        sb_free(&sb);
        return err_set(err, "out of memory computing a cache key");
    }
    sha256_hex_of(sb.data, sb.len, key);
    sb_free(&sb);
    return 0;
}
