/* cli/commands.h — the `dynn` sub-commands. Each takes argc/argv starting at the command name,
 * supports --help, and returns the process exit code (0 ok, 1 failure, 2 usage error). */
#ifndef DYNN_CLI_COMMANDS_H
#define DYNN_CLI_COMMANDS_H

typedef struct CliCommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} CliCommand;

/* nn engine (nn/) */
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_devices(int argc, char **argv);
/* on-target profiling (platforms/) */
int cmd_profile(int argc, char **argv);

/* pipeline and results database (pipeline/, db/) — add yours below this line */
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_dag(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_stage_exec(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_fsck(int argc, char **argv);

extern const CliCommand dynn_commands[];

#endif
