/*
 * The delivery worker: sends the outbox's events to their subscriptions over
 * HTTP(S) with libcurl (certificates and host names verified), signed as
 * Standard Webhooks or shaped for chat, retrying with exponential backoff
 * until CABINET_WEBHOOK_GIVE_UP, then marking them dead. Claims are leased
 * rows taken with FOR UPDATE SKIP LOCKED, so any number of instances may
 * run it; a crash between commit and send only delays a delivery (at least
 * once). Runs on a thread of its own with its own connection.
 */
#ifndef CABINET_DELIVER_H
#define CABINET_DELIVER_H

#include <jansson.h>

#include "domain/outcome.h"
#include "domain/strbuf.h"

struct deliver;

/* Starts the worker on url; call once, on the main thread, before others. */
enum outcome deliver_start(const char *url, struct deliver **out);
/* Stops it after the attempt under way; NULL-safe. */
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
