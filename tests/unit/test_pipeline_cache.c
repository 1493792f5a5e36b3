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

static void test_key_properties(void **state) {
    (void)state;
    char base[65], k[65];
    CacheInput in1[] = {{"data.txt", "aa"}, {"", "upstreamkey"}};
    CacheInput in2[] = {{"", "upstreamkey"}, {"data.txt", "aa"}};
    key_of("{cmd: [echo, hi], env: {A: '1', B: '2'}}", in1, 2, 1, 2, "exec", "0.1.0+abc", base);
    assert_int_equal(strlen(base), 64);
    /* same content, other order of mapping keys and of inputs: same key */
    key_of("{env: {B: '2', A: '1'}, cmd: [echo, hi]}", in2, 2, 1, 2, "exec", "0.1.0+abc", k);
    assert_string_equal(k, base);
    /* quoting does not matter: scalars are text */
    key_of("{cmd: [\"echo\", 'hi'], env: {A: 1, B: 2}}", in1, 2, 1, 2, "exec", "0.1.0+abc", k);
    assert_string_equal(k, base);
    /* every part matters */
    key_of("{cmd: [echo, ho], env: {A: '1', B: '2'}}", in1, 2, 1, 2, "exec", "0.1.0+abc", k);
    assert_string_not_equal(k, base);
    CacheInput changed[] = {{"data.txt", "ab"}, {"", "upstreamkey"}};
    key_of("{cmd: [echo, hi], env: {A: '1', B: '2'}}", changed, 2, 1, 2, "exec", "0.1.0+abc", k);
    assert_string_not_equal(k, base);
    key_of("{cmd: [echo, hi], env: {A: '1', B: '2'}}", in1, 2, 2, 2, "exec", "0.1.0+abc", k);
    assert_string_not_equal(k, base);
    key_of("{cmd: [echo, hi], env: {A: '1', B: '2'}}", in1, 2, 1, 4, "exec", "0.1.0+abc", k);
    assert_string_not_equal(k, base);
    key_of("{cmd: [echo, hi], env: {A: '1', B: '2'}}", in1, 2, 1, 2, "other", "0.1.0+abc", k);
    assert_string_not_equal(k, base);
    key_of("{cmd: [echo, hi], env: {A: '1', B: '2'}}", in1, 2, 1, 2, "exec", "0.1.0+abd", k);
    assert_string_not_equal(k, base);
    /* list order is meaning (argv), so it changes the key */
    key_of("{cmd: [hi, echo], env: {A: '1', B: '2'}}", in1, 2, 1, 2, "exec", "0.1.0+abc", k);
    assert_string_not_equal(k, base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
