/*
 * The command line's words: each command's flags (`--flag value` or
 * `--flag=value`), its positional words, its own --help (-h), and one line
 * naming the word at fault for a misuse. Used by main.c and cli_*.c.
 */
#ifndef CABINET_CLI_H
#define CABINET_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses: 0 done, 1 failed, 2 a misuse. */
#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_MISUSE 2
/* cli_parse: the help was asked for and printed (exit 0). */
#define CLI_HELP (-1)

struct cli_cmd;
typedef int (*cli_run)(const struct cli_cmd *cmd, int argc, char **argv);

/* One command: its words ("user add"), what follows them in its synopsis,
 * one line for the global usage, and the rest of its own help; settings:
 * its help lists every setting (config_usage), else points at them. */
struct cli_cmd {
    const char *name;
    const char *synopsis;
    const char *summary;
    const char *details;
    cli_run run;
    bool settings;
};

/* A flag of a command: its name ("--name"), the word for its value in the
 * help ("NAME"; NULL for a switch, which takes no value), whether it is
 * required. After cli_parse, value is what was given ("" for a switch),
 * NULL when absent. */
struct cli_opt {
    const char *flag;
    const char *arg;
    bool required;
    const char *value;
};

/* Parses argv[0..argc) (the words after the command's name) into opts and
 * up to max_pos positional words into pos (at least min_pos, named by
 * pos_names, e.g. "EMAIL", in the message when missing). Returns CLI_OK,
 * CLI_HELP after printing the command's help on stdout, or CLI_MISUSE
 * after printing one line naming the word at fault on stderr. */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opt *opts, int nopts,
              const char **pos, int min_pos, int max_pos, const char *pos_names);
/* Prints "cabinet: <message> (see cabinet CMD --help)" on stderr and
 * returns CLI_MISUSE. */
int cli_misuse(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the command's help on out. */
void cli_help(const struct cli_cmd *cmd, FILE *out);

/* The password for an account: CABINET_PASSWORD, else asked on the
 * terminal without echo; 10 to 1024 characters (bytes at most), as the API
 * allows. 0, or 1 after saying what is wrong on stderr. buf holds
 * CLI_PASSWORD_SIZE bytes; wipe it after use. */
#define CLI_PASSWORD_SIZE 1026
int cli_password(char *buf);

/* The account commands (cli_user.c). */
int cli_user_add(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_list(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_passwd(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_disable(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_enable(const struct cli_cmd *cmd, int argc, char **argv);
int cli_user_unlock(const struct cli_cmd *cmd, int argc, char **argv);
int cli_token_add(const struct cli_cmd *cmd, int argc, char **argv);

#endif
