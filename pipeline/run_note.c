/* pipeline/run_note.c — the runner's note: heartbeat and last words of a run (see run_note.h). */
#include "pipeline/run_note.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/provenance.h"

#define NOTE_MAGIC "dynn-run-note 1\n"

/* The note's bytes: the magic line, the end lines when status is given, spaces, a newline. */
static void format_note(char *buf, const char *status, double ended_at, const char *error) {
    int n = snprintf(buf, RUN_NOTE_SIZE, NOTE_MAGIC);
    if (status) {
        char line[RUN_NOTE_SIZE / 2];
        snprintf(line, sizeof line, "%s", error ? error : "");
        for (char *p = line; *p; p++)
            if ((unsigned char)*p < 0x20) *p = ' '; /* one line */
        n += snprintf(buf + n, (size_t)(RUN_NOTE_SIZE - n), "status %s\nended %.6f\nerror %s\nend\n", status, ended_at, line);
    }
    memset(buf + n, ' ', (size_t)(RUN_NOTE_SIZE - n));
    buf[RUN_NOTE_SIZE - 1] = '\n';
}

static int write_at_start(int fd, const char *buf, size_t len) {
    for (size_t done = 0; done < len;) {
        ssize_t w = pwrite(fd, buf + done, len - done, (off_t)done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        done += (size_t)w;
    }
    return 0;
}

int run_note_create(RunNote *note, const char *work_dir, Err *err) {
    note->fd = -1;
    note->beat = provenance_now();
    int len = snprintf(note->path, sizeof note->path, "%s/" RUN_NOTE_NAME, work_dir);
    if (len < 0 || (size_t)len >= sizeof note->path) return err_set(err, "%s: path too long", work_dir);
    int fd = open(note->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return err_set(err, "%s: cannot create the runner's note: %s", note->path, strerror(errno));
    char buf[RUN_NOTE_SIZE];
    format_note(buf, NULL, 0, NULL);
    if (write_at_start(fd, buf, sizeof buf)) {
        int saved = errno;
        close(fd);
        unlink(note->path);
        return err_set(err, "%s: cannot write the runner's note: %s", note->path, strerror(saved));
    }
    note->fd = fd;
    return 0;
}

void run_note_beat(RunNote *note, double now) {
    if (note->fd < 0 || now - note->beat < RUN_NOTE_BEAT_S) return;
    note->beat = now;
    futimens(note->fd, NULL); /* only the inode changes: works on a full disk too */
}

int run_note_write_end(RunNote *note, const char *status, double ended_at, const char *error, Err *err) {
    if (note->fd < 0) return err_set(err, "no runner's note");
    char buf[RUN_NOTE_SIZE];
    format_note(buf, status, ended_at, error);
    if (write_at_start(note->fd, buf, sizeof buf) || fdatasync(note->fd))
        return err_set(err, "%s: cannot write the runner's note: %s", note->path, strerror(errno));
    return 0;
}

void run_note_close(RunNote *note) {
    if (note->fd >= 0) close(note->fd);
    note->fd = -1;
}

/* The value after "key " on a line of text (up to the newline), or NULL. */
static const char *line_value(const char *text, const char *key, char *out, size_t size) {
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, klen) || p[klen] != ' ') continue;
        const char *v = p + klen + 1, *e = strchr(v, '\n');
        size_t n = e ? (size_t)(e - v) : strlen(v);
        snprintf(out, size, "%.*s", (int)n, v);
        return out;
    }
    return NULL;
}

void run_note_read(const char *state_dir, const char *uuid, DbRunEnd *end) {
    for (const char *p = uuid; *p; p++)
        if (!isxdigit((unsigned char)*p) && *p != '-') return; /* not a run uuid: no path from it */
    char path[4096];
    snprintf(path, sizeof path, "%s/work/%s/" RUN_NOTE_NAME, state_dir, uuid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    char text[RUN_NOTE_SIZE + 1];
    ssize_t got = fstat(fd, &st) == 0 ? read(fd, text, RUN_NOTE_SIZE) : -1;
    close(fd);
    if (got < 0) return;
    end->last_alive = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
    text[got] = '\0';
    char status[16], ended[64], error[sizeof end->error], last[8];
    if (strncmp(text, NOTE_MAGIC, strlen(NOTE_MAGIC)) || !line_value(text, "status", status, sizeof status) ||
        !line_value(text, "ended", ended, sizeof ended) || !line_value(text, "error", error, sizeof error))
        return;
    /* complete only with its end line right after the error line */
    const char *e = strstr(text, "\nerror ");
    e = e ? strchr(e + 1, '\n') : NULL;
    if (!e || sscanf(e + 1, "%7s", last) != 1 || strcmp(last, "end") || (strcmp(status, "FAILED") && strcmp(status, "KILLED")))
        return;
    char *stop;
    double t = strtod(ended, &stop);
    if (*stop || !isfinite(t)) return;
    if (t > end->last_alive) end->last_alive = t;
    snprintf(end->status, sizeof end->status, "%s", status);
    snprintf(end->error, sizeof end->error, "%s", error);
}

static void note_of(const char *uuid, DbRunEnd *end, void *ctx) { run_note_read(ctx, uuid, end); }

int run_note_reap(Db *db, const char *state_dir, int *reaped, Err *err) {
    return db_reap_dead_runs_ex(db, provenance_run_alive, note_of, (void *)state_dir, reaped, err);
}
