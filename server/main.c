/*
 * The `cabinet` command: serve, migrate, seed, user, token, keygen, sign,
 * verify, version. Configuration comes from the environment and flags
 * (config.c); each command's words are read by cli.c, and each command
 * has its own --help.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/gate.h"
#include "cli.h"
#include "config.h"
#include "db/db.h"
#include "db/db_audit.h"
#include "db/db_listen.h"
#include "db/db_migrate.h"
#include "domain/mailmsg.h"
#include "domain/statement.h"
#include "domain/timefmt.h"
#include "domain/validate.h"
#include "http/server.h"
#include "http/static.h"
#include "jobs/chain.h"
#include "jobs/deliver.h"
#include "jobs/mail.h"
#include "jobs/usage.h"
#include "log.h"
#include "sec/sec.h"
#include "sec/sec_key.h"
#include "verify.h"
#include "version.h"

/* The mail settings, when CABINET_SMTP_URL is set: an smtp:// or smtps://
 * URL (never shown: it holds the password), a sender, a known TLS word. */
static enum outcome
main_check_smtp(void)
{
    const char *url = config->smtp_url;

    if (strcmp(config->smtp_tls, "required") != 0 && strcmp(config->smtp_tls, "off") != 0) {
        log_error("CABINET_SMTP_TLS must be required or off, not \"%.40s\"", config->smtp_tls);
        return ERR_INVALID;
    }
    if (url[0] == '\0')
        return OK;
    if (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) {
        log_error("CABINET_SMTP_URL must be an smtps:// or smtp:// URL, e.g. "
                  "smtps://user:password@mail.example.org:465; unset it to send no e-mail");
        return ERR_INVALID;
    }
    if (config->smtp_from_address[0] == '\0') {
        log_error("CABINET_SMTP_FROM must be the sender's address, as cab@example.org or "
                  "\"Cabinet <cab@example.org>\" (the name plain ASCII), when CABINET_SMTP_URL "
                  "is set");
        return ERR_INVALID;
    }
    return OK;
}

/* What needs no database, checked before anything is written: the web
 * root, the mail settings, the TLS files (both or neither, readable), the
 * server key file.
 * Each failure is one log line saying what to do. */
static enum outcome
main_preflight(void)
{
    const char *tls[][2] = {{"CABINET_TLS_CERT", config->tls_cert},
                            {"CABINET_TLS_KEY", config->tls_key}};
    int fd;

    if (static_check_root(config->web_root) != OK || main_check_smtp() != OK)
        return ERR_INVALID;
    if ((config->tls_cert[0] == '\0') != (config->tls_key[0] == '\0')) {
        log_error("CABINET_TLS_CERT and CABINET_TLS_KEY go together: set both (PEM files) to "
                  "serve HTTPS, or neither");
        return ERR_INVALID;
    }
    for (size_t i = 0; config->tls_cert[0] != '\0' && i < 2; i++) {
        if ((fd = open(tls[i][1], O_RDONLY | O_CLOEXEC)) < 0) {
            log_error("%s (%s) cannot be read: %s; point %s at a readable PEM file", tls[i][1],
                      tls[i][0], strerror(errno), tls[i][0]);
            return ERR_INVALID;
        }
        (void)close(fd); /* only opened */
    }
    return sec_key_check(config->server_key_file);
}

/* Waits up to CABINET_DB_WAIT seconds for the database to take a
 * connection: a container or a service manager may start the server first.
 * A database that does not exist or a login that is refused fails at once,
 * since waiting cannot cure either. A signal of set ends the wait (*sig
 * says which). */
