/*
 * The delivery workers: send the outbox's events to their subscriptions over
 * HTTP(S) with libcurl (certificates and host names verified), signed as
 * Standard Webhooks or shaped for chat, retrying with exponential backoff
 * until CABINET_WEBHOOK_GIVE_UP, then marking them dead.
 * CABINET_DELIVERY_WORKERS threads, each with a connection of its own, send
 * to different subscriptions at once; one subscription's deliveries are a
 * lane (db/db_webhook.h), sent one at a time, in order, by whichever worker
 * of whichever instance holds the lane's lock, so that any number of
 * instances may run them. A sender that dies lets its lane go with its
 * connection, and the delivery is sent again (at least once).
 */
#ifndef CABINET_DELIVER_H
#define CABINET_DELIVER_H

#include <jansson.h>

#include "domain/outcome.h"
#include "domain/strbuf.h"

struct deliver;

/* Starts the workers on url; call once, on the main thread, before others.
 * ERR_INVALID when CABINET_WEBHOOK_CA_FILE cannot be read. The caller stops
 * them with deliver_stop. */
enum outcome deliver_start(const char *url, struct deliver **out);
/* Tells the workers to stop once the attempt under way is done: no new
 * delivery is claimed from now on. Returns at once; NULL-safe. */
void deliver_drain(struct deliver *d);
/* How many workers are still at work (after deliver_drain: how many
 * attempts are still under way). */
int deliver_busy(struct deliver *d);
/* Stops them, each after the attempt under way, and frees d; NULL-safe. */
void deliver_stop(struct deliver *d);

/* NULL when url may be subscribed to, else why not (a phrase for the `url`
 * field, in why): an http(s) URL with a host that is not an address where
 * no receiver may be (domain/netaddr.h). Host names are judged again at
 * every delivery, once resolved. */
const char *deliver_check_url(const char *url, char *why, size_t size);

/* The body sent for an event: standard {type, timestamp, data} or chat
 * {text}; appended to sb. */
void deliver_body(const json_t *event, const char *format, struct strbuf *sb);

#endif
