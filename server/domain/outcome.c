#include "domain/outcome.h"

const char *
outcome_name(enum outcome rc)
{
    switch (rc) {
    case OK: return "ok";
    case ERR_MALFORMED: return "malformed";
    case ERR_UNAUTHENTICATED: return "unauthenticated";
    case ERR_FORBIDDEN: return "forbidden";
    case ERR_NOT_FOUND: return "not-found";
    case ERR_METHOD: return "method-not-allowed";
    case ERR_CONFLICT: return "conflict";
    case ERR_PRECONDITION: return "precondition-failed";
    case ERR_TOO_LARGE: return "too-large";
    case ERR_MEDIA_TYPE: return "unsupported-media-type";
    case ERR_INVALID: return "invalid-fields";
    case ERR_TOO_MANY: return "too-many-requests";
    case ERR_UNAVAILABLE: return "unavailable";
    case ERR_INTERNAL:
    case ERR_RETRY: return "internal";
    }
    return "internal";
}
