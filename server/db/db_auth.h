/*
 * Who is calling: sessions (the browser's cookie) and API tokens, looked up
 * by the SHA-256 of the secret the client holds; and the login throttle.
 * Thread-safe per connection.
 */
#ifndef CABINET_DB_AUTH_H
#define CABINET_DB_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

struct db_principal {
    int64_t user_id;
    char email[256];
    char name[256];
    char roles[128];    /* comma-separated granted roles */
    int64_t session_id; /* 0 for a token */
    int64_t token_id;   /* 0 for a session */
    char csrf[64];      /* sessions only */
    char scope[8];      /* tokens only: full | feed */
    bool use_stale;     /* tokens only: last used over a minute ago (or never) */
};

/* The live session whose token hashes to hash_hex, for an enabled user;
 * ERR_NOT_FOUND otherwise. */
enum outcome db_auth_session(struct db *db, const char *hash_hex, struct db_principal *out);
/* Likewise for an unrevoked API token; a read only: use_stale says whether
 * its use should be recorded (db_auth_tokens_used, off the request path). */
enum outcome db_auth_token(struct db *db, const char *hash_hex, struct db_principal *out);
/* Records now as the last use of each of the n tokens whose last use is
 * over a minute old. */
enum outcome db_auth_tokens_used(struct db *db, const int64_t *ids, int n);
/* Notes that token_id was used from addr; *fresh says whether it never
 * was before (the first use of a token is from a new address too). */
enum outcome db_auth_token_address(struct db *db, int64_t token_id, const char *addr, bool *fresh);

/* For a login attempt on email from the client address addr:
 * *retry_after is 0 when the attempt may go on, else the seconds this
 * address must still wait (after five failures in 15 min: 1 s, doubling
 * with each further failure, at most 900 s). Other addresses are not
 * affected. */
enum outcome db_auth_throttle(struct db *db, const char *email, const char *addr, int *retry_after);
/* Records the audit entry of an attempt refused by the throttle. */
enum outcome db_auth_throttled(struct db *db, const char *email, const char *addr, int retry_after);
/* Records a failed login for email from addr (and the audit entry). */
enum outcome db_auth_failed(struct db *db, const char *email, const char *addr);
/* The id, password hash and disabled flag of the account with this e-mail
 * (any case); ERR_NOT_FOUND when none. */
enum outcome db_auth_account(struct db *db, const char *email, int64_t *user_id, char *hash,
                             size_t hash_size, bool *disabled);
/* Makes a session for user_id and returns {user, csrf_token} in *out (new
 * reference); clears the failed logins of the account from addr; audit
 * entry "session.login". */
enum outcome db_auth_login(struct db *db, int64_t user_id, const char *addr, const char *hash_hex,
                           const char *csrf, int hours, json_t **out);
/* Sets user_id's password hash, ends every session of the user but keep
 * (0: all), clears the account's failed logins; audit entry
 * "user.password_changed". */
enum outcome db_auth_set_password(struct db *db, int64_t user_id, const char *hash, int64_t keep);
/* Ends the session (audit entry "session.logout"). */
enum outcome db_auth_logout(struct db *db, int64_t session_id, int64_t user_id);

#endif
