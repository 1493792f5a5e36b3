/* util/version.h — what this binary is: version, git commit (+dirty), compiler and flags.
 * Used for provenance in the results database and in stage cache keys. */
#ifndef DYNN_UTIL_VERSION_H
#define DYNN_UTIL_VERSION_H

typedef struct BuildInfo {
    const char *version;   /* "0.1.0" */
    const char *git_commit; /* short hash or "unknown" */
    int git_dirty;         /* 1 when built from a tree with uncommitted changes */
    const char *compiler;  /* "12.2.0 gcc" */
    const char *cflags;    /* optimization/arch flags */
} BuildInfo;

const BuildInfo *dynn_build_info(void);

/* A stable string identifying this build: "0.1.0+<commit> <cflags>", or for a build from a tree
 * with uncommitted changes "0.1.0+<commit>-dirty.<sha256 of the executable, 16 hex> <cflags>" (so
 * that stage caches do not reuse results of other uncommitted code). */
const char *dynn_build_id(void);

#endif