static enum outcome
main_db_wait(const sigset_t *set, int *sig)
{
    struct timespec until, now, pause = {1, 0};
    char why[512], shown[512];
    enum outcome rc;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += config->db_wait;
    for (;;) {
        rc = db_probe(config->database_url, why, sizeof why);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (rc == OK)
            return OK;
        if (rc != ERR_UNAVAILABLE || now.tv_sec >= until.tv_sec)
            break;
        log_info("waiting for the database (up to %lld s more): %s",
                 (long long)(until.tv_sec - now.tv_sec), why);
        if (pause.tv_sec > until.tv_sec - now.tv_sec)
            pause.tv_sec = until.tv_sec - now.tv_sec;
        if ((*sig = sigtimedwait(set, NULL, &pause)) > 0)
            return ERR_UNAVAILABLE;
        *sig = 0;
        pause.tv_sec = pause.tv_sec * 2 > 5 ? 5 : pause.tv_sec * 2;
    }
    db_url_shown(config->database_url, shown, sizeof shown);
    if (rc == ERR_NOT_FOUND)
        log_error("the database of CABINET_DATABASE_URL (%s) does not exist: create it "
                  "(createdb) and run cabinet migrate, or fix CABINET_DATABASE_URL",
                  shown);
    else if (rc == ERR_FORBIDDEN)
        log_error("cannot connect with CABINET_DATABASE_URL (%s): %s; fix the user, password or "
                  "address in CABINET_DATABASE_URL, or the server's pg_hba.conf",
                  shown, why);
    else
        log_error("cannot connect with CABINET_DATABASE_URL (%s) within CABINET_DB_WAIT (%d s): "
                  "%s; is PostgreSQL running there?",
                  shown, config->db_wait, why);
    return rc;
}

/* Whether the database holds this version's schema; each refusal is one
 * log line. Written into: nothing. */
static enum outcome
main_schema(void)
{
    struct db *db = NULL;
    char first[256];
    int pending = 0;
    enum outcome rc;

    if ((rc = db_connect(config->database_url, &db)) == OK)
        rc = db_migrate_pending(db, config->sql_dir, &pending, first, sizeof first);
    db_disconnect(db);
    if (rc == ERR_NOT_FOUND)
        log_error("the database has no Cabinet schema: run cabinet migrate (with the same "
                  "CABINET_DATABASE_URL and CABINET_SQL_DIR) first");
    else if (rc == OK && pending > 0)
        log_error("the database lacks %d migration%s of %s (CABINET_SQL_DIR), the first %s: run "
                  "cabinet migrate first",
                  pending, pending == 1 ? "" : "s", config->sql_dir, first);
    else if (rc != OK)
        log_error("cannot read the database's schema_migrations: is CABINET_SQL_DIR (%s) right?",
                  config->sql_dir);
    return rc == OK && pending > 0 ? ERR_INVALID : rc;
}

/* Records the server key's public half, or finds it there. */
static enum outcome
main_server_key(const char *pub)
{
    struct db *db = NULL;
    enum outcome rc;

    if ((rc = db_connect(config->database_url, &db)) == OK)
        rc = db_audit_server_key(db, pub);
    db_disconnect(db);
    if (rc == ERR_CONFLICT)
        log_error("%s does not hold this installation's server key (its public half is in "
                  "the server_key table): refusing to start; point CABINET_SERVER_KEY_FILE at "
                  "the key this database was first served with",
                  config->server_key_file);
    else if (rc != OK)
        log_error("cannot record the server key in the database");
    return rc;
}

/* After a stop signal: new connections are refused at once, gate
 * long-polls answer now, and the requests and webhook deliveries under way
 * get up to CABINET_SHUTDOWN_SECONDS (or until a second signal) to finish.
 * False, after one log line saying what was cut off, when some did not. */
static bool
main_drain(struct http_server *srv, struct gate_waiters *gate, struct deliver *deliver,
           struct mail *mail, const sigset_t *set)
{
    struct timespec t0, until, now, pause = {0, 50 * 1000000L};
    int requests, deliveries;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_server_drain(srv);
    deliver_drain(deliver);
    mail_drain(mail);
    gate_waiters_stop(gate);
    until = t0;
    until.tv_sec += config->shutdown_seconds;
    for (;;) {
        requests = http_server_busy(srv);
        deliveries = deliver_busy(deliver) + mail_busy(mail);
        if (requests == 0 && deliveries == 0)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > until.tv_sec ||
            (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec) ||
            sigtimedwait(set, NULL, &pause) > 0)
            break;
    }
    log_warn("stopping with %d request%s and %d webhook or mail deliver%s still under way after "
             "%.1f s (%s): they are cut off (a delivery cut off is sent again later)",
             requests, requests == 1 ? "" : "s", deliveries, deliveries == 1 ? "y" : "ies",
             (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9,
             now.tv_sec >= until.tv_sec ? "CABINET_SHUTDOWN_SECONDS" : "a second signal");
    return false;
}

