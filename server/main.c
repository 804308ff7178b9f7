/*
 * The `cabinet` command: serve, migrate, seed, user add, keygen, sign, verify.
 * Configuration comes from the environment and flags (config.c).
 */
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/gate.h"
#include "config.h"
#include "db/db.h"
#include "db/db_audit.h"
#include "db/db_listen.h"
#include "db/db_migrate.h"
#include "db/db_user.h"
#include "domain/role.h"
#include "domain/statement.h"
#include "domain/timefmt.h"
#include "domain/validate.h"
#include "http/server.h"
#include "jobs/chain.h"
#include "jobs/deliver.h"
#include "jobs/usage.h"
#include "log.h"
#include "sec/sec.h"
#include "sec/sec_key.h"
#include "verify.h"

#define MAIN_PASSWORD_MIN 10
#define MAIN_PASSWORD_MAX 1024 /* bytes, as POST /users allows */

static void
main_usage(void)
{
    fprintf(stderr,
            "usage: cabinet COMMAND [flags]\n"
            "  serve                 serve HTTP on CABINET_LISTEN\n"
            "  migrate               apply pending migrations from CABINET_SQL_DIR\n"
            "  seed FILE             run a SQL file in one transaction (the demo seed)\n"
            "  user add EMAIL --name NAME [--roles cab,ecab,manager,admin]\n"
            "                        create an account; password from CABINET_PASSWORD,\n"
            "                        else asked on the terminal\n"
            "  keygen [--key FILE]   make an approver's Ed25519 key pair: print the public\n"
            "                        key, write the secret key to FILE (mode 0600)\n"
            "  sign --key FILE --ref REF --version N --hash HEX --decision approve|reject\n"
            "       [--signed-at T]  sign an approval statement; prints JSON\n"
            "  verify [--bundle FILE]\n"
            "                        check the audit chain, checkpoints and approvals, or\n"
            "                        one change's evidence bundle offline\n");
    config_usage();
}

/* Records the server key's public half (or finds it there), waiting up to
 * CABINET_DB_WAIT seconds for the database to come up: a container or a
 * service manager may start the server first. A signal of set ends the wait
 * (*sig says which). */
static enum outcome
main_server_key(const char *pub, const sigset_t *set, int *sig)
{
    struct timespec until, now, pause = {1, 0};
    enum outcome rc;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += config->db_wait;
    for (;;) {
        struct db *db = NULL;

        if ((rc = db_connect(config->database_url, &db)) == OK)
            rc = db_audit_server_key(db, pub);
        db_disconnect(db);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (rc != ERR_UNAVAILABLE || now.tv_sec >= until.tv_sec)
            return rc;
        log_info("waiting for the database (up to %lld s more)",
                 (long long)(until.tv_sec - now.tv_sec));
        if (pause.tv_sec > until.tv_sec - now.tv_sec)
            pause.tv_sec = until.tv_sec - now.tv_sec;
        if ((*sig = sigtimedwait(set, NULL, &pause)) > 0)
            return ERR_UNAVAILABLE;
        *sig = 0;
        pause.tv_sec = pause.tv_sec * 2 > 5 ? 5 : pause.tv_sec * 2;
    }
}

