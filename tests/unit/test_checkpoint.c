/* tests/unit/test_checkpoint.c — the model description in a checkpoint (nn/checkpoint.c) and the
 * bounds checked before a model is allocated (nn/model.c, nn/model_build.c): the description
 * parser refuses every lenient spelling (nan, hex, fractions for integers, duplicates, unknown keys,
 * extra fields); sizes a description claims are bounded, and the stored tensor shapes are checked
 * against the architecture, before any model buffer is allocated, by `info` (checkpoint_read_desc)
 * as by loading; a model too large for memory is an error that says how many bytes it needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "nn/checkpoint.h"
#include "nn/ckpt_file.h"
#include "nn/model.h"
#include "nn/parallel.h"
#include "tests/unit/testutil.h"

typedef struct Fixture {
    char *dir;
    char base[512], path[512];
    CkptFile f; /* the base checkpoint: a resnet8 (1x12x12, 5 classes, width 0.5), two subnets */
} Fixture;

static int setup(void **state) {
    Fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    tu_path(fx->base, sizeof fx->base, fx->dir, "base.dnn");
    tu_path(fx->path, sizeof fx->path, fx->dir, "crafted.dnn");
    nn_set_threads(1);
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_non_null(d);
    assert_int_equal(model_desc_build(d, "resnet8", 1, 12, 12, 5, 0.5f, &err), 0);
    d->n_subnets = 2;
    snprintf(d->subnets[1].name, sizeof d->subnets[1].name, "half");
    for (int s = 0; s < d->n_slots; s++) d->subnets[1].count[s] = d->slot_max[s] / 2;
    model_desc_set_meta(d, "train.epochs", "3");
    Model m;
    assert_int_equal(model_create(&m, d, 2, 1, &err), 0);
    model_init_params(&m, 7);
    assert_int_equal(checkpoint_save(&m, fx->base, &err), 0);
    model_free(&m);
    assert_int_equal(ckpt_read(fx->base, &fx->f, &err), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    Fixture *fx = *state;
    ckpt_free(&fx->f);
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* The base description with the line starting with `key ` replaced by `line` (or, when `line`
 * is NULL, removed; when no line has that key, `line` is appended). Caller frees. */
static char *edit_meta(const char *meta, const char *key, const char *line) {
    size_t cap = strlen(meta) + (line ? strlen(line) : 0) + 2, klen = strlen(key), n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    int done = 0;
    for (const char *p = meta; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (!done && !strncmp(p, key, klen) && (p[klen] == ' ' || p[klen] == '\n')) {
            done = 1;
            if (line) n += (size_t)sprintf(out + n, "%s\n", line);
        } else {
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
    }
    if (!done && line) n += (size_t)sprintf(out + n, "%s\n", line);
    out[n] = '\0';
    return out;
}

/* Writes the base tensors under `meta` to fx->path. */
static void write_crafted(Fixture *fx, const char *meta) {
    Err err;
    assert_int_equal(ckpt_write(fx->path, meta, fx->f.tensors, fx->f.n_tensors, &err), 0);
}

static void assert_contains(const char *msg, const char *part) {
    if (!strstr(msg, part)) fail_msg("message \"%s\" does not contain \"%s\"", msg, part);
}

/* Both info (checkpoint_read_desc) and loading refuse the file with a message containing each
 * of the parts. */
static void assert_refused(Fixture *fx, const char *part1, const char *part2) {
    ModelDesc *d = calloc(1, sizeof *d);
    assert_non_null(d);
    Err err = {{0}};
    if (checkpoint_read_desc(fx->path, d, NULL, &err) == 0) fail_msg("checkpoint_read_desc accepted it (%s)", part1);
    assert_contains(err.msg, fx->path);
    assert_contains(err.msg, part1);
    if (part2) assert_contains(err.msg, part2);
    assert_null(strchr(err.msg, '\n'));
    free(d);
    Model m;
    memset(&err, 0, sizeof err);
    if (checkpoint_load(fx->path, &m, 1, 1, &err) == 0) fail_msg("checkpoint_load accepted it (%s)", part1);
    assert_contains(err.msg, part1);
}

static void test_base_is_accepted(void **state) {
    Fixture *fx = *state;
    write_crafted(fx, fx->f.meta);
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(checkpoint_read_desc(fx->path, d, NULL, &err), 0);
    assert_int_equal(d->n_subnets, 2);
    assert_string_equal(d->subnets[1].name, "half");
    assert_string_equal(model_desc_get_meta(d, "train.epochs"), "3");
    free(d);
    /* an empty meta value and a value with spaces survive */
    char *meta = edit_meta(fx->f.meta, "meta train.epochs", "meta train.note two  words ");
    char *meta2 = edit_meta(meta, "meta x", "meta train.empty ");
    write_crafted(fx, meta2);
    d = calloc(1, sizeof *d);
    assert_int_equal(checkpoint_read_desc(fx->path, d, NULL, &err), 0);
    assert_string_equal(model_desc_get_meta(d, "train.note"), "two  words ");
    assert_string_equal(model_desc_get_meta(d, "train.empty"), "");
    free(d);
    free(meta);
    free(meta2);
}

/* Every numeric field parsed completely, finite and in range; names and keys unique; no unknown
 * key, no missing or extra field. The old parser (atoi/strtof, no duplicate checks) took them all. */
static void test_lenient_descriptions_refused(void **state) {
    Fixture *fx = *state;
    static const struct {
        const char *key, *line, *part1, *part2;
    } cases[] = {
        {"norm", "norm nan 1", "norm mean", "'nan' is not a finite"},
        {"norm", "norm 0.2 inf", "norm std", "'inf'"},
        {"norm", "norm 0.2 0.3 0.4 0.5", "'norm' takes 2 values", NULL},
        {"norm", "norm 0.2 -1", "norm std", "not positive"},
        {"bn_sets", "bn_sets 1.5", "bn_sets", "'1.5' is not a decimal integer"},
        {"bn_sets", "bn_sets 0x1", "bn_sets", "'0x1'"},
        {"width", "width 0x1p-1", "width", "'0x1p-1' is not a finite decimal"},
        {"width", "width 0.5abc", "width", "'0.5abc'"},
        {"classes", "classes 5x", "classes", "'5x'"},
        {"classes", "classes 99999999999999999999", "classes", "outside 2.."},
        {"input", "input 1 12 12 7", "'input' takes 3 values, got 4", NULL},
        {"input", "input 1 12 +12", "input width", "'+12'"},
        {"slots", "slots 6 ", "trailing space", NULL},
        {"slots", "slots  6", "empty field", NULL},
        {"dynn-model", "dynn-model 1.0", "dynn-model", "'1.0'"},
        {"bogus", "bogus 1", "unknown key 'bogus'", NULL},
        {"arch", NULL, "no 'arch' line", NULL},
        {"subnet half", "subnet full 1 1 1 1 1 1", "subnet name 'full' is used twice", NULL},
        {"subnet half", "subnet half 1 1 1 1 1", "'subnet' takes", NULL},
        {"subnet half", "subnet half 1 1 1 1 1 0x2", "subnet 'half' slot 5", "'0x2'"},
        {"meta train.epochs", "meta train.epochs 3\nmeta train.epochs 4", "meta 'train.epochs' given twice", NULL},
        {"slot stage1", "slot stage9 8", "slot 0 is 'stage9' with 8 channels", NULL},
        {"meta train.epochs", "meta", "'meta' needs a key", NULL},
        {"meta train.epochs", "meta train\001epochs 3", "meta key", "control character"},
        {"slots", "slots\t6", "control character 0x09", NULL},
        {"weight_sets", "weight_sets 1\nbn_eps 0", "bn_eps", "0 is outside (0, 1]"},
        {"weight_sets", "weight_sets 1\nbn_eps 1.5", "bn_eps", "1.5 is outside (0, 1]"},
        {"weight_sets", "weight_sets 1\nbn_eps nan", "bn_eps", "'nan' is not a finite"},
        {"weight_sets", "weight_sets 1\nbn_eps 1e-5 1e-5", "'bn_eps' takes 1 value, got 2", NULL},
        {"weight_sets", "weight_sets 1\nbn_eps 1e-3\nbn_eps 1e-3", "'bn_eps' given twice", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *meta = edit_meta(fx->f.meta, cases[i].key, cases[i].line);
        write_crafted(fx, meta);
        print_message("case %zu: %s\n", i, cases[i].line ? cases[i].line : "(line removed)");
        assert_refused(fx, cases[i].part1, cases[i].part2);
        free(meta);
    }
    /* a header key given twice */
    char *meta = malloc(strlen(fx->f.meta) + 32);
    sprintf(meta, "%sarch resnet8\n", fx->f.meta);
    write_crafted(fx, meta);
    assert_refused(fx, "'arch' given twice (first on line 2)", NULL);
    free(meta);
    /* a NUL byte inside the description (the meta CRC at offset 24 recomputed) */
    size_t len;
    unsigned char *bytes = tu_read_file(fx->base, &len);
    assert_non_null(bytes);
    size_t meta_len = strlen(fx->f.meta);
    bytes[28 + meta_len - 3] = '\0';
    uint32_t crc = (uint32_t)crc32(0, bytes + 28, (uInt)meta_len);
    for (int i = 0; i < 4; i++) bytes[24 + i] = (unsigned char)(crc >> (8 * i));
    tu_write_file(fx->path, bytes, len);
    free(bytes);
    assert_refused(fx, "NUL byte", NULL);
}

/* Limits the address space to 4 GiB (so that any allocation of a huge model fails here as on a
 * small machine); *saved gets the limits to restore with unlimit(). */
/* Under ASan (make sanitize) the address space is ASan's: its shadow mapping alone is terabytes, so
 * RLIMIT_AS cannot be lowered; the checks that need the cap are skipped there (ASAN_CAN_CAP 0). */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_CAN_CAP 0
#else
#define ASAN_CAN_CAP 1
#endif
static void limit_memory(struct rlimit *saved) {
    assert_int_equal(getrlimit(RLIMIT_AS, saved), 0);
    if (!ASAN_CAN_CAP) return;
    struct rlimit small = *saved;
    small.rlim_cur = (rlim_t)4 << 30;
    if (saved->rlim_max != RLIM_INFINITY && saved->rlim_max < small.rlim_cur) small.rlim_cur = saved->rlim_max;
    assert_int_equal(setrlimit(RLIMIT_AS, &small), 0);
}
static void unlimit(const struct rlimit *saved) { assert_int_equal(setrlimit(RLIMIT_AS, saved), 0); }

/* Huge sizes claimed by a description are refused by field, before anything is allocated, even
 * under an address-space limit that any such allocation would exceed. */
static void test_huge_sizes_refused_before_allocating(void **state) {
    Fixture *fx = *state;
    struct rlimit saved;
    static const struct {
        const char *key, *line, *part1, *part2;
    } cases[] = {
        {"input", "input 1 100000 100000", "input height", "100000 is outside 1..16384"},
        {"classes", "classes 1000000000", "classes", "1000000000 is outside 2..1000000"},
        /* within the bounds, but the file's tensors are those of 5 classes: refused on the shape of
         * fc.weight before the 900000-class model is allocated */
        {"classes", "classes 900000", "tensor 'fc.weight' is [5x32] in the file", "needs [900000x32]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *meta = edit_meta(fx->f.meta, cases[i].key, cases[i].line);
        write_crafted(fx, meta);
        free(meta);
        limit_memory(&saved);
        print_message("case %zu: %s\n", i, cases[i].line);
        assert_refused(fx, cases[i].part1, cases[i].part2);
        unlimit(&saved);
    }
    /* 8192x8192 passes every bound and every tensor shape (ResNet weights do not depend on the
     * input size), so `info` shows it; loading refuses it, saying how many bytes it needed */
    char *meta = edit_meta(fx->f.meta, "input", "input 1 8192 8192");
    write_crafted(fx, meta);
    free(meta);
    ModelDesc *d = calloc(1, sizeof *d);
    Err err = {{0}};
    assert_int_equal(checkpoint_read_desc(fx->path, d, NULL, &err), 0);
    free(d);
    if (!ASAN_CAN_CAP) return; /* without the cap, loading would try to allocate the model for real */
    limit_memory(&saved);
    Model m;
    int rc = checkpoint_load(fx->path, &m, 1, 1, &err);
    unlimit(&saved);
    assert_int_equal(rc, -1);
    print_message("%s\n", err.msg);
    assert_contains(err.msg, fx->path);
    assert_contains(err.msg, "model resnet8, batch 1: needs ");
}

/* A ResNet-CIFAR name claiming an absurd depth is refused by its depth, before any block is
 * built (the fuzzer found 'resnet140000000': the builder kept adding blocks for minutes after its
 * op table was full), and one just too deep for the op table stops at the first full table. */
static void test_deep_resnet_refused_by_depth(void **state) {
    (void)state;
    ModelDesc *d = calloc(1, sizeof *d);
    assert_non_null(d);
    Err err = {{0}};
    assert_int_equal(model_desc_build(d, "resnet140000000", 1, 8, 8, 10, 0.5f, &err), -1);
    print_message("%s\n", err.msg);
    assert_contains(err.msg, "depth must be at most 1202");
    memset(d, 0, sizeof *d);
    err = (Err){{0}};
    assert_int_equal(model_desc_build(d, "resnet1202", 1, 8, 8, 10, 0.5f, &err), -1);
    print_message("%s\n", err.msg);
    assert_contains(err.msg, "too many");
    free(d);
}

/* `info` refuses a file whose tensors do not fit the architecture, as loading does. */
static void test_read_desc_checks_tensor_shapes(void **state) {
    Fixture *fx = *state;
    char *meta = edit_meta(fx->f.meta, "width", "width 0.25"); /* stored tensors are width 0.5's */
    char *meta2 = edit_meta(meta, "slot stage1", "slot stage1 4");
    free(meta);
    /* slot lines and subnets of a width-0.25 resnet8: 4 4 8 8 16 16 */
    static const char *slots[] = {"slot stage1 4", "slot layer1.0.conv1 4", "slot stage2 8", "slot layer2.0.conv1 8",
                                  "slot stage3 16", "slot layer3.0.conv1 16"};
    static const char *keys[] = {"slot stage1", "slot layer1.0.conv1", "slot stage2", "slot layer2.0.conv1",
                                 "slot stage3", "slot layer3.0.conv1"};
    for (int i = 0; i < 6; i++) {
        meta = edit_meta(meta2, keys[i], slots[i]);
        free(meta2);
        meta2 = meta;
    }
    meta = edit_meta(meta2, "subnet full", "subnet full 4 4 8 8 16 16");
    free(meta2);
    meta2 = edit_meta(meta, "subnet half", "subnet half 2 2 4 4 8 8");
    free(meta);
    write_crafted(fx, meta2);
    free(meta2);
    assert_refused(fx, "tensor 'conv1.weight' is [8x1x3x3] in the file", "needs [4x1x3x3]");
    /* a missing tensor: the file's count no longer matches */
    Err err;
    assert_int_equal(ckpt_write(fx->path, fx->f.meta, fx->f.tensors, fx->f.n_tensors - 1, &err), 0);
    assert_refused(fx, "tensors in the file but the described model has", NULL);
}

/* A model too large for memory: an error naming the model and the bytes it needed (the old
 * code formatted it from the freed description). */
static void test_model_too_large_says_bytes(void **state) {
    (void)state;
    if (!ASAN_CAN_CAP) skip(); /* without the cap the 8 GiB would be allocated for real */
    struct rlimit saved;
    limit_memory(&saved);
    /* resnet20 on 28x28 at batch 4096: about 8 GiB of activations */
    ModelDesc *d = calloc(1, sizeof *d);
    Err err = {{0}};
    assert_int_equal(model_desc_build(d, "resnet20", 1, 28, 28, 10, 1.0f, &err), 0);
    Model m;
    int rc = model_create(&m, d, 4096, 1, &err); /* takes d, frees it on failure */
    unlimit(&saved);
    assert_int_equal(rc, -1);
    print_message("%s\n", err.msg);
    assert_contains(err.msg, "model resnet20, batch 4096: needs ");
    assert_contains(err.msg, " bytes (");
    assert_contains(err.msg, "smaller batch");
}

/* The writer refuses what the strict reader would: a file is never written that cannot be read. */
static void test_save_refuses_undescribable(void **state) {
    Fixture *fx = *state;
    ModelDesc *d = calloc(1, sizeof *d);
    Err err;
    assert_int_equal(model_desc_build(d, "resnet8", 1, 12, 12, 5, 0.5f, &err), 0);
    model_desc_set_meta(d, "train.data", "mnist:/a\nb");
    Model m;
    assert_int_equal(model_create(&m, d, 1, 1, &err), 0);
    assert_int_equal(checkpoint_save(&m, fx->path, &err), -1);
    assert_contains(err.msg, "metadata 'train.data' cannot be stored");
    assert_false(tu_file_exists(fx->path));
    model_desc_set_meta(m.d, "train.data", "mnist:/a b");
    snprintf(m.d->subnets[0].name, sizeof m.d->subnets[0].name, "two words");
    assert_int_equal(checkpoint_save(&m, fx->path, &err), -1);
    assert_contains(err.msg, "subnet name 'two words' cannot be stored");
    snprintf(m.d->subnets[0].name, sizeof m.d->subnets[0].name, "full");
    assert_int_equal(checkpoint_save(&m, fx->path, &err), 0);
    model_free(&m);
    d = calloc(1, sizeof *d);
    assert_int_equal(checkpoint_read_desc(fx->path, d, NULL, &err), 0);
    assert_string_equal(model_desc_get_meta(d, "train.data"), "mnist:/a b");
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_base_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lenient_descriptions_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_sizes_refused_before_allocating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_desc_checks_tensor_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_refuses_undescribable, setup, teardown),
        cmocka_unit_test(test_model_too_large_says_bytes),
        cmocka_unit_test(test_deep_resnet_refused_by_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
