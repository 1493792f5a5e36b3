/* pipeline/stage_exec.c — one stage instance in its own process (see stage_exec.h). */
#include "pipeline/stage_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/records.h"
#include "pipeline/stage_desc.h"
#include "stages/stage.h"
#include "util/fs.h"

static void pass_on_and_die(int sig) {
    signal(sig, SIG_DFL);
    kill(0, sig); /* the whole process group: this process and the commands it started */
    raise(sig);
}

void stage_exec_guard(pid_t parent) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pass_on_and_die;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (parent > 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) raise(SIGTERM); /* it died before prctl took effect */
    }
}

static int run_stage(const StageDesc *d, RecordWriter *w, Err *err) {
    for (size_t i = 0; i < d->n_plugins; i++)
        if (stage_plugin_load(d->plugins[i], err)) return -1;
    const StageType *type = stage_type_find(d->type);
    if (!type) return err_set(err, "unknown stage type '%s'", d->type);
    int log_fd = open(d->log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (log_fd < 0) return err_set(err, "%s: cannot open the log: %s", d->log, strerror(errno));
    StageRun run = {
        .name = d->name,
        .type = d->type,
        .params = d->params,
        .inputs = d->inputs,
        .n_inputs = d->n_inputs,
        .workdir = d->workdir,
        .scratch = d->scratch,
        .slot_dir = d->slot_dir,
        .log_path = d->log,
        .log_fd = log_fd,
        .threads = d->threads,
        .seed = d->seed,
        .sink = &w->sink,
        .db_path = d->db,
        .run_uuid = d->run,
    };
    int rc = type->run(&run, err);
    close(log_fd);
    return rc;
}

int stage_exec_run(const char *desc_path, Err *err) {
    StageDesc d;
    if (stage_desc_read(desc_path, &d, err)) return -1;
    RecordWriter w;
    records_writer_init(&w, d.state_dir);
    Err why = {{0}};
    int ok = run_stage(&d, &w, &why) == 0;
    fflush(stdout);
    if (!ok) fprintf(stderr, "dynn: stage '%s' failed: %s\n", d.name, why.msg);
    int rc = records_writer_finish(&w, d.records, ok, ok ? NULL : why.msg, err) ? -1 : ok ? 0 : 1;
    records_writer_free(&w);
    stage_desc_free(&d);
    return rc;
}

/* ---- fork server ---- */

static int write_all(int fd, const char *s, size_t len) {
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        s += n, len -= (size_t)n;
    }
    return 0;
}

/* The forked child: its own process group, output to the log, then the stage. Never returns. */
static void serve_child(pid_t zygote, const char *desc, const char *log) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    stage_exec_guard(zygote);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
    int null = open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(3);
    close(fd);
    close(null);
    Err err;
    int rc = stage_exec_run(desc, &err);
    if (rc < 0) fprintf(stderr, "dynn stage-exec: %s\n", err.msg);
    fflush(NULL);
    _exit(rc < 0 ? 2 : rc);
}

static int serve_one(pid_t self, char *line) {
    char *desc = strchr(line, '\t'), *log = desc ? strchr(desc + 1, '\t') : NULL;
    if (strncmp(line, "RUN\t", 4) || !desc || !log) return -1;
    *desc++ = '\0';
    *log++ = '\0';
    pid_t pid = fork();
    if (pid < 0) {
        char msg[64];
        int n = snprintf(msg, sizeof msg, "X %d\n", 4 << 8); /* exit status 4: could not fork */
        return write_all(1, msg, (size_t)n);
    }
    if (pid == 0) serve_child(self, desc, log);
    setpgid(pid, pid);
    char msg[64];
    int n = snprintf(msg, sizeof msg, "S %ld\n", (long)pid);
    if (write_all(1, msg, (size_t)n)) return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    n = snprintf(msg, sizeof msg, "X %d\n", status);
    return write_all(1, msg, (size_t)n);
}

int zygote_serve(pid_t parent) {
    if (parent > 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t self = getpid();
    char buf[3 * 4096 + 64];
    size_t len = 0;
    for (;;) {
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = '\0';
            if (serve_one(self, buf)) return 1;
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, buf + used, len - used);
            len -= used;
            continue;
        }
        if (len == sizeof buf) return 1;
        ssize_t n = read(0, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        len += (size_t)n;
    }
}
