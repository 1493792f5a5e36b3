/* stages/exec.c — the `exec` stage type: validate params, run the command in its private directory
 * (stages/exec_dir.c) with its output in the stage log and an optional time limit
 * (stages/exec_proc.c), extract metrics, declare outputs (see exec.h). */
#include "stages/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/store.h"
#include "stages/exec_dir.h"
#include "stages/exec_proc.h"
#include "util/duration.h"
#include "stages/stage_types.h"
#include "util/fs.h"
#include "util/regex.h"
#include "util/strbuf.h"
#include "util/strmap.h"

extern char **environ;

static const char *const exec_keys[] = {"cmd", "shell", "metrics", "outs", "env", "cwd", "timeout"};
#define COUNT(a) (sizeof(a) / sizeof *(a))
#define MAX_ENV 10000 /* entries of `env`: far beyond any real use, far below a slow exec */
#define MAX_TIMEOUT_S (365.0 * 86400)

int stage_check_relative_path(const StageCheck *c, const YNode *n, const char *what, Err *err) {
    if (n->kind != YNODE_SCALAR || !n->str[0])
        return ynode_err(err, c->file, n, "stage '%s': %s must be a non-empty path", c->stage, what);
    const char *p = n->str;
    if (p[0] == '/') return ynode_err(err, c->file, n, "stage '%s': %s '%s' must be relative to the working directory", c->stage, what, p);
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
            return ynode_err(err, c->file, n, "stage '%s': %s '%s' may not leave the working directory", c->stage, what, p);
    return 0;
}

static int validate_cmd(const StageCheck *c, int shell, Err *err) {
    const YNode *cmd = ynode_get(c->params, "cmd");
    if (!cmd) return ynode_err(err, c->file, c->at, "stage '%s' (exec) is missing param 'cmd'", c->stage);
    if (cmd->kind == YNODE_SCALAR) {
        if (!shell)
            return ynode_err(err, c->file, cmd, "stage '%s': 'cmd' is a string; give a list (argv) or set 'shell: true'", c->stage);
        if (!cmd->str[0]) return ynode_err(err, c->file, cmd, "stage '%s': 'cmd' is empty", c->stage);
        return 0;
    }
    if (cmd->kind != YNODE_SEQ || !cmd->len)
        return ynode_err(err, c->file, cmd, "stage '%s': 'cmd' must be a non-empty list of strings", c->stage);
    for (size_t i = 0; i < cmd->len; i++)
        if (cmd->items[i]->kind != YNODE_SCALAR)
            return ynode_err(err, c->file, cmd->items[i], "stage '%s': 'cmd' items must be strings, not %s", c->stage,
                             ynode_kind_name(cmd->items[i]->kind));
    return 0;
}

static int validate_metrics(const StageCheck *c, const YNode *metrics, Err *err) {
    if (ynode_expect(metrics, YNODE_MAP, c->file, "'metrics'", err)) return -1;
    for (size_t i = 0; i < metrics->len; i++) {
        const YNode *name = metrics->pairs[i].key, *pattern = metrics->pairs[i].value;
        if (!name->str[0]) return ynode_err(err, c->file, name, "stage '%s': empty metric name", c->stage);
        if (pattern->kind != YNODE_SCALAR)
            return ynode_err(err, c->file, pattern, "stage '%s': metric '%s' must be a pattern (string), not %s", c->stage,
                             name->str, ynode_kind_name(pattern->kind));
        Err why;
        char what[300];
        snprintf(what, sizeof what, "metric '%s'", name->str);
        Regex *re = regex_compile(pattern->str, what, &why);
        if (!re) return ynode_err(err, c->file, pattern, "stage '%s': %s", c->stage, why.msg);
        int groups = regex_groups(re);
        regex_free(re);
        if (groups < 1)
            return ynode_err(err, c->file, pattern, "stage '%s': metric '%s' pattern needs a group '(...)' around the number",
                             c->stage, name->str);
    }
    return 0;
}