static int
main_serve(void)
{
    struct db_pool *pool = NULL;
    struct app app = {0};
    struct http_server *srv = NULL;
    struct chain *chain = NULL;
    struct deliver *deliver = NULL;
    struct mail *mail = NULL;
    struct usage *usage = NULL;
    struct gate_waiters *gate = NULL;
    struct db_listen *listener = NULL;
    char pub[SEC_ED_PUBLIC_B64], secret[SEC_ED_SECRET_B64];
    sigset_t set;
    int sig = 0, status = 1;
    enum outcome rc;

    /* glibc gives each of up to eight arenas per core to threads that
     * allocate at once, and keeps what each arena once held; a request's
     * allocations are small and short-lived, so a few arenas serve the
     * workers and keep the resident size near what is in use */
    (void)mallopt(M_ARENA_MAX, 2);
    /* every thread started from here on inherits the blocked signals, so
     * that only sigwait below sees them */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* a peer that hangs up mid-reply must not end the process */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        log_error("cannot ignore SIGPIPE");
        goto out;
    }

    /* misconfiguration stops the start before anything is written: the
     * server key file is made only once the database is known to be right */
    if (main_preflight() != OK)
        goto out;
    rc = main_db_wait(&set, &sig);
    if (sig != 0) {
        log_info("stopping on signal %d before the database could be reached", sig);
        status = 0;
        goto out;
    }
    /* one server key per installation: refuse to sign with another */
    if (rc != OK || main_schema() != OK ||
        sec_key_load(config->server_key_file, pub, secret) != OK || main_server_key(pub) != OK)
        goto out;
    if (db_pool_open(config->database_url, config->db_pool, &pool) != OK ||
        chain_start(config->database_url, secret, &chain) != OK ||
        deliver_start(config->database_url, &deliver) != OK ||
        mail_start(config->database_url, &mail) != OK ||
        usage_start(config->database_url, &usage) != OK)
        goto out;
    /* the gate's long-polls: a table of waiters and the listener waking it */
    if (config->gate_waiters > 0 &&
        ((gate = gate_waiters_new(config->gate_waiters)) == NULL ||
         db_listen_start(config->database_url, gate_waiters_wake, gate, &listener) != OK))
        goto out;
    app.gate = gate;
    app.pool = pool;
    app.server_secret = secret;
    app.check_receiver = deliver_check_url;
    app.note_token_use = usage_note;
    app.usage = usage;
    if (http_server_start(&app, api_routes, api_nroutes, &srv) != OK)
        goto out;
    log_info("cabinet serving on %s%s (base URL %s, %d threads, %d database connections, "
             "%d gate waiters)",
             config->listen, config->tls_cert[0] ? " with HTTPS" : "", config->base_url,
             config->threads, config->db_pool, config->gate_waiters);
    sigwait(&set, &sig);
    log_info("stopping on signal %d: new connections are refused, the requests and deliveries "
             "under way have up to %d s to finish",
             sig, config->shutdown_seconds);
    if (!main_drain(srv, gate, deliver, mail, &set)) {
        /* what is still running may be blocked where nothing here can
         * reach it (a transfer, a query): the bound is kept by ending the
         * process now; PostgreSQL rolls back what those connections began,
         * and a delivery not recorded is sent again */
        sec_wipe(secret, sizeof secret);
        _exit(1);
    }
    status = 0;
out:
    /* waiters answer what holds now, so that the workers end promptly */
    gate_waiters_stop(gate);
    http_server_stop(srv);
    db_listen_stop(listener);
    gate_waiters_free(gate);
    usage_stop(usage);
    mail_stop(mail);
    deliver_stop(deliver);
    chain_stop(chain);
    db_pool_close(pool);
    sec_wipe(secret, sizeof secret);
    return status;
}

static int
main_serve_cmd(const struct cli_cmd *cmd, int argc, char **argv)
{
    int status = cli_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, "");

    return status != CLI_OK ? status : main_serve();
}

static int
main_migrate(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct db *db = NULL;
    int applied = 0, status;
    enum outcome rc;

    if ((status = cli_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, "")) != CLI_OK)
        return status;
    if ((rc = db_connect(config->database_url, &db)) == OK)
        rc = db_migrate_run(db, config->sql_dir, &applied);
    db_disconnect(db);
    if (rc != OK) {
        log_error("migration failed");
        return CLI_FAIL;
    }
    printf("%d migration%s applied\n", applied, applied == 1 ? "" : "s");
    return CLI_OK;
}

