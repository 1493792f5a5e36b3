/* stages/exec.c — the `exec` stage type: validate params, restore inputs, run the command with its
 * output in the stage log, extract metrics, declare outputs (see exec.h). */
#include "stages/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline/store.h"
#include "stages/stage_types.h"
#include "util/fs.h"
#include "util/regex.h"
#include "util/strbuf.h"

extern char **environ;

static const char *const exec_keys[] = {"cmd", "shell", "metrics", "outs", "env", "cwd"};
#define COUNT(a) (sizeof(a) / sizeof *(a))

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
    return 0;
}

/* ---- run ---- */

/* Upstream workspace files (kind "file") must be present with the recorded content; a copy comes
 * from the store only with the bytes the object's name promises (pipeline/store.h). */
static int restore_inputs(const StageRun *run, Err *err) {
    for (size_t i = 0; i < run->n_inputs; i++) {
        const StageInput *in = &run->inputs[i];
        if (strcmp(in->kind, "file")) continue;
        char target[PATH_MAX], hex[SHA256_HEX_LEN + 1];
        if (fs_join(target, sizeof target, run->workdir, in->name)) return err_set(err, "%s: path too long", in->name);
        if (fs_exists(target) && !fs_sha256_file(target, hex, NULL, NULL) && !strcmp(hex, in->hash)) continue;
        if (store_restore_path(in->path, target, err))
            return err_prefix(err, "restoring input '%s' of '%s'", in->name, in->stage);
    }
    return 0;
}

typedef struct Command {
    char **argv;
    char **envp;
    size_t n_env;
    char cwd[PATH_MAX];
} Command;

static void command_free(Command *c) {
    free(c->argv);
    for (size_t i = 0; c->envp && c->envp[i]; i++) free(c->envp[i]);
    free(c->envp);
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

static int set_env(Command *c, const char *name, const char *value, int override) {
    size_t nlen = strlen(name);
    for (size_t i = 0; i < c->n_env; i++)
        if (!strncmp(c->envp[i], name, nlen) && c->envp[i][nlen] == '=') {
            if (!override) return 0;
            free(c->envp[i]);
            c->envp[i] = NULL;
            if (asprintf(&c->envp[i], "%s=%s", name, value) < 0) return c->envp[i] = NULL, -1;
            return 0;
        }
    if (asprintf(&c->envp[c->n_env], "%s=%s", name, value) < 0) return c->envp[c->n_env] = NULL, -1;
    c->n_env++;
    return 0;
}

static int build_command(const StageRun *run, Command *c, char **shell_script, Err *err) {
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
    size_t n_environ = 0;
    while (environ[n_environ]) n_environ++;
    const YNode *env = ynode_get(run->params, "env");
    c->envp = calloc(n_environ + (env ? env->len : 0) + 8, sizeof *c->envp);
    if (!c->envp) return err_set(err, "out of memory");
    for (size_t i = 0; i < n_environ; i++) {
        if (!(c->envp[i] = strdup(environ[i]))) return err_set(err, "out of memory");
        c->n_env++;
    }
    char threads[32], seed[32];
    snprintf(threads, sizeof threads, "%d", run->threads);
    snprintf(seed, sizeof seed, "%lld", run->seed);
    int bad = set_env(c, "DYNN_STAGE", run->name, 1) | set_env(c, "DYNN_THREADS", threads, 1) |
              set_env(c, "DYNN_SEED", seed, 1) |
              set_env(c, "OMP_NUM_THREADS", threads, 1);
    for (size_t i = 0; env && i < env->len; i++) bad |= set_env(c, env->pairs[i].key->str, env->pairs[i].value->str, 1);
    if (bad) return err_set(err, "out of memory");
    const YNode *cwd = ynode_get(run->params, "cwd");
    if (fs_join(c->cwd, sizeof c->cwd, run->workdir, cwd ? cwd->str : ".")) return err_set(err, "working directory path too long");
    return 0;
}

/* Runs the command with stdin from /dev/null and stdout/stderr inherited (the log). */
static int run_command(const StageRun *run, Command *c, Err *err) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, c->cwd);
    pid_t pid;
    int rc = posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, c->envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) return err_set(err, "cannot start '%s' in %s: %s", c->argv[0], c->cwd, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return err_set(err, "waiting for '%s': %s", c->argv[0], strerror(errno));
    if (WIFEXITED(status)) {
        run->sink->exit_code = WEXITSTATUS(status);
        if (WEXITSTATUS(status) == 127) /* posix_spawnp reports exec failure this way */
            return err_set(err, "'%s' exited with status 127 (command not found?)", c->argv[0]);
        if (WEXITSTATUS(status)) return err_set(err, "'%s' exited with status %d", c->argv[0], WEXITSTATUS(status));
        return 0;
    }
    run->sink->exit_code = 128 + WTERMSIG(status);
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

int exec_extract_metrics(const YNode *metrics, const char *text, size_t len, RecordSink *sink, Err *err) {
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
            pos = end > pos ? end : pos + 1; /* an empty match must not loop */
        }
        regex_free(re);
        if (rc || found < 0) return -1;
        if (!step) return err_set(err, "metric '%s': pattern '%s' matched nothing in the command's output", name, pattern);
    }
    return 0;
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

static int declare_outputs(const StageRun *run, const Command *c, Err *err) {
    const YNode *outs = ynode_get(run->params, "outs"), *cwd = ynode_get(run->params, "cwd");
    for (size_t i = 0; outs && i < outs->len; i++) {
        const char *out = outs->items[i]->str;
        char path[PATH_MAX], name[PATH_MAX];
        struct stat st;
        if (fs_join(path, sizeof path, c->cwd, out)) return err_set(err, "%s: path too long", out);
        if (stat(path, &st) != 0) return err_set(err, "declared output '%s' was not written", out);
        if (!S_ISREG(st.st_mode)) return err_set(err, "declared output '%s' is not a regular file", out);
        if (cwd) snprintf(name, sizeof name, "%s/%s", cwd->str, out);
        else snprintf(name, sizeof name, "%s", out);
        if (run->sink->artifact(run->sink, name, path, "file", err)) return -1;
    }
    return 0;
}

static int exec_run(const StageRun *run, Err *err) {
    if (restore_inputs(run, err)) return -1;
    Command c;
    char *script;
    int rc = build_command(run, &c, &script, err);
    off_t offset = 0;
    if (!rc) {
        StrBuf line = {0};
        sb_append(&line, "$");
        for (size_t i = 0; c.argv[i]; i++)
            sb_printf(&line, strpbrk(c.argv[i], " \t\n'\"$;&|<>*?") || !c.argv[i][0] ? " '%s'" : " %s", c.argv[i]);
        sb_printf(&line, "\n");
        if (write(run->log_fd, sb_str(&line), line.len) < 0) rc = err_set(err, "%s: %s", run->log_path, strerror(errno));
        sb_free(&line);
        offset = lseek(run->log_fd, 0, SEEK_END);
    }
    if (!rc) rc = run_command(run, &c, err);
    const YNode *metrics = ynode_get(run->params, "metrics");
    if (!rc && metrics && metrics->len) {
        char *text = NULL;
        size_t len = 0;
        rc = read_output(run, offset, &text, &len, err);
        if (!rc) rc = exec_extract_metrics(metrics, text, len, run->sink, err);
        free(text);
    }
    if (!rc) rc = declare_outputs(run, &c, err);
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
