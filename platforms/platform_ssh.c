/* platforms/platform_ssh.c — the `ssh` platform type: a board reached with the OpenSSH client.
 *
 * Every remote step is one `ssh` child process spawned from an argv array (BatchMode=yes, so it
 * never prompts; ConnectTimeout; StrictHostKeyChecking and UserKnownHostsFile as described). The
 * remote command is a string the remote shell parses, so every word in it is single-quoted
 * (platforms/shell_quote.c): nothing from a description or a stage param can start a command.
 * Files go over the same channel (`cat > FILE` with the local file on stdin), which needs neither
 * scp's remote path rules nor an SFTP server. A step whose ssh fails to reach the board (exit status
 * 255) is retried `retries` times, waiting backoff_ms, then twice as long, and so on.
 *
 * Layout on the board: `mktemp -d WORKDIR/dynn.XXXXXX` per stage (relative paths are below the remote
 * user's home; `~` is not expanded) holding `dynn`, `model` and `platform.yaml` (the board file,
 * which the profiler there reads with --here); cleanup removes these and the directory, never
 * anything else. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platforms/platform.h"
#include "util/proc.h"
#include "platforms/profile_cmd.h"
#include "platforms/shell_quote.h"

static const char *const ssh_keys[] = {"host", "port", "user", "identity", "workdir", "known_hosts",
                                       "strict_host_key_checking", "connect_timeout", "retries", "backoff_ms"};

typedef struct SshState {
    const PlatformDesc *desc;
    char target[320];
    char *dir; /* the remote directory made by deploy, NULL before */
    int has_platform_file;
} SshState;

/* A host or user name that ssh cannot take for an option and that has no spaces or control bytes. */
static int plain_word(const char *s) {
    if (!s[0] || s[0] == '-') return 0;
    for (; *s; s++)
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s)) return 0;
    return 1;
}

static int ssh_validate(const PlatformDesc *d, Err *err) {
    const YNode *n;
    if (!d->host) return ynode_err(err, d->file, d->node, "platform '%s' (ssh) needs a 'host'", d->name);
    if (!plain_word(d->host))
        return ynode_err(err, d->file, ynode_get(d->node, "host"), "platform '%s': host '%s' must not start with '-' or contain spaces",
                         d->name, d->host);
    if (d->user && !plain_word(d->user))
        return ynode_err(err, d->file, ynode_get(d->node, "user"), "platform '%s': user '%s' must not start with '-' or contain spaces",
                         d->name, d->user);
    const char *s = d->strict_host_key_checking;
    if (strcmp(s, "yes") && strcmp(s, "no") && strcmp(s, "accept-new") && (n = ynode_get(d->node, "strict_host_key_checking")))
        return ynode_err(err, d->file, n, "platform '%s': strict_host_key_checking must be yes, no or accept-new, not '%s'",
                         d->name, s);
    if ((d->identity && strchr(d->identity, '\n')) || (d->known_hosts && strpbrk(d->known_hosts, "\n \"")))
        return ynode_err(err, d->file, d->node, "platform '%s': identity/known_hosts paths must not contain spaces, quotes or newlines",
                         d->name);
    return 0;
}

static void ssh_describe(const PlatformDesc *d, char *out, size_t size) {
    snprintf(out, size, "ssh %s%s%s:%d%s%s%s", d->user ? d->user : "", d->user ? "@" : "", d->host, d->port,
             d->arch ? " (" : "", d->arch ? d->arch : "", d->arch ? ")" : "");
}