static int
main_seed(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *file;
    struct db *db = NULL;
    int status;
    enum outcome rc;

    if ((status = cli_parse(cmd, argc, argv, NULL, 0, &file, 1, 1, "FILE")) != CLI_OK)
        return status;
    if ((rc = db_connect(config->database_url, &db)) == OK)
        rc = db_migrate_file(db, file);
    db_disconnect(db);
    return rc == OK ? CLI_OK : CLI_FAIL;
}

static int
main_keygen(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_opt opts[] = {{"--key", "FILE", false, NULL}};
    char pub[SEC_ED_PUBLIC_B64], secret[SEC_ED_SECRET_B64];
    const char *path;
    int status;
    enum outcome rc;

    if ((status = cli_parse(cmd, argc, argv, opts, 1, NULL, 0, 0, "")) != CLI_OK)
        return status;
    path = opts[0].value ? opts[0].value : "cabinet-approver.key";
    if (path[0] == '\0')
        return cli_misuse(cmd, "--key needs a file name");
    sec_ed25519_keygen(pub, secret);
    rc = sec_key_write(path, secret);
    sec_wipe(secret, sizeof secret);
    if (rc == ERR_CONFLICT) {
        fprintf(stderr, "cabinet: %s exists; it is not overwritten\n", path);
        return CLI_FAIL;
    }
    if (rc != OK) {
        fprintf(stderr, "cabinet: cannot write %s\n", path);
        return CLI_FAIL;
    }
    printf("%s\n", pub);
    fprintf(stderr,
            "secret key written to %s (mode 0600); register the public key with "
            "POST /api/v1/me/keys\n",
            path);
    return CLI_OK;
}

/* A whole number from 1 in text: *out, or false. */
static bool
main_positive(const char *text, long long *out)
{
    char *end = NULL;

    *out = strtoll(text, &end, 10);
    return text[0] >= '0' && text[0] <= '9' && *end == '\0' && *out >= 1;
}

enum {
    SIGN_KEY,
    SIGN_KEY_ID,
    SIGN_REF,
    SIGN_VERSION,
    SIGN_HASH,
    SIGN_DECISION,
    SIGN_AT,
    SIGN_COMMENT
};

/* What sign prints: with a key id, the body of POST /changes/{id}/approvals
 * as it is; without, the statement and its signature. */
static json_t *
main_sign_body(const struct cli_opt *o, long long key_id, const char *at, const char *sig,
               const char *statement)
{
    json_t *b;

    if (o[SIGN_KEY_ID].value == NULL)
        return json_pack("{s:s, s:s, s:s}", "signed_at", at, "signature", sig, "statement",
                         statement);
    b = json_pack("{s:s, s:I, s:s, s:s}", "decision", o[SIGN_DECISION].value, "key_id",
                  (json_int_t)key_id, "signed_at", at, "signature", sig);
    if (b != NULL && o[SIGN_COMMENT].value != NULL)
        json_object_set_new(b, "comment", json_string(o[SIGN_COMMENT].value));
    return b;
}

