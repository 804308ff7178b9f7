/*
 * The account commands: user add, list, passwd, disable, enable, unlock,
 * and token add. Each write records its audit entry with actor "system",
 * as the API does for its callers.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "db/db_user.h"
#include "domain/role.h"
#include "domain/validate.h"
#include "sec/sec.h"

#define CLI_ACTOR "system"

/* Connects, saying so when it cannot. */
static int
cli_connect(struct db **db)
{
    if (db_connect(config->database_url, db) == OK)
        return 0;
    fprintf(stderr, "cabinet: cannot connect to the database\n");
    return 1;
}

/* The id of the account with this e-mail: 0, or 1 after saying why not. */
static int
cli_account(struct db *db, const char *email, int64_t *id)
{
    enum outcome rc = db_user_by_email(db, email, id);

    if (rc == ERR_NOT_FOUND)
        fprintf(stderr, "cabinet: there is no account with the e-mail address %s\n", email);
    return rc == OK ? 0 : 1;
}

int
cli_user_add(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_opt opts[] = {{"--name", "NAME", true, NULL}, {"--roles", "LIST", false, NULL}};
    const char *email;
    char password[CLI_PASSWORD_SIZE] = "", hash[SEC_PWHASH_LEN] = "", bad[32];
    struct strbuf pgroles = STRBUF_INIT;
    struct db *db = NULL;
    json_t *doc = NULL;
    unsigned mask;
    int status;
    enum outcome rc;

    if ((status = cli_parse(cmd, argc, argv, opts, 2, &email, 1, 1, "EMAIL")) != CLI_OK)
        return status;
    if (!validate_email(email))
        return cli_misuse(cmd, "\"%s\" is not an e-mail address", email);
    if (!validate_text(opts[0].value, 1, 200) || !validate_line(opts[0].value, NULL))
        return cli_misuse(cmd, "--name must be one line of 1 to 200 characters");
    if (!role_parse_list(opts[1].value ? opts[1].value : "", &mask, bad, sizeof bad))
        return cli_misuse(cmd, "unknown role \"%s\" in --roles (cab, ecab, manager, admin)", bad);
    role_pg_array(mask, &pgroles);
    status = CLI_FAIL;
    if (cli_password(password) != 0 || sec_password_hash(password, hash) != OK ||
        cli_connect(&db) != 0)
        goto out;
    rc = db_user_create(db, CLI_ACTOR, email, opts[0].value, hash, strbuf_str(&pgroles), &doc);
    if (rc == ERR_CONFLICT)
        fprintf(stderr, "cabinet: an account with the e-mail address %s exists\n", email);
    if (rc != OK)
        goto out;
    json_dumpf(doc, stdout, JSON_COMPACT);
    putchar('\n');
    status = CLI_OK;
out:
    sec_wipe(password, sizeof password);
    sec_wipe(hash, sizeof hash);
    strbuf_free(&pgroles);
    json_decref(doc);
    db_disconnect(db);
    return status;
}

/* One user as a row of the table. */
static void
cli_user_row(json_t *u)
{
    json_t *roles = json_object_get(u, "roles"), *r;
    struct strbuf list = STRBUF_INIT;
    size_t i;
    int wait = (int)json_integer_value(json_object_get(u, "locked_for"));
    char locked[24];

    json_array_foreach(roles, i, r)
        strbuf_printf(&list, "%s%s", i ? "," : "", json_string_value(r));
    snprintf(locked, sizeof locked, wait > 0 ? "%d s" : "no", wait);
    printf("%-6lld %-32s %-24s %-28s %-8s %s\n",
           (long long)json_integer_value(json_object_get(u, "id")),
           json_string_value(json_object_get(u, "email")),
           json_string_value(json_object_get(u, "name")), strbuf_str(&list),
           json_is_true(json_object_get(u, "disabled")) ? "yes" : "no", locked);
    strbuf_free(&list);
}

int
cli_user_list(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_opt opts[] = {{"--json", NULL, false, NULL}};
    struct db *db = NULL;
    json_t *users = NULL, *u;
    size_t i;
    int status;

    if ((status = cli_parse(cmd, argc, argv, opts, 1, NULL, 0, 0, "")) != CLI_OK)
        return status;
    if (cli_connect(&db) != 0)
        return CLI_FAIL;
    status = db_user_all(db, &users) == OK ? CLI_OK : CLI_FAIL;
    db_disconnect(db);
    if (status != CLI_OK)
        return status;
    if (opts[0].value == NULL)
        printf("%-6s %-32s %-24s %-28s %-8s %s\n", "ID", "EMAIL", "NAME", "ROLES", "DISABLED",
               "LOCKED");
    json_array_foreach(users, i, u)
    {
        json_t *wait = json_object_get(u, "locked_for");

        if (opts[0].value == NULL) {
            cli_user_row(u);
            continue;
        }
        json_object_set_new(u, "locked", json_boolean(json_integer_value(wait) > 0));
        json_dumpf(u, stdout, JSON_COMPACT);
        putchar('\n');
    }
    json_decref(users);
    return status;
}