static int exec_validate(const StageCheck *c, Err *err) {
    char context[300];
    snprintf(context, sizeof context, "params of stage '%s' (exec)", c->stage);
    if (ynode_check_keys(c->params, exec_keys, COUNT(exec_keys), c->file, context, err)) return -1;
    int shell = 0;
    char what[300];
    snprintf(what, sizeof what, "stage '%s': 'shell'", c->stage);
    const YNode *n = ynode_get(c->params, "shell");
    if (n && ynode_bool(n, c->file, what, &shell, err)) return -1;
    if (validate_cmd(c, shell, err)) return -1;
    if ((n = ynode_get(c->params, "metrics")) && validate_metrics(c, n, err)) return -1;
    if ((n = ynode_get(c->params, "outs"))) {
        if (ynode_expect(n, YNODE_SEQ, c->file, "'outs'", err)) return -1;
        for (size_t i = 0; i < n->len; i++) {
            if (stage_check_relative_path(c, n->items[i], "output", err)) return -1;
            for (size_t j = 0; j < i; j++)
                if (!strcmp(n->items[j]->str, n->items[i]->str))
                    return ynode_err(err, c->file, n->items[i], "stage '%s': output '%s' listed twice", c->stage, n->items[i]->str);
        }
    }
    if ((n = ynode_get(c->params, "env"))) {
        if (ynode_expect(n, YNODE_MAP, c->file, "'env'", err)) return -1;
        if (n->len > MAX_ENV)
            return ynode_err(err, c->file, n, "stage '%s': 'env' has %zu entries, more than the limit of %d", c->stage, n->len,
                             MAX_ENV);
        for (size_t i = 0; i < n->len; i++) {
            const YNode *k = n->pairs[i].key, *v = n->pairs[i].value;
            if (!k->str[0] || strchr(k->str, '='))
                return ynode_err(err, c->file, k, "stage '%s': bad environment variable name '%s'", c->stage, k->str);
            if (v->kind != YNODE_SCALAR)
                return ynode_err(err, c->file, v, "stage '%s': env '%s' must be a string, not %s", c->stage, k->str,
                                 ynode_kind_name(v->kind));
        }
    }
    if ((n = ynode_get(c->params, "cwd")) && stage_check_relative_path(c, n, "'cwd'", err)) return -1;
    double seconds;
    if ((n = ynode_get(c->params, "timeout"))) {
        if (n->kind != YNODE_SCALAR || duration_parse(n->str, &seconds))
            return ynode_err(err, c->file, n, "stage '%s': 'timeout' must be a duration like 30s, 5m, 1h30m or 1.5h "
                                              "(units ms, s, m, h, d), not %s%s%s", c->stage,
                             n->kind == YNODE_SCALAR ? "'" : "", n->kind == YNODE_SCALAR ? n->str : ynode_kind_name(n->kind),
                             n->kind == YNODE_SCALAR ? "'" : "");
        if (seconds < 1e-3 || seconds > MAX_TIMEOUT_S)
            return ynode_err(err, c->file, n, "stage '%s': 'timeout' must be between 1ms and 365d, not '%s'", c->stage, n->str);
    }
    return 0;
}

/* ---- run ---- */

#include "pipeline/store.h"
typedef struct Command {
    char **argv;
    char **envp;
    size_t n_env;
    StrMap env_index;    /* variable name (the text before '=' in a copy) → position in envp */
    char **env_names;    /* those names, owned */
    char cwd[PATH_MAX];  /* where the command runs: the stage's directory, or `cwd` inside it */
} Command;

static void command_free(Command *c) {
    free(c->argv);
    for (size_t i = 0; c->envp && i < c->n_env; i++) {
        free(c->envp[i]);
        free(c->env_names[i]);
    }
    free(c->envp);
    free(c->env_names);
    strmap_free(&c->env_index);
}

/* Joins a list with spaces (for `shell: true` given a list). */
static char *join_words(const YNode *cmd) {
    StrBuf sb = {0};
    for (size_t i = 0; i < cmd->len; i++) {
        if (i) sb_append_char(&sb, ' ');
        sb_append(&sb, cmd->items[i]->str);
    }
    return sb_take(&sb);
}

/* Sets NAME=value (entry = "NAME=value", owned after the call): replaces an earlier value of the
 * same name, in constant time (a hash map from names to positions). */
static int put_env(Command *c, char *entry) {
    if (!entry) return -1;
    size_t nlen = strcspn(entry, "="), at;
    char *name = strndup(entry, nlen);
    if (!name) {
        free(entry);
        return -1;
    }
    if (strmap_get(&c->env_index, name, &at)) {
        free(name);
        free(c->envp[at]);
        c->envp[at] = entry;
        return 0;
    }
    c->envp[c->n_env] = entry;
    c->env_names[c->n_env] = name;
    if (strmap_put(&c->env_index, name, c->n_env)) {
        c->envp[c->n_env] = NULL;
        free(entry);
        free(name);
        return -1;
    }
    c->n_env++;
    return 0;
}