static int
main_serve(void)
{
    struct db_pool *pool = NULL;
    struct app app = {0};
    struct http_server *srv = NULL;
    struct chain *chain = NULL;
    struct deliver *deliver = NULL;
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

    /* one server key per installation: refuse to sign with another */
    if (sec_key_load(config->server_key_file, pub, secret) != OK)
        goto out;
    rc = main_server_key(pub, &set, &sig);
    if (sig != 0) {
        log_info("stopping on signal %d before the database could be reached", sig);
        status = 0;
        goto out;
    }
    if (rc == ERR_CONFLICT) {
        log_error("%s does not hold this installation's server key (its public half is in "
                  "the server_key table): refusing to start",
                  config->server_key_file);
        goto out;
    }
    if (rc != OK) {
        log_error("cannot record the server key: is the database migrated and reachable?");
        goto out;
    }
    if (db_pool_open(config->database_url, config->db_pool, &pool) != OK ||
        chain_start(config->database_url, secret, &chain) != OK ||
        deliver_start(config->database_url, &deliver) != OK ||
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
    log_info("cabinet serving on %s (base URL %s, %d threads, %d database connections, "
             "%d gate waiters)",
             config->listen, config->base_url, config->threads, config->db_pool,
             config->gate_waiters);
    sigwait(&set, &sig);
    log_info("stopping on signal %d", sig);
    status = 0;
out:
    /* waiters answer what holds now, so that the workers end promptly */
    gate_waiters_stop(gate);
    http_server_stop(srv);
    db_listen_stop(listener);
    gate_waiters_free(gate);
    usage_stop(usage);
    deliver_stop(deliver);
    chain_stop(chain);
    db_pool_close(pool);
    sec_wipe(secret, sizeof secret);
    return status;
}

static int
main_migrate(void)
{
    struct db *db = NULL;
    int applied = 0;
    enum outcome rc;

    if ((rc = db_connect(config->database_url, &db)) == OK)
        rc = db_migrate_run(db, config->sql_dir, &applied);
    db_disconnect(db);
    if (rc != OK) {
        log_error("migration failed");
        return 1;
    }
    printf("%d migration%s applied\n", applied, applied == 1 ? "" : "s");
    return 0;
}

static int
main_seed(int argc, char **argv)
{
    struct db *db = NULL;
    enum outcome rc;

    if (argc != 3) {
        main_usage();
        return 2;
    }
    if ((rc = db_connect(config->database_url, &db)) == OK)
        rc = db_migrate_file(db, argv[2]);
    db_disconnect(db);
    return rc == OK ? 0 : 1;
}

/* Reads a password from the terminal without echo. */
static int
main_prompt(const char *prompt, char *buf, size_t size)
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

static int
main_user_add(int argc, char **argv)
{
    const char *email = NULL, *name = NULL, *roles = "";
    /* one byte more than allowed, so that a longer password is refused rather
     * than cut */
    char password[MAIN_PASSWORD_MAX + 2] = "", hash[SEC_PWHASH_LEN], bad[32];
    struct strbuf pgroles = STRBUF_INIT;
    struct db *db = NULL;
    json_t *doc = NULL;
    unsigned mask;
    size_t chars = 0;
    int i, status = 1;
    enum outcome rc;

    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--roles") == 0 && i + 1 < argc)
            roles = argv[++i];
        else if (email == NULL && argv[i][0] != '-')
            email = argv[i];
        else {
            main_usage();
            return 2;
        }
    }
    if (email == NULL || name == NULL) {
        main_usage();
        return 2;
    }
    if (!validate_email(email) || !validate_text(name, 1, 200)) {
        fprintf(stderr, "cabinet: give an e-mail address and a name of 1 to 200 characters\n");
        return 2;
    }
    if (!role_parse_list(roles, &mask, bad, sizeof bad)) {
        fprintf(stderr, "cabinet: unknown role \"%s\" (cab, ecab, manager, admin)\n", bad);
        return 2;
    }
    role_pg_array(mask, &pgroles);
    if (getenv("CABINET_PASSWORD") != NULL)
        snprintf(password, sizeof password, "%s", getenv("CABINET_PASSWORD"));
    else if (main_prompt("password: ", password, sizeof password) != 0) {
        fprintf(stderr, "cabinet: set CABINET_PASSWORD or run on a terminal\n");
        goto out;
    }
    if (strlen(password) > MAIN_PASSWORD_MAX) {
        fprintf(stderr, "cabinet: the password may have at most %d bytes\n", MAIN_PASSWORD_MAX);
        goto out;
    }
    if (!validate_utf8(password, &chars) || chars < MAIN_PASSWORD_MIN) {
        fprintf(stderr, "cabinet: the password needs at least %d characters\n", MAIN_PASSWORD_MIN);
        goto out;
    }
    if (sec_password_hash(password, hash) != OK || db_connect(config->database_url, &db) != OK)
        goto out;
    rc = db_user_create(db, "system", email, name, hash, strbuf_str(&pgroles), &doc);
    if (rc == ERR_CONFLICT) {
        fprintf(stderr, "cabinet: an account with the e-mail address %s exists\n", email);
        goto out;
    }
    if (rc != OK)
        goto out;
    json_dumpf(doc, stdout, JSON_COMPACT);
    putchar('\n');
    status = 0;
out:
    sec_wipe(password, sizeof password);
    sec_wipe(hash, sizeof hash);
    strbuf_free(&pgroles);
    json_decref(doc);
    db_disconnect(db);
    return status;
}