/* user passwd, disable, enable: one update of the account named. */
static int
cli_user_update(const struct cli_cmd *cmd, int argc, char **argv, bool password, int disabled)
{
    const char *email;
    char pw[CLI_PASSWORD_SIZE] = "", hash[SEC_PWHASH_LEN] = "";
    struct db *db = NULL;
    json_t *doc = NULL;
    int64_t id;
    int status;

    if ((status = cli_parse(cmd, argc, argv, NULL, 0, &email, 1, 1, "EMAIL")) != CLI_OK)
        return status;
    status = CLI_FAIL;
    if (password && (cli_password(pw) != 0 || sec_password_hash(pw, hash) != OK))
        goto out;
    if (cli_connect(&db) != 0 || cli_account(db, email, &id) != 0 ||
        db_user_update(db, CLI_ACTOR, id, NULL, NULL, password ? hash : NULL, disabled, &doc) != OK)
        goto out;
    if (password)
        printf("password changed for %s; their sessions are ended\n", email);
    else if (disabled)
        printf("%s is disabled: no login, sessions ended, tokens refused\n", email);
    else
        printf("%s is enabled\n", email);
    status = CLI_OK;
out:
    sec_wipe(pw, sizeof pw);
    sec_wipe(hash, sizeof hash);
    json_decref(doc);
    db_disconnect(db);
    return status;
}

int
cli_user_passwd(const struct cli_cmd *cmd, int argc, char **argv)
{
    return cli_user_update(cmd, argc, argv, true, -1);
}

int
cli_user_disable(const struct cli_cmd *cmd, int argc, char **argv)
{
    return cli_user_update(cmd, argc, argv, false, 1);
}

int
cli_user_enable(const struct cli_cmd *cmd, int argc, char **argv)
{
    return cli_user_update(cmd, argc, argv, false, 0);
}

int
cli_user_unlock(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *email;
    struct db *db = NULL;
    int64_t id;
    long cleared = 0;
    int status;

    if ((status = cli_parse(cmd, argc, argv, NULL, 0, &email, 1, 1, "EMAIL")) != CLI_OK)
        return status;
    status = CLI_FAIL;
    if (cli_connect(&db) == 0 && cli_account(db, email, &id) == 0 &&
        db_user_unlock(db, CLI_ACTOR, id, &cleared) == OK) {
        printf("%s unlocked: %ld failed login%s cleared\n", email, cleared,
               cleared == 1 ? "" : "s");
        status = CLI_OK;
    }
    db_disconnect(db);
    return status;
}

int
cli_token_add(const struct cli_cmd *cmd, int argc, char **argv)
{
    static const char *const scopes[] = {"full", "feed", NULL};
    struct cli_opt opts[] = {{"--name", "NAME", true, NULL}, {"--scope", "SCOPE", false, NULL}};
    const char *email, *scope;
    char token[SEC_TOKEN_LEN] = "", hash[SEC_HEX256_LEN];
    struct db *db = NULL;
    json_t *doc = NULL;
    int64_t id;
    int status;

    if ((status = cli_parse(cmd, argc, argv, opts, 2, &email, 1, 1, "EMAIL")) != CLI_OK)
        return status;
    scope = opts[1].value ? opts[1].value : "full";
    if (!validate_text(opts[0].value, 1, 100) || !validate_line(opts[0].value, NULL))
        return cli_misuse(cmd, "--name must be one line of 1 to 100 characters");
    if (!validate_oneof(scope, scopes))
        return cli_misuse(cmd, "--scope is full or feed, not \"%s\"", scope);
    status = CLI_FAIL;
    if (cli_connect(&db) != 0 || cli_account(db, email, &id) != 0)
        goto out;
    sec_token("cab_", token);
    sec_sha256_hex(token, strlen(token), hash);
    if (db_token_create_as(db, CLI_ACTOR, id, opts[0].value, scope, hash, &doc) != OK)
        goto out;
    json_object_set_new(doc, "token", json_string(token));
    json_dumpf(doc, stdout, JSON_COMPACT);
    putchar('\n');
    fprintf(stderr, "cabinet: the token is shown this once; keep it as a secret\n");
    status = CLI_OK;
out:
    sec_wipe(token, sizeof token);
    json_decref(doc);
    db_disconnect(db);
    return status;
}
