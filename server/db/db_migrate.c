/*
 * The migrations runner. Relies on nothing but PostgreSQL itself: it makes
 * schema_migrations and applies sql/NNNN_*.sql (0001 onwards) over it, under
 * the session advisory lock pg_advisory_lock(1667326573).
 */
#include "db/db_migrate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "log.h"

/* hashtext('cabinet-migrate') would depend on the server; a fixed key is
 * simpler. "cabm" in ASCII. */
static const char SQL_LOCK[] = "SELECT pg_advisory_lock(1667326573)";
static const char SQL_UNLOCK[] = "SELECT pg_advisory_unlock(1667326573)";
static const char SQL_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                " version text PRIMARY KEY,"
                                " applied_at timestamptz NOT NULL DEFAULT now())";
static const char SQL_HAS_TABLE[] = "SELECT to_regclass('schema_migrations') IS NOT NULL";
static const char SQL_SEEN[] = "SELECT 1 FROM schema_migrations WHERE version = $1";
static const char SQL_RECORD[] = "INSERT INTO schema_migrations (version) VALUES ($1)";

static int
db_migrate_is_file(const char *name)
{
    size_t n = strlen(name);
    int i;

    if (n < 9 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
        return 0;
    for (i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

static int
db_migrate_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
db_migrate_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    (void)fclose(f); /* only read from */
    return buf;
}

/* Runs the whole text of a file; the caller holds the transaction. */
static enum outcome
db_migrate_exec(struct db *db, const char *path)
{
    char *sql = db_migrate_read(path);
    PGresult *res;
    enum outcome rc = OK;

    if (sql == NULL) {
        log_error("cannot read %s", path);
        return ERR_INTERNAL;
    }
    res = PQexec(db_conn(db), sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_error("%s: %s", path, PQresultErrorMessage(res));
        rc = PQstatus(db_conn(db)) == CONNECTION_OK ? ERR_INTERNAL : ERR_UNAVAILABLE;
    }
    PQclear(res);
    free(sql);
    return rc;
}

/* One file in a transaction, as a step of db_tx; version, when set, is
 * recorded in schema_migrations in the same transaction. */
struct db_migrate_tx {
    const char *path;
    const char *version;
};

static enum outcome
db_migrate_step(struct db *db, void *arg)
{
    const struct db_migrate_tx *t = arg;
    enum outcome rc;

    if ((rc = db_migrate_exec(db, t->path)) != OK || t->version == NULL)
        return rc;
    return db_exec(db, SQL_RECORD, 1, &t->version, NULL);
}

enum outcome
db_migrate_file(struct db *db, const char *path)
{
    struct db_migrate_tx t = {path, NULL};

    return db_tx(db, db_migrate_step, &t);
}

/* The migration files in dir, sorted: *names (n of them) for the caller
 * to free with db_migrate_names_free. */
static enum outcome
db_migrate_list(const char *dir, char ***names, size_t *n)
{
    size_t cap = 0;
    struct dirent *de;
    DIR *d;

    *names = NULL;
    *n = 0;
    if ((d = opendir(dir)) == NULL) {
        log_error("cannot open the migrations directory %s (CABINET_SQL_DIR)", dir);
        return ERR_INTERNAL;
    }
    while ((de = readdir(d)) != NULL) {
        if (!db_migrate_is_file(de->d_name))
            continue;
        if (*n == cap) {
            char **more = realloc(*names, (cap = cap ? cap * 2 : 16) * sizeof **names);
            if (more == NULL)
                break;
            *names = more;
        }
        if (((*names)[*n] = strdup(de->d_name)) == NULL)
            break;
        (*n)++;
    }
    closedir(d);
    if (*n > 0)
        qsort(*names, *n, sizeof **names, db_migrate_cmp);
    return OK;
}

static void
db_migrate_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

enum outcome
db_migrate_run(struct db *db, const char *dir, int *applied)
{
    char **names = NULL, path[4096], seen[8];
    struct db_migrate_tx t;
    size_t n = 0, i;
    enum outcome rc;
    int locked = 0;

    *applied = 0;
    if ((rc = db_migrate_list(dir, &names, &n)) != OK)
        return rc;
    if ((rc = db_exec(db, SQL_LOCK, 0, NULL, NULL)) != OK)
        goto out;
    locked = 1;
    if ((rc = db_exec(db, SQL_TABLE, 0, NULL, NULL)) != OK)
        goto out;
    for (i = 0; i < n; i++) {
        const char *version = names[i];

        rc = db_text(db, SQL_SEEN, 1, &version, seen, sizeof seen);
        if (rc == OK)
            continue;
        if (rc != ERR_NOT_FOUND)
            goto out;
        /* a cut path could name another file than the one recorded */
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) {
            log_error("the path of %s in %s is too long", names[i], dir);
            rc = ERR_INTERNAL;
            goto out;
        }
        t.path = path;
        t.version = version;
        if ((rc = db_tx(db, db_migrate_step, &t)) != OK)
            goto out;
        log_info("applied %s", names[i]);
        (*applied)++;
    }
    rc = OK;
out:
    if (locked)
        (void)db_exec(db, SQL_UNLOCK, 0, NULL, NULL);
    db_migrate_names_free(names, n);
    return rc;
}

enum outcome
db_migrate_pending(struct db *db, const char *dir, int *pending, char *first, size_t size)
{
    char **names = NULL, seen[8];
    size_t n = 0, i;
    enum outcome rc;

    *pending = 0;
    first[0] = '\0';
    if ((rc = db_text(db, SQL_HAS_TABLE, 0, NULL, seen, sizeof seen)) != OK)
        return rc;
    if (strcmp(seen, "t") != 0)
        return ERR_NOT_FOUND;
    if ((rc = db_migrate_list(dir, &names, &n)) != OK)
        return rc;
    for (i = 0; i < n; i++) {
        const char *version = names[i];

        if ((rc = db_text(db, SQL_SEEN, 1, &version, seen, sizeof seen)) == OK)
            continue;
        if (rc != ERR_NOT_FOUND)
            break;
        if ((*pending)++ == 0)
            snprintf(first, size, "%s", version);
        rc = OK;
    }
    db_migrate_names_free(names, n);
    return rc;
}
