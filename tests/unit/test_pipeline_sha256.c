/* tests/unit/test_pipeline_sha256.c — util/sha256 against the FIPS 180-4 example vectors (NIST
 * "SHA256.pdf" / CAVS short and long messages), streaming in odd chunk sizes, and file hashing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/testutil.h"
#include "util/fs.h"
#include "util/sha256.h"

static void expect_digest(const char *msg, size_t len, const char *hex) {
    char got[SHA256_HEX_LEN + 1];
    sha256_hex_of(msg, len, got);
    assert_string_equal(got, hex);
}

static void test_fips_examples(void **state) {
    (void)state;
    expect_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_digest(m448, strlen(m448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    expect_digest(m896, strlen(m896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* One million 'a' (FIPS 180-4 long message), fed in chunks of 1000. */
static void test_million_a(void **state) {
    (void)state;
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    Sha256 h;
    sha256_init(&h);
    for (int i = 0; i < 1000; i++) sha256_update(&h, chunk, sizeof chunk);
    uint8_t d[SHA256_BYTES];
    char hex[SHA256_HEX_LEN + 1];
    sha256_final(&h, d);
    sha256_hex(d, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every split of a message around the 55/56/64-byte padding edges gives the one-shot digest. */
static void test_streaming_equals_one_shot(void **state) {
    (void)state;
    char msg[200];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof msg; len += 1) {
        uint8_t one[SHA256_BYTES], parts[SHA256_BYTES];
        sha256(msg, len, one);
        for (size_t cut = 0; cut <= len; cut += 13) {
            Sha256 h;
            sha256_init(&h);
            sha256_update(&h, msg, cut);
            sha256_update(&h, msg + cut, len - cut);
            sha256_final(&h, parts);
            assert_memory_equal(one, parts, SHA256_BYTES);
        }
    }
}

static void test_file_hash(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[512];
    tu_path(path, sizeof path, dir, "abc.txt");
    tu_write_file(path, "abc", 3);
    char hex[SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    Err err;
    assert_int_equal(fs_sha256_file(path, hex, &size, &err), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(size, 3);
    tu_path(path, sizeof path, dir, "missing");
    assert_int_equal(fs_sha256_file(path, hex, &size, &err), -1);
    assert_non_null(strstr(err.msg, "missing: cannot open"));
    tu_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_examples),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_streaming_equals_one_shot),
        cmocka_unit_test(test_file_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