/* ssh [options] -- host remote_cmd */
static int ssh_run_once(SshState *s, const char *remote_cmd, const char *stdin_path, ProcResult *r, Err *err) {
    const PlatformDesc *d = s->desc;
    char timeout[64], port[16], strict[64], known[4200];
    snprintf(timeout, sizeof timeout, "ConnectTimeout=%d", d->connect_timeout_s);
    snprintf(port, sizeof port, "%d", d->port);
    snprintf(strict, sizeof strict, "StrictHostKeyChecking=%s", d->strict_host_key_checking);
    const char *argv[32];
    size_t n = 0;
    argv[n++] = "ssh";
    argv[n++] = "-T";
    argv[n++] = "-o", argv[n++] = "BatchMode=yes";
    argv[n++] = "-o", argv[n++] = timeout;
    argv[n++] = "-o", argv[n++] = strict;
    argv[n++] = "-o", argv[n++] = "LogLevel=ERROR";
    argv[n++] = "-o", argv[n++] = "ServerAliveInterval=5";
    argv[n++] = "-o", argv[n++] = "ServerAliveCountMax=3";
    if (d->known_hosts) {
        snprintf(known, sizeof known, "UserKnownHostsFile=%s", d->known_hosts);
        argv[n++] = "-o", argv[n++] = known;
    }
    if (d->identity) argv[n++] = "-i", argv[n++] = d->identity, argv[n++] = "-o", argv[n++] = "IdentitiesOnly=yes";
    if (d->user) argv[n++] = "-l", argv[n++] = d->user;
    argv[n++] = "-p", argv[n++] = port;
    argv[n++] = "--";
    argv[n++] = d->host;
    argv[n++] = remote_cmd;
    argv[n] = NULL;
    return proc_run(argv, stdin_path, r, err);
}

/* Runs remote_cmd, retrying while ssh cannot reach the board (status 255). On failure err says
 * what was being done and ssh's last message. */
static int ssh_run(SshState *s, const char *what, const char *remote_cmd, const char *stdin_path, ProcResult *r, Err *err) {
    const PlatformDesc *d = s->desc;
    long delay_ms = d->backoff_ms;
    for (int attempt = 0;; attempt++) {
        if (ssh_run_once(s, remote_cmd, stdin_path, r, err)) return err_prefix(err, "%s: %s", s->target, what);
        if (r->status != 255) return 0;
        char line[512];
        proc_last_line(sb_str(&r->errout), line, sizeof line);
        if (attempt >= d->retries)
            return err_set(err, "%s: %s: board unreachable (ssh exited with status 255 after %d attempt%s)%s%s", s->target, what,
                           attempt + 1, attempt ? "s" : "", line[0] ? ": " : "", line);
        fprintf(stderr, "dynn: %s: %s: attempt %d of %d failed (%s); retrying in %.1f s\n", s->target, what, attempt + 1,
                d->retries + 1, line[0] ? line : "ssh exited with status 255", delay_ms / 1000.0);
        proc_result_free(r);
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts)) {}
        delay_ms *= 2;
    }
}

/* Runs a remote command that must succeed and print nothing we need. */
static int ssh_step(SshState *s, const char *what, const char *remote_cmd, const char *stdin_path, Err *err) {
    ProcResult r;
    int rc = ssh_run(s, what, remote_cmd, stdin_path, &r, err);
    if (!rc && r.status) {
        char line[512];
        proc_last_line(sb_str(&r.errout), line, sizeof line);
        rc = err_set(err, "%s: %s: the remote command exited with status %d%s%s", s->target, what, r.status, line[0] ? ": " : "", line);
    }
    proc_result_free(&r);
    return rc;
}

static int ssh_open(const PlatformDesc *d, void **state, Err *err) {
    SshState *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, "out of memory");
    s->desc = d;
    ssh_describe(d, s->target, sizeof s->target);
    *state = s;
    return 0;
}

static char *remote_path(const SshState *s, const char *name) {
    char *p;
    return asprintf(&p, "%s/%s", s->dir, name) < 0 ? NULL : p;
}

/* mkdir -p WORKDIR && mktemp -d WORKDIR/dynn.XXXXXX → s->dir */
static int make_dir(SshState *s, Err *err) {
    StrBuf cmd = {0}, tmpl = {0};
    sb_printf(&tmpl, "%s/dynn.XXXXXX", s->desc->workdir);
    sb_append(&cmd, "mkdir -p --");
    shell_quote_word(&cmd, s->desc->workdir);
    sb_append(&cmd, " && mktemp -d");
    shell_quote_word(&cmd, sb_str(&tmpl));
    sb_free(&tmpl);
    if (cmd.oom) return sb_free(&cmd), err_set(err, "out of memory");
    ProcResult r;
    int rc = ssh_run(s, "creating the work directory", sb_str(&cmd), NULL, &r, err);
    sb_free(&cmd);
    char line[512];
    proc_last_line(sb_str(&r.out), line, sizeof line);
    if (!rc && (r.status || !line[0])) {
        char why[512];
        proc_last_line(sb_str(&r.errout), why, sizeof why);
        rc = err_set(err, "%s: cannot create a work directory below '%s' (status %d)%s%s", s->target, s->desc->workdir,
                     r.status, why[0] ? ": " : "", why);
    }
    proc_result_free(&r);
    if (rc) return -1;
    if (!(s->dir = strdup(line))) return err_set(err, "out of memory");
    fprintf(stderr, "dynn: %s: work directory %s\n", s->target, s->dir);
    return 0;
}

