/*
 * The mail workers (README "E-mail notifications"): when CABINET_SMTP_URL
 * is set, they keep the database's mail_relay heartbeat (so that writes
 * record what mail should tell), fan mail events out to their recipients,
 * and send each mail through SMTP with libcurl (smtps://, or smtp:// with
 * STARTTLS unless CABINET_SMTP_TLS=off; certificates and host names
 * verified), retrying with the webhooks' backoff (CABINET_WEBHOOK_RETRY_BASE,
 * doubling up to an hour) until CABINET_WEBHOOK_GIVE_UP, then marking them
 * dead; a permanent refusal (an SMTP 5xx to the recipient or to the
 * message) is dead at once, one to AUTH or MAIL FROM waits for the settings. Mails are
 * claimed with SKIP LOCKED and leased, so any number of instances may send:
 * a sender that dies leaves its mail to be sent again (at least once; a
 * copy carries the same Message-ID).
 */
#ifndef CABINET_MAIL_H
#define CABINET_MAIL_H

#include <stddef.h>

#include "domain/outcome.h"

struct mail;

/* Starts the workers on url when CABINET_SMTP_URL is set (*out stays NULL
 * when it is not), after a first heartbeat; call on the main thread after
 * deliver_start. The caller stops them with mail_stop. */
enum outcome mail_start(const char *url, struct mail **out);
/* Tells the workers to stop once the mail under way is done. NULL-safe. */
void mail_drain(struct mail *m);
/* How many workers are still at work. */
int mail_busy(struct mail *m);
/* Stops them and frees m; NULL-safe. */
void mail_stop(struct mail *m);

/* Sends one test message to an address (cabinet mail test), through the
 * settings serve would use; on failure, why in error. Call on the main
 * thread with no workers running. */
enum outcome mail_send_test(const char *to, char *error, size_t esize);

#endif
