/* pipeline/store.c — the content-addressed artifact store (see store.h). */
#include "pipeline/store.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fs.h"

int store_abs(const char *state_dir, const char *rel, char *out, size_t size) { return fs_join(out, size, state_dir, rel); }

static void rel_of(const char *hash, char rel[STORE_REL_MAX]) { snprintf(rel, STORE_REL_MAX, "store/%.2s/%s", hash, hash + 2); }

int store_put(const char *state_dir, const char *src, char hash[SHA256_HEX_LEN + 1], char rel[STORE_REL_MAX],
              uint64_t *size, Err *err) {
    if (fs_sha256_file(src, hash, size, err)) return -1;
    rel_of(hash, rel);
    char path[PATH_MAX], dir[PATH_MAX];
    if (store_abs(state_dir, rel, path, sizeof path)) return err_set(err, "%s: store path too long", state_dir);
    if (store_has(state_dir, rel, *size)) return 0;
    fs_dirname(path, dir, sizeof dir);
    if (fs_mkdir_p(dir, err)) return -1;
    char copied[SHA256_HEX_LEN + 1];
    uint64_t copied_size;
    if (fs_copy_file(src, path, 1, 0444, copied, &copied_size, err)) return -1;
    if (strcmp(copied, hash) || copied_size != *size) {
        remove(path);
        return err_set(err, "%s: the file changed while it was being stored", src);
    }
    return 0;
}

int store_has(const char *state_dir, const char *rel, uint64_t size) {
    char path[PATH_MAX];
    struct stat st;
    if (store_abs(state_dir, rel, path, sizeof path)) return 0;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

int store_restore(const char *state_dir, const char *rel, const char *dest, Err *err) {
    char path[PATH_MAX], dir[PATH_MAX];
    if (store_abs(state_dir, rel, path, sizeof path)) return err_set(err, "%s: store path too long", state_dir);
    fs_dirname(dest, dir, sizeof dir);
    if (fs_mkdir_p(dir, err)) return -1;
    return fs_copy_file(path, dest, 0, 0644, NULL, NULL, err);
}
