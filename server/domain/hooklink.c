#include "domain/hooklink.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum hooklink_ts
hooklink_timestamp(const char *s, int64_t now, long long *ts)
{
    long long v = 0;
    size_t i, n = s ? strlen(s) : 0;

    if (n == 0 || n > 15 || (n > 1 && s[0] == '0'))
        return HOOKLINK_TS_MALFORMED;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return HOOKLINK_TS_MALFORMED;
        v = v * 10 + (s[i] - '0');
    }
    *ts = v;
    if (v < (long long)now - HOOKLINK_TOLERANCE_S || v > (long long)now + HOOKLINK_TOLERANCE_S)
        return HOOKLINK_TS_SKEWED;
    return HOOKLINK_TS_OK;
}

/* The 40 hex digits at s (exactly n characters), lowercased. */
static bool
hooklink_hex40(const char *s, size_t n, char out[HOOKLINK_SHA_LEN])
{
    size_t i;

    if (n != HOOKLINK_SHA_LEN - 1)
        return false;
    for (i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return false;
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    out[n] = '\0';
    return true;
}

bool
hooklink_sha(const char *sha, char out[HOOKLINK_SHA_LEN])
{
    return sha != NULL && hooklink_hex40(sha, strlen(sha), out);
}

bool
hooklink_commit_url_sha(const char *url, char out[HOOKLINK_SHA_LEN])
{
    size_t n;
    const char *end, *slash;

    if (url == NULL)
        return false; /* no arithmetic on NULL, not even NULL + 0 */
    n = strlen(url);
    if (n > 0 && url[n - 1] == '/')
        n--;
    end = url + n;
    for (slash = end; slash > url && slash[-1] != '/'; slash--)
        ;
    if (slash == url || (size_t)(end - slash) != HOOKLINK_SHA_LEN - 1)
        return false;
    return hooklink_hex40(slash, (size_t)(end - slash), out);
}

bool
hooklink_external_ref(const char *tool, const char *project, const char *environment,
                      const char *sha, char *out, size_t size)
{
    int w = snprintf(out, size, "%s:%s:%s:%s", tool, project, environment, sha);

    return w > 0 && (size_t)w < size && w <= CHANGE_EXTERNAL_REF_MAX;
}

bool
hooklink_gitlab_time(const char *s, char out[TIMEFMT_LEN])
{
    char iso[40];
    size_t n = s ? strlen(s) : 0;

    /* "YYYY-MM-DD HH:MM:SS" then " +HHMM", " -HHMM" or " UTC" */
    if (n < 23 || n > 25 || s[10] != ' ' || s[19] != ' ')
        return false;
    if (strcmp(s + 20, "UTC") == 0)
        snprintf(iso, sizeof iso, "%.10sT%.8sZ", s, s + 11);
    else if (n == 25 && (s[20] == '+' || s[20] == '-'))
        snprintf(iso, sizeof iso, "%.10sT%.8s%c%.2s:%.2s", s, s + 11, s[20], s + 21, s + 23);
    else
        return false;
    return timefmt_normalize(iso, out) == OK;
}

void
hooklink_clip(char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
}

/* The lifecycle's own move for action on a change in state with flags. */
static enum outcome
hooklink_lifecycle(const struct change *c, enum change_state state, unsigned flags,
                   enum change_action action, enum change_outcome outcome, struct hooklink_move *m,
                   char *why, size_t size)
{
    struct lifecycle_in in = {.state = state,
                              .action = action,
                              .kind = c->kind,
                              .is_owner = true,
                              .unauthorized = (flags & CHANGE_UNAUTHORIZED) != 0,
                              .level = c->level[0] ? c->level : NULL,
                              .outcome = outcome};
    struct lifecycle_out out;
    enum outcome rc;

    if ((rc = lifecycle_apply(&in, &out, why, size)) != OK)
        return rc;
    *m = (struct hooklink_move){action, state, out.next, false, flags, outcome};
    return OK;
}

enum outcome
hooklink_plan(const struct change *c, enum hooklink_report report, enum change_outcome outcome,
              struct hooklink_move moves[2], int *n, char *why, size_t size)
{
    enum change_state state = c->state;
    unsigned flags = c->flags;
    enum outcome rc;

    *n = 0;
    why[0] = '\0';
    switch (state) {
    case STATE_REJECTED:
    case STATE_CANCELLED:
        snprintf(why, size, "the change is %s: a deployment of it cannot be recorded",
                 lifecycle_state_name(state));
        return ERR_CONFLICT;
    case STATE_REVIEW:
    case STATE_CLOSED: return OK; /* it started and finished already */
    case STATE_APPROVED:
        if ((rc = hooklink_lifecycle(c, state, flags, ACTION_START, OUTCOME_NONE, &moves[*n], why,
                                     size)) != OK)
            return rc;
        (*n)++;
        break;
    case STATE_DRAFT:
    case STATE_AWAITING_APPROVAL:
        /* started without the approval it needed: recorded, and flagged */
        flags |= CHANGE_UNAUTHORIZED;
        moves[(*n)++] = (struct hooklink_move){ACTION_START, state, STATE_IN_PROGRESS,
                                               true,         flags, OUTCOME_NONE};
        break;
    case STATE_IN_PROGRESS:
    case STATE_COUNT: break;
    }
    if (report == HOOKLINK_START)
        return OK;
    if ((rc = hooklink_lifecycle(c, STATE_IN_PROGRESS, flags, ACTION_COMPLETE, outcome, &moves[*n],
                                 why, size)) != OK)
        return rc;
    (*n)++;
    return OK;
}