static int
main_sign(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_opt o[] = {
        [SIGN_KEY] = {"--key", "FILE", true, NULL},
        [SIGN_KEY_ID] = {"--key-id", "N", false, NULL},
        [SIGN_REF] = {"--ref", "REF", true, NULL},
        [SIGN_VERSION] = {"--version", "N", true, NULL},
        [SIGN_HASH] = {"--hash", "HEX", true, NULL},
        [SIGN_DECISION] = {"--decision", "approve|reject", true, NULL},
        [SIGN_AT] = {"--signed-at", "T", false, NULL},
        [SIGN_COMMENT] = {"--comment", "TEXT", false, NULL},
    };
    char secret[256], sig[SEC_ED_SIG_B64], now[TIMEFMT_LEN], why[VALIDATE_WHY_LEN] = "";
    const char *at, *hash, *decision;
    struct strbuf st = STRBUF_INIT;
    long long v, key_id = 0;
    json_t *body = NULL;
    int status;

    if ((status = cli_parse(cmd, argc, argv, o, 8, NULL, 0, 0, "")) != CLI_OK)
        return status;
    hash = o[SIGN_HASH].value;
    decision = o[SIGN_DECISION].value;
    if (!main_positive(o[SIGN_VERSION].value, &v))
        return cli_misuse(cmd, "--version must be a whole number from 1, not \"%s\"",
                          o[SIGN_VERSION].value);
    if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
        return cli_misuse(cmd, "--hash must be 64 lowercase hex digits (the change's "
                               "content_hash)");
    if (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)
        return cli_misuse(cmd, "--decision is approve or reject, not \"%s\"", decision);
    if (o[SIGN_KEY_ID].value != NULL && !main_positive(o[SIGN_KEY_ID].value, &key_id))
        return cli_misuse(cmd,
                          "--key-id must be a whole number from 1 (the id POST /me/keys "
                          "gave), not \"%s\"",
                          o[SIGN_KEY_ID].value);
    if (o[SIGN_COMMENT].value != NULL && o[SIGN_KEY_ID].value == NULL)
        return cli_misuse(cmd, "--comment goes with --key-id (it is part of the body to post)");
    if (o[SIGN_COMMENT].value != NULL && (!validate_lines(o[SIGN_COMMENT].value, why) ||
                                          !validate_text(o[SIGN_COMMENT].value, 0, 10000)))
        return cli_misuse(cmd, "--comment %s", why[0] ? why : "may have at most 10000 characters");
    if ((at = o[SIGN_AT].value) == NULL) {
        timefmt_format((int64_t)time(NULL), now);
        at = now;
    } else if (!timefmt_is_normal(at)) {
        return cli_misuse(cmd, "--signed-at must be YYYY-MM-DDTHH:MM:SSZ, not \"%s\"", at);
    }
    if (sec_key_read(o[SIGN_KEY].value, secret, sizeof secret) != OK) {
        fprintf(stderr, "cabinet: cannot read the key file %s\n", o[SIGN_KEY].value);
        return CLI_FAIL;
    }
    status = CLI_FAIL;
    statement_approval(&st, o[SIGN_REF].value, v, hash, decision, at);
    if (!strbuf_failed(&st) && sec_ed25519_sign(secret, st.buf, st.len, sig) == OK &&
        (body = main_sign_body(o, key_id, at, sig, st.buf)) != NULL) {
        json_dumpf(body, stdout, JSON_COMPACT);
        putchar('\n');
        status = CLI_OK;
    } else {
        fprintf(stderr, "cabinet: %s holds no Ed25519 secret key\n", o[SIGN_KEY].value);
    }
    json_decref(body);
    sec_wipe(secret, sizeof secret);
    strbuf_free(&st);
    return status;
}

static int
main_verify(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_opt opts[] = {{"--bundle", "FILE", false, NULL}};
    char why[512] = "", shown[512];
    struct db *db = NULL;
    int status;

    if ((status = cli_parse(cmd, argc, argv, opts, 1, NULL, 0, 0, "")) != CLI_OK)
        return status;
    if (opts[0].value != NULL)
        return verify_bundle(opts[0].value, stdout);
    if (db_probe(config->database_url, why, sizeof why) != OK ||
        db_connect(config->database_url, &db) != OK) {
        db_url_shown(config->database_url, shown, sizeof shown);
        fprintf(stderr, "cabinet: cannot connect with CABINET_DATABASE_URL (%s): %s\n", shown,
                why[0] ? why : "the database is unavailable");
        return CLI_FAIL;
    }
    status = verify_database(db, stdout);
    db_disconnect(db);
    return status;
}

static int
main_mail_test(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *to = NULL;
    char error[400] = "";
    int status = cli_parse(cmd, argc, argv, NULL, 0, &to, 1, 1, "ADDRESS");

    if (status != CLI_OK)
        return status;
    if (!mailmsg_address_ok(to))
        return cli_misuse(cmd, "\"%s\" is not an address a message can be sent to", to);
    if (main_check_smtp() != OK)
        return CLI_FAIL;
    if (config->smtp_url[0] == '\0') {
        log_error("CABINET_SMTP_URL is not set: there is no mail server to send through");
        return CLI_FAIL;
    }
    if (mail_send_test(to, error, sizeof error) != OK) {
        log_error("the test message to %s was not sent: %s", to, error);
        return CLI_FAIL;
    }
    printf("sent a test message to %s\n", to);
    return CLI_OK;
}

static int
main_version(const struct cli_cmd *cmd, int argc, char **argv)
{
    int status = cli_parse(cmd, argc, argv, NULL, 0, NULL, 0, 0, "");

    if (status == CLI_OK)
        printf("cabinet %s\n", CABINET_VERSION);
    return status;
}

