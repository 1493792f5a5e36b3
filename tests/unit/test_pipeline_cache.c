/* tests/unit/test_pipeline_cache.c — cache keys: equal for equal inputs whatever their order
 * (mapping keys in the YAML, upstream artifacts), different when any part changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pipeline/cache.h"
#include "tests/unit/testutil.h"

static YNode *parse(const char *text) {
    YNode *n;
    Err err;
    assert_int_equal(ynode_parse(text, strlen(text), "params", &n, &err), 0);
    return n;
}

/* Key of (params text, inputs, seed, threads, type, build). */
static void key_of(const char *params_text, CacheInput *inputs, size_t n, long long seed, int threads, const char *type,
                   const char *build, char key[SHA256_HEX_LEN + 1]) {
    YNode *params = parse(params_text);
    CacheKeyParts parts = {.type = type, .params = params, .inputs = inputs, .n_inputs = n, .build_id = build,
                           .seed = seed, .threads = threads};
    Err err;
    assert_int_equal(cache_key(&parts, key, &err), 0);
    ynode_free(params);
}

typedef struct Variant {
    const char *what;
    const char *params;
    int changed_input; /* the first input's hash differs */
    int swapped_inputs;
    long long seed;
    int threads;
    const char *type, *build;
    int same; /* expected: same key as the base */
} Variant;

static void test_key_properties(void **state) {
    (void)state;
    const char *params = "{cmd: [echo, hi], env: {A: '1', B: '2'}}";
    char base[65], k[65];
    CacheInput in[] = {{"data.txt", "aa"}, {"", "upstreamkey"}};
    key_of(params, in, 2, 1, 2, "exec", "0.1.0+abc", base);
    assert_int_equal(strlen(base), 64);
    const Variant variants[] = {
        {"mapping keys reordered", "{env: {B: '2', A: '1'}, cmd: [echo, hi]}", 0, 0, 1, 2, "exec", "0.1.0+abc", 1},
        {"inputs in another order", params, 0, 1, 1, 2, "exec", "0.1.0+abc", 1},
        {"other quoting", "{cmd: [\"echo\", 'hi'], env: {A: 1, B: 2}}", 0, 0, 1, 2, "exec", "0.1.0+abc", 1},
        {"a param", "{cmd: [echo, ho], env: {A: '1', B: '2'}}", 0, 0, 1, 2, "exec", "0.1.0+abc", 0},
        {"argv order", "{cmd: [hi, echo], env: {A: '1', B: '2'}}", 0, 0, 1, 2, "exec", "0.1.0+abc", 0},
        {"an input hash", params, 1, 0, 1, 2, "exec", "0.1.0+abc", 0},
        {"the seed", params, 0, 0, 2, 2, "exec", "0.1.0+abc", 0},
        {"threads", params, 0, 0, 1, 4, "exec", "0.1.0+abc", 0},
        {"the type", params, 0, 0, 1, 2, "other", "0.1.0+abc", 0},
        {"the build", params, 0, 0, 1, 2, "exec", "0.1.0+abd", 0},
    };
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        const Variant *x = &variants[v];
        CacheInput inputs[] = {{"data.txt", x->changed_input ? "ab" : "aa"}, {"", "upstreamkey"}};
        if (x->swapped_inputs) {
            CacheInput t = inputs[0];
            inputs[0] = inputs[1], inputs[1] = t;
        }
        key_of(x->params, inputs, 2, x->seed, x->threads, x->type, x->build, k);
        if ((strcmp(k, base) == 0) != x->same) fail_msg("%s: the key should %s", x->what, x->same ? "stay" : "change");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
