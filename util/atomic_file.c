/* util/atomic_file.c — temp-file-then-rename writes (see atomic_file.h). */
#include "util/atomic_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int atomic_open(AtomicFile *af, const char *path, Err *err) {
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path) return err_set(err, "%s: path too long", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp_path, sizeof af->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) return err_set(err, "%s: cannot create: %s", af->tmp_path, strerror(errno));
    return 0;
}

int atomic_commit(AtomicFile *af, Err *err) {
    if (!af->fp) return err_set(err, "%s: not open", af->path);
    int bad = ferror(af->fp) != 0;
    bad |= fflush(af->fp) != 0;
    bad |= fsync(fileno(af->fp)) != 0;
    int saved = errno;
    bad |= fclose(af->fp) != 0;
    af->fp = NULL;
    if (bad) {
        unlink(af->tmp_path);
        return err_set(err, "%s: write failed: %s", af->path, strerror(saved ? saved : errno));
    }
    if (rename(af->tmp_path, af->path) != 0) {
        saved = errno;
        unlink(af->tmp_path);
        return err_set(err, "%s: cannot rename into place: %s", af->path, strerror(saved));
    }
    return 0;
}

void atomic_abort(AtomicFile *af) {
    if (af->fp) fclose(af->fp);
    af->fp = NULL;
    if (af->tmp_path[0]) unlink(af->tmp_path);
}

int atomic_write_file(const char *path, const void *data, size_t len, Err *err) {
    AtomicFile af;
    if (atomic_open(&af, path, err)) return -1;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        atomic_abort(&af);
        return err_set(err, "%s: write failed: %s", path, strerror(errno));
    }
    return atomic_commit(&af, err);
}