static int set_env(Command *c, const char *name, const char *value) {
    char *entry;
    if (asprintf(&entry, "%s=%s", name, value) < 0) return -1;
    return put_env(c, entry);
}

/* argv, the environment and the directory of the command; `dir` is the stage's directory. */
static int build_command(const StageRun *run, const char *dir, Command *c, char **shell_script, Err *err) {
    memset(c, 0, sizeof *c);
    *shell_script = NULL;
    const YNode *cmd = ynode_get(run->params, "cmd"), *n;
    int shell = 0;
    if ((n = ynode_get(run->params, "shell"))) shell = !strcmp(n->str, "true") || !strcmp(n->str, "yes");
    size_t argc = shell ? 3 : cmd->len;
    c->argv = calloc(argc + 1, sizeof *c->argv);
    if (!c->argv) return err_set(err, "out of memory");
    if (shell) {
        *shell_script = cmd->kind == YNODE_SCALAR ? strdup(cmd->str) : join_words(cmd);
        if (!*shell_script) return err_set(err, "out of memory");
        c->argv[0] = "/bin/sh", c->argv[1] = "-c", c->argv[2] = *shell_script;
    } else {
        for (size_t i = 0; i < cmd->len; i++) c->argv[i] = cmd->items[i]->str;
    }
    const YNode *cwd = ynode_get(run->params, "cwd");
    if (cwd ? fs_join(c->cwd, sizeof c->cwd, dir, cwd->str) : snprintf(c->cwd, sizeof c->cwd, "%s", dir) >= (int)sizeof c->cwd)
        return err_set(err, "working directory path too long");
    size_t n_environ = 0;
    while (environ[n_environ]) n_environ++;
    const YNode *env = ynode_get(run->params, "env");
    size_t cap = n_environ + (env ? env->len : 0) + 8;
    c->envp = calloc(cap, sizeof *c->envp);
    c->env_names = calloc(cap, sizeof *c->env_names);
    if (!c->envp || !c->env_names) return err_set(err, "out of memory");
    int bad = 0;
    for (size_t i = 0; i < n_environ && !bad; i++) bad = put_env(c, strdup(environ[i]));
    char threads[32], seed[32];
    snprintf(threads, sizeof threads, "%d", run->threads);
    snprintf(seed, sizeof seed, "%lld", run->seed);
    bad |= set_env(c, "DYNN_STAGE", run->name) | set_env(c, "DYNN_THREADS", threads) | set_env(c, "DYNN_SEED", seed) |
           set_env(c, "OMP_NUM_THREADS", threads) | set_env(c, "DYNN_WORKDIR", run->workdir) | set_env(c, "PWD", c->cwd);
    for (size_t i = 0; env && i < env->len && !bad; i++) bad = set_env(c, env->pairs[i].key->str, env->pairs[i].value->str);
    if (bad) return err_set(err, "out of memory");
    return 0;
}

/* Runs the command (stdin from /dev/null, stdout/stderr inherited: the log) within the stage's
 * time limit (timeout_s <= 0: none; `timeout` is its text for messages). */
static int run_command(const StageRun *run, Command *c, double timeout_s, const char *timeout, Err *err) {
    ExecProc p;
    if (exec_proc_start(c->argv, c->envp, c->cwd, &p, err)) return -1;
    int status, killed;
    int rc = exec_proc_wait(&p, timeout_s, &status, &killed, err);
    if (rc < 0) return err_prefix(err, "'%s'", c->argv[0]);
    run->sink->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (rc == 1)
        return err_set(err, "'%s' timed out after %s: its processes got SIGTERM%s", c->argv[0], timeout,
                       killed ? ", then SIGKILL" : "");
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) == 127) /* posix_spawnp reports exec failure this way */
            return err_set(err, "'%s' exited with status 127 (command not found?)", c->argv[0]);
        if (WEXITSTATUS(status)) return err_set(err, "'%s' exited with status %d", c->argv[0], WEXITSTATUS(status));
        return 0;
    }
    return err_set(err, "'%s' was killed by signal %d (%s)", c->argv[0], WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* Parses a matched number ("0.93", " 1e-3 "); the whole text must be a number. */
static int parse_number(const char *s, size_t len, double *out) {
    char buf[128];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || errno == ERANGE) return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r') end++;
    if (*end) return -1;
    *out = v;
    return 0;
}