/* cat > DIR/NAME (from the local file) [&& chmod 755 DIR/NAME] */
static int upload(SshState *s, const char *local, const char *name, int executable, Err *err) {
    char *path = remote_path(s, name);
    if (!path) return err_set(err, "out of memory");
    StrBuf cmd = {0};
    sb_append(&cmd, "cat >");
    shell_quote_word(&cmd, path);
    if (executable) {
        sb_append(&cmd, " && chmod 755");
        shell_quote_word(&cmd, path);
    }
    char what[4200];
    snprintf(what, sizeof what, "copying %s to %s", local, path);
    int rc = cmd.oom ? err_set(err, "out of memory") : ssh_step(s, what, sb_str(&cmd), local, err);
    sb_free(&cmd);
    free(path);
    return rc;
}

static int ssh_deploy(void *state, const char *binary, const char *model, const char *platform_file, Err *err) {
    SshState *s = state;
    if (!s->dir && make_dir(s, err)) return -1;
    if (upload(s, binary, "dynn", 1, err) || upload(s, model, "model", 0, err)) return -1;
    if (platform_file && upload(s, platform_file, "platform.yaml", 0, err)) return -1;
    s->has_platform_file = platform_file != NULL;
    return 0;
}

static int ssh_profile(void *state, const char *const *args, size_t n_args, char **out, Err *err) {
    SshState *s = state;
    *out = NULL;
    if (!s->dir) return err_set(err, "%s: nothing deployed", s->target);
    char *binary = remote_path(s, "dynn"), *model = remote_path(s, "model"), *pfile = remote_path(s, "platform.yaml");
    StrBuf cmd = {0};
    if (binary && model && pfile)
        profile_cmd_shell(&cmd, s->desc, binary, model, s->has_platform_file ? pfile : NULL, args, n_args);
    free(binary), free(model), free(pfile);
    if (!binary || !model || !pfile || cmd.oom) return sb_free(&cmd), err_set(err, "out of memory");
    fprintf(stderr, "$ ssh %s %s\n", s->desc->host, sb_str(&cmd));
    ProcResult r;
    int rc = ssh_run(s, "running dynn profile", sb_str(&cmd), NULL, &r, err);
    sb_free(&cmd);
    if (!rc && r.status) rc = profile_cmd_failed(s->target, r.status, sb_str(&r.errout), err);
    *out = r.out.len ? sb_take(&r.out) : NULL;
    proc_result_free(&r);
    return rc;
}

static int ssh_cleanup(void *state, Err *err) {
    SshState *s = state;
    int rc = 0;
    if (s->dir) {
        char *binary = remote_path(s, "dynn"), *model = remote_path(s, "model"), *pfile = remote_path(s, "platform.yaml");
        StrBuf cmd = {0};
        sb_append(&cmd, "rm -f --");
        shell_quote_word(&cmd, binary ? binary : "");
        shell_quote_word(&cmd, model ? model : "");
        shell_quote_word(&cmd, pfile ? pfile : "");
        sb_append(&cmd, " && rmdir --");
        shell_quote_word(&cmd, s->dir);
        rc = !binary || !model || !pfile || cmd.oom ? err_set(err, "out of memory")
                                                    : ssh_step(s, "removing the work directory", sb_str(&cmd), NULL, err);
        free(binary), free(model), free(pfile);
        sb_free(&cmd);
    }
    free(s->dir);
    free(s);
    return rc;
}

const PlatformType platform_type_ssh = {
    .name = "ssh",
    .summary = "a board reached with the OpenSSH client (deploy over ssh, profile remotely)",
    .keys = ssh_keys,
    .n_keys = sizeof ssh_keys / sizeof *ssh_keys,
    .validate = ssh_validate,
    .describe = ssh_describe,
    .open = ssh_open,
    .deploy = ssh_deploy,
    .profile = ssh_profile,
    .cleanup = ssh_cleanup,
};
