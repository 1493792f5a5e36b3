/* reports/plot.c — gnuplot scripts and processes (see plot.h). */
#include "reports/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/strbuf.h"

extern char **environ;

int plot_write_file(const char *dir, const char *file, const char *text, Err *err) {
    char path[PATH_MAX];
    if (fs_join(path, sizeof path, dir, file)) return err_set(err, "%s/%s: path too long", dir, file);
    FILE *fp = fopen(path, "w");
    if (!fp) return err_set(err, "%s: %s", path, strerror(errno));
    size_t len = strlen(text);
    int bad = fwrite(text, 1, len, fp) != len;
    if (fclose(fp) || bad) return err_set(err, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

void plot_quote(char *out, size_t size, const char *s) {
    size_t k = 0;
    if (size < 3) return;
    out[k++] = '\'';
    for (; *s && k + 3 < size; s++) {
        if (*s == '\'') out[k++] = '\'';
        out[k++] = *s == '\n' ? ' ' : *s;
    }
    out[k++] = '\'';
    out[k] = '\0';
}

/* The first line of the gnuplot log, for the error message. */
static void first_log_line(const char *path, char *out, size_t size) {
    out[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] && strspn(line, " ^") != strlen(line)) {
            snprintf(out, size, "%s", line);
            break;
        }
    }
    fclose(fp);
}

int plot_render(const char *dir, const char *name, const char *commands, Err *err) {
    StrBuf sb = {0};
    sb_printf(&sb,
              "# %s.gp — written by dynn report; run `gnuplot %s.gp` here to draw %s.png and %s.svg again\n"
              "set terminal pngcairo size %d,%d noenhanced font 'Sans,11' background rgb 'white'\n"
              "set output '%s.png'\n"
              "set encoding utf8\n"
              "set grid lc rgb '#dddddd'\n"
              "set key outside right top box opaque\n"
              "%s\n"
              "set terminal svg size %d,%d noenhanced font 'Sans,11' background rgb 'white'\n"
              "set output '%s.svg'\n"
              "replot\n"
              "unset output\n",
              name, name, name, name, PLOT_WIDTH, PLOT_HEIGHT, name, commands, PLOT_WIDTH, PLOT_HEIGHT, name);
    char script[NAME_MAX + 1], log_name[NAME_MAX + 1], log_path[PATH_MAX];
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(log_name, sizeof log_name, "%s.log", name);
    int rc = sb.oom ? err_set(err, "out of memory") : plot_write_file(dir, script, sb_str(&sb), err);
    sb_free(&sb);
    if (rc) return -1;
    if (fs_join(log_path, sizeof log_path, dir, log_name)) return err_set(err, "%s: path too long", dir);
    const char *prog = getenv("DYNN_GNUPLOT");
    if (!prog || !*prog) prog = "gnuplot";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    char *argv[] = {(char *)prog, script, NULL};
    pid_t pid;
    int src = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (src) return err_set(err, "cannot start '%s': %s (install gnuplot-nox, see ci/deps.sh)", prog, strerror(src));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return err_set(err, "waiting for %s: %s", prog, strerror(errno));
    char why[512];
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        first_log_line(log_path, why, sizeof why);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            return err_set(err, "cannot run '%s' (install gnuplot-nox, see ci/deps.sh)", prog);
        return err_set(err, "%s/%s: gnuplot failed (%s): %s", dir, script,
                       WIFEXITED(status) ? "non-zero exit" : "killed by a signal", why[0] ? why : "no message");
    }
    struct stat st;
    if (stat(log_path, &st) == 0 && st.st_size == 0) unlink(log_path); /* keep only logs that say something */
    return 0;
}
