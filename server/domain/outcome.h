/*
 * The outcomes every fallible function in Cabinet returns. Results travel in
 * out-parameters. http/ maps each outcome to one HTTP status and problem type.
 * Pure and thread-safe.
 */
#ifndef CABINET_OUTCOME_H
#define CABINET_OUTCOME_H

enum outcome {
    OK = 0,
    ERR_MALFORMED,       /* 400: the request cannot be read */
    ERR_UNAUTHENTICATED, /* 401 */
    ERR_FORBIDDEN,       /* 403 */
    ERR_NOT_FOUND,       /* 404 */
    ERR_METHOD,          /* 405 */
    ERR_CONFLICT,        /* 409: state or uniqueness */
    ERR_PRECONDITION,    /* 412: stale If-Match */
    ERR_TOO_LARGE,       /* 413 */
    ERR_MEDIA_TYPE,      /* 415 */
    ERR_INVALID,         /* 422: fields at fault */
    ERR_TOO_MANY,        /* 429 */
    ERR_UNAVAILABLE,     /* 503: database away, or overloaded */
    ERR_INTERNAL,        /* 500 */
    ERR_RETRY,           /* serialization failure: run the transaction again */
};

/* The outcome's short name, e.g. "not-found"; a static string. */
const char *outcome_name(enum outcome rc);

#endif