/* The value after flag in argv[from..], or NULL. */
static const char *
main_flag(int argc, char **argv, int from, const char *flag)
{
    int i;

    for (i = from; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return argv[i + 1];
    return NULL;
}

static int
main_keygen(int argc, char **argv)
{
    const char *path = main_flag(argc, argv, 2, "--key");
    char pub[SEC_ED_PUBLIC_B64], secret[SEC_ED_SECRET_B64];
    enum outcome rc;

    if (path == NULL)
        path = "cabinet-approver.key";
    sec_ed25519_keygen(pub, secret);
    rc = sec_key_write(path, secret);
    sec_wipe(secret, sizeof secret);
    if (rc == ERR_CONFLICT) {
        fprintf(stderr, "cabinet: %s exists; it is not overwritten\n", path);
        return 1;
    }
    if (rc != OK) {
        fprintf(stderr, "cabinet: cannot write %s\n", path);
        return 1;
    }
    printf("%s\n", pub);
    fprintf(stderr,
            "secret key written to %s (mode 0600); register the public key with "
            "POST /api/v1/me/keys\n",
            path);
    return 0;
}

static int
main_sign(int argc, char **argv)
{
    const char *path = main_flag(argc, argv, 2, "--key"), *ref = main_flag(argc, argv, 2, "--ref");
    const char *version = main_flag(argc, argv, 2, "--version");
    const char *hash = main_flag(argc, argv, 2, "--hash");
    const char *decision = main_flag(argc, argv, 2, "--decision");
    const char *at = main_flag(argc, argv, 2, "--signed-at");
    char secret[256], sig[SEC_ED_SIG_B64], now[TIMEFMT_LEN], *end = NULL;
    struct strbuf st = STRBUF_INIT;
    json_t *o;
    long long v;
    int status = 1;

    if (path == NULL || ref == NULL || version == NULL || hash == NULL || decision == NULL) {
        main_usage();
        return 2;
    }
    v = strtoll(version, &end, 10);
    if (*version == '\0' || *end != '\0' || v < 1 || strlen(hash) != 64 ||
        strspn(hash, "0123456789abcdef") != 64 ||
        (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
        fprintf(stderr, "cabinet: --version is a whole number, --hash 64 lowercase hex digits, "
                        "--decision approve or reject\n");
        return 2;
    }
    if (at == NULL) {
        timefmt_format((int64_t)time(NULL), now);
        at = now;
    } else if (!timefmt_is_normal(at)) {
        fprintf(stderr, "cabinet: --signed-at must be YYYY-MM-DDTHH:MM:SSZ\n");
        return 2;
    }
    if (sec_key_read(path, secret, sizeof secret) != OK) {
        fprintf(stderr, "cabinet: cannot read the key file %s\n", path);
        return 1;
    }
    statement_approval(&st, ref, v, hash, decision, at);
    if (!strbuf_failed(&st) && sec_ed25519_sign(secret, st.buf, st.len, sig) == OK) {
        o = json_pack("{s:s, s:s, s:s}", "signed_at", at, "signature", sig, "statement", st.buf);
        json_dumpf(o, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(o);
        status = 0;
    } else {
        fprintf(stderr, "cabinet: %s holds no Ed25519 secret key\n", path);
    }
    sec_wipe(secret, sizeof secret);
    strbuf_free(&st);
    return status;
}

static int
main_verify(int argc, char **argv)
{
    const char *bundle = main_flag(argc, argv, 2, "--bundle");
    struct db *db = NULL;
    int status;

    if (bundle != NULL)
        return verify_bundle(bundle, stdout);
    if (argc != 2) {
        main_usage();
        return 2;
    }
    if (db_connect(config->database_url, &db) != OK) {
        fprintf(stderr, "cabinet: cannot connect to the database\n");
        return 1;
    }
    status = verify_database(db, stdout);
    db_disconnect(db);
    return status;
}

int
main(int argc, char **argv)
{
    const char *cmd;
    int status = 2;

    if (config_load(&argc, argv) != 0)
        return 2;
    db_backoff_set(config->db_backoff_ms, config->db_backoff_max_ms);
    if (sec_init() != OK) {
        log_error("libsodium cannot start");
        config_free();
        return 1;
    }
    cmd = argc >= 2 ? argv[1] : "";
    if (strcmp(cmd, "serve") == 0 && argc == 2)
        status = main_serve();
    else if (strcmp(cmd, "migrate") == 0 && argc == 2)
        status = main_migrate();
    else if (strcmp(cmd, "seed") == 0)
        status = main_seed(argc, argv);
    else if (strcmp(cmd, "user") == 0 && argc >= 3 && strcmp(argv[2], "add") == 0)
        status = main_user_add(argc, argv);
    else if (strcmp(cmd, "keygen") == 0)
        status = main_keygen(argc, argv);
    else if (strcmp(cmd, "sign") == 0)
        status = main_sign(argc, argv);
    else if (strcmp(cmd, "verify") == 0)
        status = main_verify(argc, argv);
    else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
        main_usage();
        status = 0;
    } else
        main_usage();
    config_free();
    return status;
}
