/* util/version.c — build provenance (generated build/buildinfo.h) and the build id (see version.h). */
#include "util/version.h"

#include <stdio.h>
#include <string.h>

#include "buildinfo.h"
#include "util/sha256.h"

static const BuildInfo build_info = {
    DYNN_VERSION, DYNN_GIT_COMMIT, DYNN_GIT_DIRTY, DYNN_CC, DYNN_CFLAGS,
};

const BuildInfo *dynn_build_info(void) { return &build_info; }

/* First 16 hex digits of the SHA-256 of this executable: a dirty tree's commit does not say which
 * code was built, the binary does. */
static void executable_digest(char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/self/exe", "rb");
    if (!f) return;
    Sha256 h;
    sha256_init(&h);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&h, buf, n);
    fclose(f);
    uint8_t digest[SHA256_BYTES];
    char hex[SHA256_HEX_LEN + 1];
    sha256_final(&h, digest);
    sha256_hex(digest, hex);
    snprintf(out, size, "%.16s", hex);
}

const char *dynn_build_id(void) {
    static char id[256];
    if (!id[0]) {
        char exe[32] = "";
        if (build_info.git_dirty) executable_digest(exe, sizeof exe);
        snprintf(id, sizeof id, "%s+%s%s%s %s", build_info.version, build_info.git_commit,
                 build_info.git_dirty ? "-dirty." : "", exe, build_info.cflags);
    }
    return id;
}
