/*
 * Token use, recorded off the request path: authenticating a request with
 * an API token never writes. When a token's last_used_at is more than a
 * minute old the request notes the token here (a mutex and a small set);
 * a thread of its own writes the noted tokens every few seconds on its own
 * connection, so each token is written at most about once a minute however
 * many clients share it. usage_note is safe from any thread.
 */
#ifndef CABINET_USAGE_H
#define CABINET_USAGE_H

#include <stdint.h>

#include "domain/outcome.h"

struct usage;

/* Starts the writer thread on url; *out is freed by usage_stop. */
enum outcome usage_start(const char *url, struct usage **out);
/* Writes what is still noted, stops the thread and frees u; NULL-safe. */
void usage_stop(struct usage *u);
/* Notes that the token was used now (arg is the struct usage). A token
 * noted already is noted once; past the set's capacity a note is dropped
 * (the next use notes it again). */
void usage_note(void *arg, int64_t token_id);

#endif