static int extract(const YNode *metrics, const char *text, size_t len, RecordSink *sink, Err *err) {
    for (size_t i = 0; metrics && i < metrics->len; i++) {
        const char *name = metrics->pairs[i].key->str, *pattern = metrics->pairs[i].value->str;
        char what[300];
        snprintf(what, sizeof what, "metric '%s'", name);
        Regex *re = regex_compile(pattern, what, err);
        if (!re) return -1;
        size_t pos = 0, end, g;
        long g_len;
        long long step = 0;
        int rc = 0, found;
        while (pos <= len && (found = regex_search(re, text, len, pos, &end, &g, &g_len, err)) == 1) {
            double v;
            if (g_len < 0) {
                rc = err_set(err, "metric '%s': group 1 of '%s' did not take part in the match", name, pattern);
                break;
            }
            if (parse_number(text + g, (size_t)g_len, &v)) {
                rc = err_set(err, "metric '%s': pattern '%s' matched '%.*s', which is not a number", name, pattern,
                             (int)(g_len > 60 ? 60 : g_len), text + g);
                break;
            }
            if ((rc = sink->metric(sink, name, v, NULL, step++, err))) break;
            pos = end > pos ? end : pos + 1; /* an empty match must not loop, */
            while (pos < len && ((unsigned char)text[pos] & 0xC0) == 0x80) pos++; /* nor resume inside a character */
        }
        regex_free(re);
        if (rc || found < 0) return -1;
        if (!step) return err_set(err, "metric '%s': pattern '%s' matched nothing in the command's output", name, pattern);
    }
    return 0;
}

int exec_extract_metrics(const YNode *metrics, const char *text, size_t len, RecordSink *sink, Err *err) {
    if (regex_utf8_valid(text, len)) return extract(metrics, text, len, sink, err);
    char *copy = malloc(len + 1); /* invalid UTF-8 bytes read as '?' */
    if (!copy) return err_set(err, "out of memory copying %zu bytes of output", len);
    memcpy(copy, text, len);
    copy[len] = '\0';
    regex_utf8_sanitize(copy, len);
    int rc = extract(metrics, copy, len, sink, err);
    free(copy);
    return rc;
}

