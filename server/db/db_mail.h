/*
 * E-mail notifications (0027): the relay's heartbeat, the fan-out of mail
 * events to their recipients, the mail workers' claims and results, and
 * each user's choice of what to hear. Thread-safe per connection.
 */
#ifndef CABINET_DB_MAIL_H
#define CABINET_DB_MAIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Records that an instance that sends mail is here: from now on (and for a
 * day after the last call) the writes record what mail should tell. */
enum outcome db_mail_seen(struct db *db);
/* Fans out up to limit mail events to their recipients; *n how many. */
enum outcome db_mail_fan_out(struct db *db, int limit, int *n);

/* Claims the mail due first, if any: its attempt is counted and it is not
 * due again for lease seconds (so that a sender that dies mid-attempt
 * leaves it to be sent again). *out: {"id","attempts","kind","message_id",
 * "wanted","to":{"email","name"},"change":{...},"facts":{...},
 * "approver"}; ERR_NOT_FOUND when nothing is due. */
enum outcome db_mail_claim(struct db *db, int lease, json_t **out);
/* The outcome of an attempt: sent; or failed with error, pending again
 * after delay seconds unless dead (a permanent refusal) or older than
 * give_up seconds. *dead_out (may be NULL): whether it is now dead. */
enum outcome db_mail_sent(struct db *db, int64_t id);
enum outcome db_mail_failed(struct db *db, int64_t id, const char *error, bool permanent, int delay,
                            int give_up, bool *dead_out);
/* Not sent, for why: the recipient switched it off or left. */
enum outcome db_mail_skip(struct db *db, int64_t id, const char *why);
/* Deletes up to limit mails no longer pending, older than days. */
enum outcome db_mail_prune(struct db *db, int days, int limit, int *n);

/* {"awaiting_approval": bool, "decision": bool, "conflict": bool} of a
 * user: what they hear. */
enum outcome db_mail_preferences(struct db *db, int64_t user_id, json_t **out);
/* Sets what a user hears: off, a PostgreSQL array literal of kinds. */
enum outcome db_mail_set_preferences(struct db *db, int64_t user_id, const char *off, json_t **out);

#endif
