/* tests/unit/testutil.h — small helpers shared by the cmocka unit tests (header-only, every
 * function static inline so that a test which does not use one does not warn).
 *
 *   tu_tmpdir()            a fresh directory under $TMPDIR (or /tmp); tu_rmtree() removes it
 *   tu_setup_tmpdir()      cmocka setup: *state = a fresh temp dir; tu_teardown_tmpdir() removes it
 *   tu_path(buf, dir, n)   "dir/n" into buf (asserts it fits)
 *   tu_write_file()        writes bytes to a file (asserts on failure)
 *   tu_read_file()         reads a whole file into a malloc'd buffer (NULL if it cannot)
 *   tu_put_rel()           writes ROOT/REL, creating its directories (fake sysfs trees)
 *   tu_get_rel()           the first line of ROOT/REL into a buffer (asserts it can be read)
 *   tu_file_exists()       whether a path exists
 *   tu_count_entries()     how many entries a directory holds (excluding . and ..)
 *
 * Include after <cmocka.h> (which needs <stdarg.h>, <stddef.h>, <stdint.h>, <setjmp.h> first). */
#ifndef DYNN_TESTS_UNIT_TESTUTIL_H
#define DYNN_TESTS_UNIT_TESTUTIL_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates a new empty directory; the caller frees the returned path after tu_rmtree(). */
static inline char *tu_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t len = strlen(base) + 32;
    char *path = malloc(len);
    assert_non_null(path);
    snprintf(path, len, "%s/dynn-test.XXXXXX", base);
    assert_non_null(mkdtemp(path));
    return path;
}

static inline int tu_rmtree_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes a directory tree (files first); a missing path is not an error. */
static inline void tu_rmtree(const char *path) {
    if (path) nftw(path, tu_rmtree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* cmocka setup/teardown pair: *state is a fresh temp dir (char *) during the test, removed after.
 * Use as cmocka_unit_test_setup_teardown(test_x, tu_setup_tmpdir, tu_teardown_tmpdir). */
static inline int tu_setup_tmpdir(void **state) {
    *state = tu_tmpdir();
    return 0;
}

static inline int tu_teardown_tmpdir(void **state) {
    tu_rmtree(*state);
    free(*state);
    return 0;
}

/* Writes "dir/name" into buf[size] and returns buf. */
static inline char *tu_path(char *buf, size_t size, const char *dir, const char *name) {
    int n = snprintf(buf, size, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < size);
    return buf;
}

static inline void tu_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Reads a whole file; *len gets its size. Returns NULL if it cannot be read. */
static inline unsigned char *tu_read_file(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return NULL;
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    size_t got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        return NULL;
    }
    *len = got;
    return buf;
}

static inline void tu_put_rel(const char *root, const char *rel, const char *text) {
    char path[1024], cmd[1100];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    tu_write_file(path, text, strlen(text));
}

static inline char *tu_get_rel(const char *root, const char *rel, char *buf, size_t size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    size_t len;
    unsigned char *data = tu_read_file(path, &len);
    assert_non_null(data);
    snprintf(buf, size, "%.*s", (int)len, (char *)data);
    buf[strcspn(buf, "\n")] = '\0';
    free(data);
    return buf;
}

static inline int tu_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static inline int tu_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

#endif
