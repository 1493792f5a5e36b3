/* fuzz/fuzz.h — what the libFuzzer targets (fuzz/fuzz_*.c) share: the input as a file.
 *
 * The readers under test take a path, so each input is written to a file first: a memfd (in
 * memory, named /proc/self/fd/N, a regular file for fstat) or, for readers that resolve other
 * paths relative to the file's directory, a file in a private temp directory. Both are created once
 * per process and rewritten for every input. Built only by `make fuzz-build` (clang, libFuzzer,
 * ASan + UBSan; see the Makefile). */
#ifndef DYNN_FUZZ_FUZZ_H
#define DYNN_FUZZ_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Replaces the content of fd with data; aborts (a harness failure, not a finding) when it cannot. */
static inline void fuzz_rewrite(int fd, const uint8_t *data, size_t size) {
    if (ftruncate(fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
}

/* The input as an in-memory file; returns its path (valid until the next call). */
static inline const char *fuzz_memfile(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("dynn-fuzz", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    fuzz_rewrite(fd, data, size);
    return path;
}

static char fuzz_dir[4096], fuzz_dir_input[4200];
static void fuzz_dir_cleanup(void) {
    unlink(fuzz_dir_input);
    rmdir(fuzz_dir);
}

/* The input as the file `input` in a private temp directory (removed at exit); returns its path. */
static inline const char *fuzz_dirfile(const uint8_t *data, size_t size) {
    static int fd = -1;
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/dynn-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir)) abort();
        atexit(fuzz_dir_cleanup);
        snprintf(fuzz_dir_input, sizeof fuzz_dir_input, "%s/input", fuzz_dir);
        fd = open(fuzz_dir_input, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) abort();
    }
    fuzz_rewrite(fd, data, size);
    return fuzz_dir_input;
}

#endif