static const struct cli_cmd main_cmds[] = {
    {"serve", "", "serve HTTP on CABINET_LISTEN (and run the audit chainer, webhook deliveries)",
     "SIGINT or SIGTERM stops it: new connections are refused at once, and the requests and\n"
     "webhook deliveries under way get CABINET_SHUTDOWN_SECONDS to finish.\n",
     main_serve_cmd, true},
    {"migrate", "", "apply pending migrations from CABINET_SQL_DIR",
     "Each sql/NNNN_*.sql once, in order, each in a transaction, under an advisory lock.\n",
     main_migrate, false},
    {"seed", "FILE", "run a SQL file in one transaction (the demo seed)", "", main_seed, false},
    {"user add", "EMAIL --name NAME [--roles cab,ecab,manager,admin]", "create an account",
     "The password comes from CABINET_PASSWORD, else it is asked on the terminal\n"
     "(10 to 1024 characters). Prints the account as JSON.\n",
     cli_user_add, false},
    {"user list", "[--json]", "list the accounts",
     "A table of id, e-mail, name, roles, disabled, locked (how long the slowest\n"
     "client address must still wait to try a login again); --json: one JSON\n"
     "object a line with locked and locked_for (seconds).\n",
     cli_user_list, false},
    {"user passwd", "EMAIL", "set an account's password and end its sessions",
     "The password comes from CABINET_PASSWORD, else it is asked on the terminal.\n",
     cli_user_passwd, false},
    {"user disable", "EMAIL", "disable an account: no login, its sessions end, its tokens fail", "",
     cli_user_disable, false},
    {"user enable", "EMAIL", "enable a disabled account", "", cli_user_enable, false},
    {"user unlock", "EMAIL", "clear an account's failed logins from every address",
     "Ends the growing wait repeated failed logins put on each client address.\n", cli_user_unlock,
     false},
    {"token add", "EMAIL --name NAME [--scope full|feed]", "make an API token for automation",
     "Prints the token's document as JSON with the secret \"token\", shown this once;\n"
     "send it as Authorization: Bearer TOKEN. feed: read-only feeds only.\n",
     cli_token_add, false},
    {"keygen", "[--key FILE]", "make an approver's Ed25519 key pair",
     "Prints the public key (register it with POST /api/v1/me/keys) and writes\n"
     "the secret key to FILE (default cabinet-approver.key, mode 0600), never\n"
     "over an existing file.\n",
     main_keygen, false},
    {"sign",
     "--key FILE [--key-id N [--comment TEXT]] --ref REF --version N --hash HEX\n"
     "       --decision approve|reject [--signed-at T]",
     "sign an approval statement",
     "With --key-id (the key's id from POST /me/keys), prints the body of\n"
     "POST /api/v1/changes/{id}/approvals as it is: {decision, comment?, key_id,\n"
     "signed_at, signature}. Without, prints {signed_at, signature, statement}.\n"
     "REF, N and HEX are the change's ref, version and content_hash; T defaults\n"
     "to now (YYYY-MM-DDTHH:MM:SSZ).\n",
     main_sign, false},
    {"verify", "[--bundle FILE]", "check the audit chain, checkpoints and approvals",
     "With --bundle, checks one change's evidence bundle offline instead.\n", main_verify, false},
    {"mail test", "ADDRESS", "send a test message through CABINET_SMTP_URL",
     "Sends one message to ADDRESS from CABINET_SMTP_FROM, as e-mail notifications are\n"
     "sent (README \"E-mail notifications\"); exit 1 with the mail server's answer when\n"
     "it is refused.\n",
     main_mail_test, true},
    /* last: cabinet --version runs it */
    {"version", "", "print the version (also cabinet --version)", "", main_version, false},
};

#define MAIN_NCMDS (sizeof main_cmds / sizeof main_cmds[0])

static void
main_usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: cabinet COMMAND [flags]   (cabinet COMMAND --help: its flags)\n");
    for (i = 0; i < MAIN_NCMDS; i++)
        fprintf(out, "  %-14s %s\n", main_cmds[i].name, main_cmds[i].summary);
    fprintf(out, "  %-14s %s\n\n", "help [COMMAND]", "this help, or a command's");
    config_usage(out);
}

/* The command argv[1] (and argv[2] for a group: user, token) names, with
 * *words the number of words its name has; NULL when none. */
static const struct cli_cmd *
main_find(int argc, char **argv, int *words)
{
    size_t i, n = strlen(argv[1]);

    for (i = 0; i < MAIN_NCMDS; i++) {
        const char *name = main_cmds[i].name;
        if (strncmp(name, argv[1], n) != 0 || (name[n] != '\0' && name[n] != ' '))
            continue;
        *words = name[n] == '\0' ? 1 : 2;
        if (*words == 1 || (argc > 2 && strcmp(name + n + 1, argv[2]) == 0))
            return &main_cmds[i];
    }
    return NULL;
}