/* The command's output: what was appended to the log after `offset`. */
static int read_output(const StageRun *run, off_t offset, char **text, size_t *len, Err *err) {
    struct stat st;
    if (fstat(run->log_fd, &st) != 0) return err_set(err, "%s: %s", run->log_path, strerror(errno));
    size_t n = st.st_size > offset ? (size_t)(st.st_size - offset) : 0;
    *len = 0;
    *text = malloc(n + 1);
    if (!*text) return err_set(err, "out of memory reading %zu bytes of output", n);
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(run->log_fd, *text + got, n - got, offset + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    (*text)[got] = '\0';
    *len = got;
    return 0;
}

/* Name of output i: its path relative to the working directory (below `cwd`). */
static void output_name(const StageRun *run, size_t i, char *out, size_t size) {
    const YNode *outs = ynode_get(run->params, "outs"), *cwd = ynode_get(run->params, "cwd");
    if (cwd) snprintf(out, size, "%s/%s", cwd->str, outs->items[i]->str);
    else snprintf(out, size, "%s", outs->items[i]->str);
}

static int declare_outputs(const StageRun *run, const Command *c, Err *err) {
    const YNode *outs = ynode_get(run->params, "outs");
    for (size_t i = 0; outs && i < outs->len; i++) {
        const char *out = outs->items[i]->str;
        char path[PATH_MAX], name[PATH_MAX];
        struct stat st;
        if (fs_join(path, sizeof path, c->cwd, out)) return err_set(err, "%s: path too long", out);
        if (stat(path, &st) != 0) return err_set(err, "declared output '%s' was not written", out);
        if (!S_ISREG(st.st_mode)) return err_set(err, "declared output '%s' is not a regular file", out);
        output_name(run, i, name, sizeof name);
        if (run->sink->artifact(run->sink, name, path, "file", err)) return -1;
    }
    return 0;
}

/* The stage's private directory `root` (see exec_dir.h): its outs and its upstream files are its
 * own, its `cwd` a real directory; the upstream files are copied in from the store, only with the
 * bytes the object's name promises (pipeline/store.h). */
static int make_directory(const StageRun *run, const char *root, ExecDir **dir, Err *err) {
    const YNode *outs = ynode_get(run->params, "outs"), *cwd = ynode_get(run->params, "cwd");
    size_t n_outs = outs ? outs->len : 0, n = 0;
    char **files = calloc(n_outs + run->n_inputs + 1, sizeof *files);
    if (!files) return err_set(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n_outs && !rc; i++) {
        char name[PATH_MAX];
        output_name(run, i, name, sizeof name);
        if (!(files[n++] = strdup(name))) rc = err_set(err, "out of memory");
    }
    int cwd_found = 0;
    size_t cwd_len = cwd ? strlen(cwd->str) : 0;
    for (size_t i = 0; i < run->n_inputs && !rc; i++) {
        const StageInput *in = &run->inputs[i];
        if (strcmp(in->kind, "file")) continue;
        if (!(files[n++] = strdup(in->name))) rc = err_set(err, "out of memory");
        if (cwd && !strncmp(in->name, cwd->str, cwd_len) && in->name[cwd_len] == '/') cwd_found = 1;
    }
    if (!rc && cwd && !cwd_found) {
        char path[PATH_MAX];
        struct stat st;
        if (fs_join(path, sizeof path, run->workdir, cwd->str)) rc = err_set(err, "%s: path too long", cwd->str);
        else if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = err_set(err, "'cwd' '%s' is not a directory of the working directory %s", cwd->str, run->workdir);
    }
    const char *dirs[1] = {cwd ? cwd->str : NULL};
    if (!rc) rc = exec_dir_create(run->workdir, root, dirs, cwd ? 1 : 0, (const char *const *)files, n, dir, err);
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
    for (size_t i = 0; i < run->n_inputs && !rc; i++) {
        const StageInput *in = &run->inputs[i];
        char target[PATH_MAX];
        if (strcmp(in->kind, "file")) continue;
        if (fs_join(target, sizeof target, root, in->name)) rc = err_set(err, "%s: path too long", in->name);
        else if (store_restore_path(in->path, target, err))
            rc = err_prefix(err, "putting input '%s' of '%s' in place", in->name, in->stage);
    }
    return rc;
}

/* "$ cmd args" in the log; *offset = where the command's output starts. */
static int log_command(const StageRun *run, const Command *c, off_t *offset, Err *err) {
    StrBuf line = {0};
    sb_append(&line, "$");
    for (size_t i = 0; c->argv[i]; i++)
        sb_printf(&line, strpbrk(c->argv[i], " \t\n'\"$;&|<>*?") || !c->argv[i][0] ? " '%s'" : " %s", c->argv[i]);
    sb_printf(&line, "\n");
    int rc = write(run->log_fd, sb_str(&line), line.len) < 0 ? err_set(err, "%s: %s", run->log_path, strerror(errno)) : 0;
    sb_free(&line);
    *offset = lseek(run->log_fd, 0, SEEK_END);
    return rc;
}

static int exec_run(const StageRun *run, Err *err) {
    const char *root = run->slot_dir && run->slot_dir[0] ? run->slot_dir : run->scratch; /* its private directory */
    ExecDir *dir = NULL;
    Command c = {0};
    char *script = NULL;
    off_t offset = 0;
    double timeout_s = 0;
    const YNode *timeout = ynode_get(run->params, "timeout");
    if (timeout && duration_parse(timeout->str, &timeout_s)) return err_set(err, "bad 'timeout' '%s'", timeout->str);
    int rc = make_directory(run, root, &dir, err);
    if (!rc) rc = build_command(run, root, &c, &script, err);
    if (!rc) rc = log_command(run, &c, &offset, err);
    if (!rc) rc = run_command(run, &c, timeout_s, timeout ? timeout->str : "", err);
    const YNode *metrics = ynode_get(run->params, "metrics");
    if (!rc && metrics && metrics->len) {
        char *text = NULL;
        size_t len = 0;
        rc = read_output(run, offset, &text, &len, err);
        if (!rc) rc = exec_extract_metrics(metrics, text, len, run->sink, err);
        free(text);
    }
    if (!rc) rc = declare_outputs(run, &c, err);
    if (dir) { /* what the command made goes to the working directory, also when it failed */
        Err why;
        if (exec_dir_publish(dir, rc ? &why : err)) rc = -1;
    }
    exec_dir_remove(dir);
    command_free(&c);
    free(script);
    return rc;
}

const StageType stage_type_exec = {
    .name = "exec",
    .summary = "run a command; metrics from its output by PCRE2 patterns; declared outputs become artifacts",
    .validate = exec_validate,
    .run = exec_run,
};
