/* The command line's words: see cli.h. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "config.h"
#include "domain/validate.h"

#define CLI_PASSWORD_MIN 10
#define CLI_PASSWORD_MAX (CLI_PASSWORD_SIZE - 2) /* bytes, as POST /users allows */

void
cli_help(const struct cli_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: cabinet %s%s%s\n%s\n", cmd->name, cmd->synopsis[0] ? " " : "",
            cmd->synopsis, cmd->summary);
    if (cmd->details != NULL && cmd->details[0] != '\0')
        fprintf(out, "\n%s", cmd->details);
    fprintf(out, "\n  -h, --help   this help\n");
    if (cmd->settings) {
        fputc('\n', out);
        config_usage(out);
    } else {
        fprintf(out, "Settings (CABINET_DATABASE_URL and the others): cabinet --help\n");
    }
}

int
cli_misuse(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("cabinet: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see cabinet %s --help)\n", cmd->name);
    return CLI_MISUSE;
}

/* The option arg names (up to '=' when it has one), or NULL. */
static struct cli_opt *
cli_find(struct cli_opt *opts, int nopts, const char *arg, const char **inline_value)
{
    int i;

    *inline_value = NULL;
    for (i = 0; i < nopts; i++) {
        size_t n = strlen(opts[i].flag);
        if (strncmp(arg, opts[i].flag, n) != 0)
            continue;
        if (arg[n] == '\0')
            return &opts[i];
        if (arg[n] == '=') {
            *inline_value = arg + n + 1;
            return &opts[i];
        }
    }
    return NULL;
}

int
cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opt *opts, int nopts,
          const char **pos, int min_pos, int max_pos, const char *pos_names)
{
    /* the first misuse, reported once the whole line is read: --help
     * anywhere wins */
    char fault[300] = "";
    bool help = false;
    int i, npos = 0;

    for (i = 0; i < nopts; i++)
        opts[i].value = NULL;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *value;
        struct cli_opt *o;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            help = true;
            continue;
        }
        if (fault[0] != '\0')
            continue;
        if (arg[0] != '-' || arg[1] == '\0') {
            if (npos < max_pos)
                pos[npos++] = arg;
            else
                snprintf(fault, sizeof fault, "unexpected argument \"%s\" for %s", arg, cmd->name);
            continue;
        }
        if ((o = cli_find(opts, nopts, arg, &value)) == NULL) {
            snprintf(fault, sizeof fault, "unknown flag %.*s for %s", (int)strcspn(arg, "="), arg,
                     cmd->name);
        } else if (o->value != NULL) {
            snprintf(fault, sizeof fault, "%s is given twice", o->flag);
        } else if (o->arg == NULL) {
            if (value != NULL)
                snprintf(fault, sizeof fault, "%s takes no value", o->flag);
            o->value = "";
        } else if (value != NULL) {
            o->value = value;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            snprintf(fault, sizeof fault, "%s needs a value (%s)", o->flag, o->arg);
        }
    }
    if (help) {
        cli_help(cmd, stdout);
        return CLI_HELP;
    }
    if (fault[0] != '\0')
        return cli_misuse(cmd, "%s", fault);
    if (npos < min_pos)
        return cli_misuse(cmd, "%s needs %s", cmd->name, pos_names);
    for (i = 0; i < nopts; i++)
        if (opts[i].required && opts[i].value == NULL)
            return cli_misuse(cmd, "%s needs %s %s", cmd->name, opts[i].flag, opts[i].arg);
    for (i = npos; i < max_pos; i++)
        pos[i] = NULL;
    return CLI_OK;
}

/* Reads a password from the terminal without echo. */
static int
cli_prompt(const char *prompt, char *buf, size_t size)
{
    struct termios old, quiet;
    FILE *tty = fopen("/dev/tty", "r+");
    int ok = 0;

    if (tty == NULL)
        return -1;
    fputs(prompt, tty);
    fflush(tty);
    if (tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
        ok = fgets(buf, (int)size, tty) != NULL;
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    }
    fputc('\n', tty);
    (void)fclose(tty); /* only read from, after the prompt */
    if (!ok)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int
cli_password(char *buf)
{
    size_t chars = 0;

    /* one byte more than allowed, so that a longer password is refused
     * rather than cut */
    if (getenv("CABINET_PASSWORD") != NULL) {
        snprintf(buf, CLI_PASSWORD_SIZE, "%s", getenv("CABINET_PASSWORD"));
    } else if (cli_prompt("password: ", buf, CLI_PASSWORD_SIZE) != 0) {
        fprintf(stderr, "cabinet: set CABINET_PASSWORD or run on a terminal\n");
        return 1;
    }
    if (strlen(buf) > CLI_PASSWORD_MAX) {
        fprintf(stderr, "cabinet: the password may have at most %d bytes\n", CLI_PASSWORD_MAX);
        return 1;
    }
    if (!validate_utf8(buf, &chars) || chars < CLI_PASSWORD_MIN) {
        fprintf(stderr, "cabinet: the password needs at least %d characters\n", CLI_PASSWORD_MIN);
        return 1;
    }
    return 0;
}