/* Whether word is a group of commands (user, token): the subcommands as a
 * list in buf. */
static bool
main_group(const char *word, char *buf, size_t size)
{
    size_t i, n = strlen(word), used = 0;

    buf[0] = '\0';
    for (i = 0; i < MAIN_NCMDS; i++) {
        const char *name = main_cmds[i].name;
        if (strncmp(name, word, n) == 0 && name[n] == ' ')
            used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
                                     used ? ", " : "", name + n + 1);
    }
    return buf[0] != '\0';
}

/* The group's help: its commands' synopses. */
static void
main_group_help(const char *word, FILE *out)
{
    size_t i, n = strlen(word);

    fprintf(out, "usage:\n");
    for (i = 0; i < MAIN_NCMDS; i++)
        if (strncmp(main_cmds[i].name, word, n) == 0 && main_cmds[i].name[n] == ' ')
            fprintf(out, "  cabinet %s %s\n      %s\n", main_cmds[i].name, main_cmds[i].synopsis,
                    main_cmds[i].summary);
    fprintf(out, "cabinet %s COMMAND --help: one command's help\n", word);
}

static bool
main_is_help(const char *word)
{
    return strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0;
}

/* `cabinet help [COMMAND [SUB]]`. */
static int
main_help(int argc, char **argv)
{
    const struct cli_cmd *cmd;
    char subs[200];
    int words = 0;

    if (argc < 3) {
        main_usage(stdout);
        return CLI_OK;
    }
    if ((cmd = main_find(argc - 1, argv + 1, &words)) != NULL && argc == 2 + words) {
        cli_help(cmd, stdout);
        return CLI_OK;
    }
    if (argc == 3 && main_group(argv[2], subs, sizeof subs)) {
        main_group_help(argv[2], stdout);
        return CLI_OK;
    }
    fprintf(stderr, "cabinet: no command \"%s\" to help with (see cabinet --help)\n", argv[2]);
    return CLI_MISUSE;
}

/* Finds the command argv names and runs it. */
static int
main_dispatch(int argc, char **argv)
{
    const struct cli_cmd *cmd;
    char subs[200];
    int words = 0;

    if (argc < 2) {
        fprintf(stderr, "cabinet: no command given (see cabinet --help)\n");
        return CLI_MISUSE;
    }
    if (main_is_help(argv[1]) || strcmp(argv[1], "help") == 0)
        return main_help(argc, argv);
    if (strcmp(argv[1], "--version") == 0) {
        int status = main_version(&main_cmds[MAIN_NCMDS - 1], argc - 2, argv + 2);
        return status == CLI_HELP ? CLI_OK : status;
    }
    if (argv[1][0] == '-') {
        fprintf(stderr, "cabinet: unknown flag %.*s (see cabinet --help)\n",
                (int)strcspn(argv[1], "="), argv[1]);
        return CLI_MISUSE;
    }
    if ((cmd = main_find(argc, argv, &words)) != NULL) {
        int status = cmd->run(cmd, argc - 1 - words, argv + 1 + words);
        return status == CLI_HELP ? CLI_OK : status;
    }
    if (!main_group(argv[1], subs, sizeof subs)) {
        fprintf(stderr, "cabinet: unknown command %s (see cabinet --help)\n", argv[1]);
        return CLI_MISUSE;
    }
    if (argc > 2 && main_is_help(argv[2])) {
        main_group_help(argv[1], stdout);
        return CLI_OK;
    }
    if (argc < 3)
        fprintf(stderr, "cabinet: %s needs a command: %s (see cabinet %s --help)\n", argv[1], subs,
                argv[1]);
    else
        fprintf(stderr, "cabinet: unknown command %s %s (see cabinet %s --help)\n", argv[1],
                argv[2], argv[1]);
    return CLI_MISUSE;
}

int
main(int argc, char **argv)
{
    int status;

    if (config_load(&argc, argv) != 0)
        return CLI_MISUSE;
    db_backoff_set(config->db_backoff_ms, config->db_backoff_max_ms);
    if (sec_init() != OK) {
        log_error("libsodium cannot start");
        config_free();
        return CLI_FAIL;
    }
    status = main_dispatch(argc, argv);
    config_free();
    return status;
}
