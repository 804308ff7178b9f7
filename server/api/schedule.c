/* The forward schedule: conflicts and their acknowledgement, the schedule
 * and the CAB agenda, the iCalendar feed, free slots, and what changed
 * recently around a service. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/decode.h"
#include "config.h"
#include "db/db_auth.h"
#include "db/db_change.h"
#include "db/db_schedule.h"
#include "db/db_service.h"
#include "domain/decision.h"
#include "domain/ical.h"
#include "domain/role.h"
#include "domain/slots.h"
#include "domain/validate.h"
#include "domain/wincursor.h"
#include "sec/sec.h"

#define SCHEDULE_MAX_DAYS 400
#define SCHEDULE_SLOT_HORIZON ((int64_t)90 * 86400)
#define SCHEDULE_MAX_DURATION ((int64_t)30 * 86400)
/* The schedule's and the agenda's pages: as every list's */
#define SCHEDULE_PAGE_DEFAULT 50
#define SCHEDULE_PAGE_MAX 200
/* What an IANA zone name is written with ("America/Argentina/Buenos_Aires",
 * "Etc/GMT+3") */
#define SCHEDULE_ZONE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-"
#define SCHEDULE_ZONE_MAX 64

/* The period of from/to (RFC 3339), defaulting to now - before .. now +
 * after seconds; a field error for a bad or too long one. */
static void
schedule_period(struct http_ctx *ctx, int64_t before, int64_t after, char from[TIMEFMT_LEN],
                char to[TIMEFMT_LEN])
{
    int64_t now = (int64_t)time(NULL), f, t;
    char buf[64];

    timefmt_format(now - before, from);
    timefmt_format(now + after, to);
    if (http_query(ctx, "from", buf, sizeof buf) != 0 && timefmt_normalize(buf, from) != OK)
        http_field(ctx, "from", "must be an RFC 3339 date-time");
    if (http_query(ctx, "to", buf, sizeof buf) != 0 && timefmt_normalize(buf, to) != OK)
        http_field(ctx, "to", "must be an RFC 3339 date-time");
    if (ctx->fe.n == 0 && timefmt_parse(from, &f) == OK && timefmt_parse(to, &t) == OK) {
        if (t <= f)
            http_field(ctx, "to", "must be after from");
        else if (t - f > (int64_t)SCHEDULE_MAX_DAYS * 86400)
            http_field(ctx, "to", "the period may span at most %d days", SCHEDULE_MAX_DAYS);
    }
}

/* Renders change rows into change documents; steals rows. */
static json_t *
schedule_changes(json_t *rows)
{
    json_t *items = json_array();
    size_t i;

    for (i = 0; items != NULL && i < json_array_size(rows); i++)
        json_array_append_new(items, api_change_render(json_array_get(rows, i)));
    json_decref(rows);
    return items;
}

/* change= (an id or CHG-ref) and kind= of GET /conflicts, each a field
 * error when it is not one. */
static void
conflicts_filters(struct http_ctx *ctx, int64_t *change, char kind[16], const char **k)
{
    char buf[32];
    int got;

    *change = 0;
    *k = NULL;
    if ((got = http_query(ctx, "change", buf, sizeof buf)) != 0 &&
        (got < 0 || !decode_id(buf, "CHG-", change)))
        http_field(ctx, "change", "must be a change id or reference (42 or CHG-42)");
    if ((got = http_query(ctx, "kind", kind, 16)) != 0) {
        if (got < 0 || (strcmp(kind, "change") != 0 && strcmp(kind, "freeze") != 0))
            http_field(ctx, "kind", "must be change or freeze");
        *k = kind;
    }
}

enum outcome
api_conflicts_list(struct http_ctx *ctx)
{
    char cursor[32], open[16], kind[16];
    const char *o = NULL, *k;
    int64_t after = 0, change;
    json_t *items = NULL;
    enum outcome rc;
    int limit;

    if ((rc = http_paging(ctx, "conflicts", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if (http_query(ctx, "open", open, sizeof open) != 0) {
        if (strcmp(open, "true") != 0 && strcmp(open, "false") != 0)
            return http_fail(ctx, ERR_MALFORMED, "open must be true or false");
        o = open;
    }
    conflicts_filters(ctx, &change, kind, &k);
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    rc = db_schedule_conflicts(ctx->db, o, k, change, after, limit + 1, &items);
    if (rc == ERR_NOT_FOUND) {
        http_field(ctx, "change", "no change is CHG-%lld", (long long)change);
        return http_fields_ok(ctx);
    }
    if (rc != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "conflicts", "id"));
    return OK;
}

/* The conflicts of one change in full, seen from it, by id: paged and
 * filtered as GET /conflicts. An id that names no change is 404. */
enum outcome
api_changes_conflicts(struct http_ctx *ctx)
{
    char cursor[32], open[16];
    const char *o = NULL;
    int64_t id, after = 0;
    json_t *items = NULL;
    enum outcome rc;
    int limit, given;

    if (!decode_id(http_param(ctx, 0), "CHG-", &id))
        return http_fail(ctx, ERR_NOT_FOUND, "no such change: %s", http_param(ctx, 0));
    if ((rc = http_paging(ctx, "change-conflicts", &limit, cursor, sizeof cursor)) != OK)
        return rc;
    if (cursor[0] && !decode_id(cursor, NULL, &after))
        return http_fail(ctx, ERR_MALFORMED, "the cursor is not one this server made");
    if ((given = http_query(ctx, "open", open, sizeof open)) != 0) {
        if (given < 0 || (strcmp(open, "true") != 0 && strcmp(open, "false") != 0))
            return http_fail(ctx, ERR_MALFORMED, "open must be true or false");
        o = open;
    }
    rc = db_schedule_change_conflicts(ctx->db, id, o, after, limit + 1, &items);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, rc, "no such change: %s", http_param(ctx, 0));
    if (rc != OK)
        return rc;
    http_reply(ctx, 200, http_page(items, limit, "change-conflicts", "id"));
    return OK;
}

/* An acknowledgement as a request gives it. */
struct schedule_ack_body {
    const char *note;
};
static const struct decode_field schedule_ack_fields[] = {
    {"note", DECODE_TEXT, offsetof(struct schedule_ack_body, note), true, 1, 10000, NULL,
     "why the conflict is acceptable"},
};

/* decision_acknowledge, its refusal recorded for the reply. */
static enum outcome
schedule_ack_may(struct http_ctx *ctx, const struct conflict *k, bool body_checked)
{
    struct decision_actor who = {ctx->user.id, ctx->user.roles};
    char why[160];
    enum outcome rc = decision_acknowledge(k, &who, body_checked, why, sizeof why);

    return rc == OK ? OK : http_fail(ctx, rc, "%s", why);
}

enum outcome
api_conflicts_acknowledge(struct http_ctx *ctx)
{
    struct schedule_ack_body b = {0};
    struct conflict k;
    json_t *body = NULL, *doc = NULL;
    int64_t id;
    enum outcome rc;

    if (!decode_id(http_param(ctx, 0), NULL, &id) ||
        (rc = db_schedule_conflict(ctx->db, id, &k)) == ERR_NOT_FOUND) {
        rc = http_fail(ctx, ERR_NOT_FOUND, "no such conflict");
        goto out;
    }
    if (rc != OK)
        goto out;
    if ((rc = schedule_ack_may(ctx, &k, false)) != OK ||
        (rc = http_body(ctx, false, &body)) != OK ||
        (rc = decode_body(ctx, body, schedule_ack_fields, DECODE_NFIELDS(schedule_ack_fields), &b,
                          NULL)) != OK ||
        (rc = schedule_ack_may(ctx, &k, true)) != OK)
        goto out;
    rc = db_schedule_acknowledge(ctx->db, http_actor(ctx), id, ctx->user.id, b.note);
    if (rc == ERR_CONFLICT)
        rc = http_fail(ctx, rc, "the conflict changed meanwhile: read it again");
    if (rc == OK && (rc = db_schedule_conflict_doc(ctx->db, id, &doc)) == OK) {
        http_reply(ctx, 200, doc);
        doc = NULL;
    }
out:
    json_decref(body);
    return rc;
}

/* limit (1..200, default 50) and cursor (one this list made, tagged tag)
 * of a list in window order, each fault a field error. */
static void
schedule_paging(struct http_ctx *ctx, char tag, struct db_win_page *q)
{
    char buf[64], *end;
    long n;

    q->limit = SCHEDULE_PAGE_DEFAULT;
    switch (http_query(ctx, "limit", buf, sizeof buf)) {
    case 0: break;
    case 1:
        n = strtol(buf, &end, 10);
        if (*buf != '\0' && *end == '\0' && n >= 1 && n <= SCHEDULE_PAGE_MAX) {
            q->limit = (int)n;
            break;
        }
        /* fall through */
    default: http_field(ctx, "limit", "must be a whole number from 1 to %d", SCHEDULE_PAGE_MAX);
    }
    if (http_query(ctx, "cursor", buf, sizeof buf) != 0 &&
        !wincursor_decode(buf, tag, &q->after_start, &q->after_id))
        http_field(ctx, "cursor", "is not a cursor this list gave");
}

/* The page's next_cursor: the last row's position when more follow. */
static json_t *
schedule_next(char tag, const struct db_win_page *q)
{
    char cursor[WINCURSOR_LEN];

    if (!q->more)
        return json_null();
    wincursor_encode(tag, q->last_start, q->last_id, cursor);
    return json_string(cursor);
}

/* service= of the schedule: a service name, or "" when not given. */
static void
schedule_service(struct http_ctx *ctx, char *service, size_t size)
{
    int got = http_query(ctx, "service", service, size);

    if (got != 1)
        service[0] = '\0';
    if (got < 0 || (got == 1 && !validate_slug(service)))
        http_field(ctx, "service", "must be a service name");
}

/* Whether name is written as an IANA time zone: "UTC", or parts between
 * slashes ("Europe/London", "America/Argentina/Buenos_Aires", "Etc/GMT+3"),
 * each beginning with a letter. An abbreviation ("BST") or a POSIX rule
 * ("EST5EDT,M3.2.0,M11.1.0"), which PostgreSQL would also read, is not. */
static bool
schedule_zone_name(const char *name)
{
    const char *p = name;
    int parts = 0;

    if (strcmp(name, "UTC") == 0)
        return true;
    if (strspn(name, SCHEDULE_ZONE_CHARS) != strlen(name))
        return false;
    for (;;) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return false;
        parts++;
        p += strcspn(p, "/");
        if (*p == '\0')
            return parts >= 2;
        p++;
    }
}

/* group= (only "day") and tz= (an IANA zone name, UTC by default, only
 * with group=day); true when the schedule is grouped by day. A day has no
 * cursor, so limit and cursor do not go with it. */
static bool
schedule_group(struct http_ctx *ctx, char *zone, size_t size)
{
    char group[16];
    int got = http_query(ctx, "group", group, sizeof group), tz;
    bool by_day = got == 1 && strcmp(group, "day") == 0;

    if (got != 0 && !by_day)
        http_field(ctx, "group", "must be day");
    if ((tz = http_query(ctx, "tz", zone, size)) == 0)
        snprintf(zone, size, "UTC");
    if (tz != 0 && !by_day && got == 0)
        http_field(ctx, "tz", "applies only with group=day");
    else if (tz < 0 || (tz == 1 && !schedule_zone_name(zone)))
        http_field(ctx, "tz", "must be an IANA time zone name such as Europe/London");
    if (by_day && http_query(ctx, "cursor", group, sizeof group) != 0)
        http_field(ctx, "cursor", "does not go with group=day, which lists no changes");
    if (by_day && http_query(ctx, "limit", group, sizeof group) != 0)
        http_field(ctx, "limit", "does not go with group=day, which lists no changes");
    return by_day;
}

/* The schedule grouped by local day: {from, to, tz, days, freezes}. */
static enum outcome
schedule_days(struct http_ctx *ctx, const char *from, const char *to, const char *zone,
              const char *service)
{
    json_t *days = NULL, *freezes = NULL;
    enum outcome rc = db_schedule_days(ctx->db, from, to, zone, service, &days);

    if (rc == ERR_INVALID)
        http_field(ctx, "tz", "no time zone is named %s", zone);
    else if (rc == ERR_NOT_FOUND)
        http_field(ctx, "service", "no service is named %s", service);
    if (rc == ERR_INVALID || rc == ERR_NOT_FOUND)
        return http_fields_ok(ctx);
    if (rc != OK || (rc = db_schedule_freezes(ctx->db, from, to, service, &freezes)) != OK) {
        json_decref(days);
        return rc;
    }
    http_reply(ctx, 200,
               json_pack("{s:s, s:s, s:s, s:o, s:o}", "from", from, "to", to, "tz", zone, "days",
                         days, "freezes", freezes));
    return OK;
}

enum outcome
api_schedule(struct http_ctx *ctx)
{
    char from[TIMEFMT_LEN], to[TIMEFMT_LEN], service[80], zone[SCHEDULE_ZONE_MAX];
    struct db_win_page q = {0};
    json_t *freezes = NULL;
    const char *svc;
    enum outcome rc;
    bool by_day;

    schedule_period(ctx, (int64_t)7 * 86400, (int64_t)30 * 86400, from, to);
    schedule_service(ctx, service, sizeof service);
    if (!(by_day = schedule_group(ctx, zone, sizeof zone)))
        schedule_paging(ctx, 's', &q);
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    svc = service[0] ? service : NULL;
    if (by_day)
        return schedule_days(ctx, from, to, zone, svc);
    q.from = from;
    q.to = to;
    if ((rc = db_schedule_page(ctx->db, svc, &q)) == ERR_NOT_FOUND) {
        http_field(ctx, "service", "no service is named %s", service);
        return http_fields_ok(ctx);
    }
    if (rc != OK || (rc = db_schedule_freezes(ctx->db, from, to, svc, &freezes)) != OK) {
        json_decref(q.items);
        return rc;
    }
    http_reply(ctx, 200,
               json_pack("{s:s, s:s, s:o, s:o, s:o}", "from", from, "to", to, "changes", q.items,
                         "freezes", freezes, "next_cursor", schedule_next('s', &q)));
    return OK;
}

/* The agenda's bounds: each is "" unless given. A bound given must be an
 * RFC 3339 date-time; with both, to is after from, at most the schedule's
 * longest period later. */
static void
agenda_period(struct http_ctx *ctx, char from[TIMEFMT_LEN], char to[TIMEFMT_LEN])
{
    char buf[64];
    int64_t f, t;

    from[0] = to[0] = '\0';
    if (http_query(ctx, "from", buf, sizeof buf) != 0 && timefmt_normalize(buf, from) != OK)
        http_field(ctx, "from", "must be an RFC 3339 date-time");
    if (http_query(ctx, "to", buf, sizeof buf) != 0 && timefmt_normalize(buf, to) != OK)
        http_field(ctx, "to", "must be an RFC 3339 date-time");
    if (ctx->fe.n > 0 || timefmt_parse(from, &f) != OK || timefmt_parse(to, &t) != OK)
        return;
    if (t <= f)
        http_field(ctx, "to", "must be after from");
    else if (t - f > (int64_t)SCHEDULE_MAX_DAYS * 86400)
        http_field(ctx, "to", "the period may span at most %d days", SCHEDULE_MAX_DAYS);
}

/* Without from and to, every change awaiting approval, whatever its window;
 * with them, those whose window overlaps [from, to). A bound not given is
 * null in the reply and open in the query. Paged in window order. */
enum outcome
api_agenda(struct http_ctx *ctx)
{
    char from[TIMEFMT_LEN], to[TIMEFMT_LEN];
    struct db_win_page q = {0};
    enum outcome rc;

    agenda_period(ctx, from, to);
    schedule_paging(ctx, 'a', &q);
    q.from = from[0] ? from : NULL;
    q.to = to[0] ? to : NULL;
    if ((rc = http_fields_ok(ctx)) != OK || (rc = db_schedule_agenda(ctx->db, &q)) != OK)
        return rc;
    http_reply(ctx, 200,
               json_pack("{s:s?, s:s?, s:o, s:o}", "from", q.from, "to", q.to, "items", q.items,
                         "next_cursor", schedule_next('a', &q)));
    return OK;
}

/* ---- the caller's queue ------------------------------------------------ */

/* A change in the queue: its position in window order. */
struct queue_entry {
    int64_t start_us, id;
};

/* The scan of the changes that may take decisions: how many await the
 * caller's, and the positions of those after the cursor. */
struct queue_scan {
    struct decision_actor who;
    int64_t after_start, after_id;
    int count;
    struct queue_entry *e;
    size_t n, cap;
    bool oom;
};

/* Counts c when its document's `actions` would offer the caller approve:
 * the one rule of decision_actions, not a copy of it. */
static void
queue_each(const struct change *c, void *arg)
{
    struct queue_scan *s = arg;
    struct queue_entry q = {c->window_start * 1000000, c->id}, *grown;

    if (!(decision_actions(c, &s->who) & (1u << VERB_APPROVE)))
        return;
    s->count++;
    if (s->after_id != 0 &&
        (q.start_us < s->after_start || (q.start_us == s->after_start && q.id <= s->after_id)))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        if ((grown = realloc(s->e, s->cap * sizeof *s->e)) == NULL) {
            s->oom = true;
            return;
        }
        s->e = grown;
    }
    s->e[s->n++] = q;
}

static int
queue_cmp(const void *a, const void *b)
{
    const struct queue_entry *x = a, *y = b;

    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The states in which some change may take a decision (lifecycle.c says
 * which), comma-separated: the scan reads those changes only. */
static void
queue_states(struct strbuf *sb)
{
    int i;

    for (i = 0; i < STATE_COUNT; i++)
        if (lifecycle_takes_decisions((enum change_state)i, true))
            strbuf_printf(sb, "%s%s", sb->len ? "," : "",
                          lifecycle_state_name((enum change_state)i));
}

/* The page's rows: the first q->limit entries, in window order. */
static enum outcome
queue_page(struct http_ctx *ctx, struct queue_scan *s, struct db_win_page *q)
{
    struct strbuf ids = STRBUF_INIT;
    size_t i, n = s->n < (size_t)q->limit ? s->n : (size_t)q->limit;
    enum outcome rc;

    if (s->n > 0)
        qsort(s->e, s->n, sizeof *s->e, queue_cmp);
    strbuf_putc(&ids, '{');
    for (i = 0; i < n; i++)
        strbuf_printf(&ids, "%s%lld", i ? "," : "", (long long)s->e[i].id);
    strbuf_putc(&ids, '}');
    q->more = s->n > n;
    if (n > 0) {
        q->last_start = s->e[n - 1].start_us;
        q->last_id = s->e[n - 1].id;
    }
    rc = strbuf_failed(&ids) ? ERR_INTERNAL : db_schedule_rows_of(ctx->db, ids.buf, &q->items);
    strbuf_free(&ids);
    return rc;
}

/* The changes awaiting the caller's decision: those whose `actions` offer
 * the caller approve, counted in full, paged in window order. */
enum outcome
api_me_queue(struct http_ctx *ctx)
{
    struct queue_scan s = {.who = {ctx->user.id, ctx->user.roles}};
    struct db_win_page q = {0};
    struct strbuf states = STRBUF_INIT;
    enum outcome rc;

    schedule_paging(ctx, 'q', &q);
    s.after_start = q.after_start;
    s.after_id = q.after_id;
    queue_states(&states);
    if ((rc = http_fields_ok(ctx)) == OK)
        rc = strbuf_failed(&states)
                 ? ERR_INTERNAL
                 : db_change_each_in_states(ctx->db, states.buf, ctx->user.id, queue_each, &s);
    if (rc == OK && s.oom)
        rc = ERR_INTERNAL;
    if (rc == OK)
        rc = queue_page(ctx, &s, &q);
    if (rc == OK)
        http_reply(ctx, 200,
                   json_pack("{s:i, s:o, s:o}", "count", s.count, "items", q.items, "next_cursor",
                             schedule_next('q', &q)));
    else
        json_decref(q.items);
    strbuf_free(&states);
    free(s.e);
    return rc;
}

static const char *
schedule_host(void)
{
    const char *h = strstr(config->base_url, "://");

    return h ? h + 3 : config->base_url;
}

/* The feed's sink: every row becomes a VEVENT, written into a buffer that
 * goes out as a chunk whenever it holds SCHEDULE_ICS_CHUNK bytes, so the
 * calendar is never held whole. */
#define SCHEDULE_ICS_CHUNK 32768
struct schedule_ics {
    struct http_ctx *ctx;
    struct strbuf sb;
    struct ical_site site;
};

/* Sends what the buffer holds (all of it when all, else only once it is
 * full enough) and empties it. */
static enum outcome
schedule_ics_flush(struct schedule_ics *ics, bool all)
{
    enum outcome rc;

    if (strbuf_failed(&ics->sb))
        return http_fail(ics->ctx, ERR_INTERNAL, "out of memory for the calendar");
    if (!all && ics->sb.len < SCHEDULE_ICS_CHUNK)
        return OK;
    rc = http_stream_write(ics->ctx, strbuf_str(&ics->sb), ics->sb.len);
    strbuf_free(&ics->sb);
    return rc;
}

/* The query ran: the status, the headers and the calendar's own lines go
 * out. */
static enum outcome
schedule_ics_start(void *arg)
{
    struct schedule_ics *ics = arg;
    enum outcome rc = http_stream_begin(ics->ctx, 200, "text/calendar; charset=utf-8");

    if (rc != OK)
        return rc;
    strbuf_puts(&ics->sb, "BEGIN:VCALENDAR\r\n");
    ical_line(&ics->sb, "VERSION", "2.0");
    ical_line(&ics->sb, "PRODID", "-//Cabinet//Change schedule//EN");
    ical_line(&ics->sb, "CALSCALE", "GREGORIAN");
    ical_line(&ics->sb, "METHOD", "PUBLISH");
    ical_text(&ics->sb, "X-WR-CALNAME", "Cabinet change schedule");
    return OK;
}

static enum outcome
schedule_ics_change(void *arg, const struct ical_change *c)
{
    struct schedule_ics *ics = arg;

    ical_change_event(&ics->sb, &ics->site, c);
    return schedule_ics_flush(ics, false);
}

static enum outcome
schedule_ics_freeze(void *arg, const struct ical_freeze *f)
{
    struct schedule_ics *ics = arg;

    ical_freeze_event(&ics->sb, &ics->site, f);
    return schedule_ics_flush(ics, false);
}

/* The feed's caller: a feed or full token, as a query parameter (calendar
 * apps cannot send headers) or a Bearer header. */
static enum outcome
schedule_ics_principal(struct http_ctx *ctx, struct db_principal *p)
{
    const char *authz = http_header(ctx, "Authorization");
    char token[256] = "", hash[SEC_HEX256_LEN];
    enum outcome rc;

    if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0)
        snprintf(token, sizeof token, "%s", authz + 7);
    else if (http_query(ctx, "token", token, sizeof token) != 1)
        token[0] = '\0';
    if (token[0] == '\0')
        return http_fail(ctx, ERR_UNAUTHENTICATED,
                         "give a feed or full API token: /schedule.ics?token=…");
    sec_sha256_hex(token, strlen(token), hash);
    sec_wipe(token, sizeof token);
    rc = db_auth_token(ctx->db, hash, p);
    if (rc == ERR_NOT_FOUND)
        return http_fail(ctx, ERR_UNAUTHENTICATED, "the token is unknown or revoked");
    if (rc == OK && p->use_stale && ctx->app->note_token_use != NULL)
        ctx->app->note_token_use(ctx->app->usage, p->token_id);
    return rc;
}

/* service= (a service name) and mine=true|false. */
static enum outcome
schedule_ics_filters(struct http_ctx *ctx, const struct db_principal *p, char *service, size_t size,
                     int64_t *requester)
{
    char mine[8];
    int got = http_query(ctx, "service", service, size);

    *requester = 0;
    if (got != 1)
        service[0] = '\0';
    if (got < 0 || (got == 1 && !validate_slug(service)))
        http_field(ctx, "service", "must be a service name");
    switch (http_query(ctx, "mine", mine, sizeof mine)) {
    case 0: break;
    case 1:
        if (strcmp(mine, "true") == 0)
            *requester = p->user_id;
        else if (strcmp(mine, "false") != 0)
            http_field(ctx, "mine", "must be true or false");
        break;
    default: http_field(ctx, "mine", "must be true or false");
    }
    return http_fields_ok(ctx);
}

/* The calendar, streamed: the query runs (and its errors are answered as
 * any other) before the first byte; a failure after that cuts the stream
 * short (http_stream_begin). */
enum outcome
api_schedule_ics(struct http_ctx *ctx)
{
    struct schedule_ics ics = {ctx, STRBUF_INIT, {config->base_url, schedule_host()}};
    struct db_feed_sink sink = {schedule_ics_start, schedule_ics_change, schedule_ics_freeze, &ics};
    struct db_principal p = {0};
    char service[80];
    int64_t requester;
    enum outcome rc;

    if ((rc = schedule_ics_principal(ctx, &p)) != OK ||
        (rc = schedule_ics_filters(ctx, &p, service, sizeof service, &requester)) != OK)
        return rc;
    rc = db_schedule_feed(ctx->db, service[0] ? service : NULL, requester, &sink);
    if (rc == ERR_NOT_FOUND) {
        http_field(ctx, "service", "no service is named %s", service);
        rc = http_fields_ok(ctx);
    } else if (rc == OK) {
        strbuf_puts(&ics.sb, "END:VCALENDAR\r\n");
        if ((rc = schedule_ics_flush(&ics, true)) == OK)
            rc = http_stream_end(ctx);
    }
    strbuf_free(&ics.sb);
    return rc;
}

/* What a slot search asks for. */
struct schedule_slot_query {
    json_t *names; /* the services, as a JSON array */
    int64_t duration, after;
    long limit;
};

/* services=a,b (every name between commas counts, so "a,,b" and "," are
 * errors), duration, after, limit: each fault a field error. */
static enum outcome
schedule_slot_query(struct http_ctx *ctx, struct schedule_slot_query *q)
{
    char list[1024], buf[64], *tok, *comma, *end;

    q->after = (int64_t)time(NULL);
    q->limit = 5;
    if ((q->names = json_array()) == NULL)
        return ERR_INTERNAL;
    if (http_query(ctx, "services", list, sizeof list) != 1 || list[0] == '\0')
        http_field(ctx, "services", "is required: service names separated by commas");
    else
        for (tok = list, comma = list; comma != NULL; tok = comma + 1) {
            if ((comma = strchr(tok, ',')) != NULL)
                *comma = '\0';
            if (!validate_slug(tok))
                http_field(ctx, "services", "\"%s\" is not a service name", tok);
            json_array_append_new(q->names, json_string(tok));
        }
    if (http_query(ctx, "duration", buf, sizeof buf) != 1 ||
        slots_duration(buf, &q->duration) != OK || q->duration > SCHEDULE_MAX_DURATION)
        http_field(ctx, "duration", "is required: an ISO 8601 duration up to 30 days (PT2H)");
    if (http_query(ctx, "after", buf, sizeof buf) != 0 && timefmt_parse(buf, &q->after) != OK)
        http_field(ctx, "after", "must be an RFC 3339 date-time");
    if (http_query(ctx, "limit", buf, sizeof buf) != 0) {
        q->limit = strtol(buf, &end, 10);
        if (*buf == '\0' || *end != '\0' || q->limit < 1 || q->limit > 20)
            http_field(ctx, "limit", "a whole number from 1 to 20");
    }
    return http_fields_ok(ctx);
}

/* Names every service of the query that does not exist. */
static enum outcome
schedule_slot_services(struct http_ctx *ctx, const struct schedule_slot_query *q,
                       const char *services)
{
    json_t *missing = NULL;
    enum outcome rc;
    size_t i;

    if ((rc = db_service_missing(ctx->db, services, &missing)) != OK)
        return rc;
    for (i = 0; i < json_array_size(missing); i++)
        http_field(ctx, "services", "no service is named %s",
                   json_string_value(json_array_get(
                       q->names, (size_t)json_integer_value(json_array_get(missing, i)))));
    json_decref(missing);
    return http_fields_ok(ctx);
}

static json_t *
schedule_slot_items(const struct slots_interval *found, size_t n)
{
    json_t *items = json_array();
    size_t i;

    for (i = 0; items != NULL && i < n; i++) {
        char s[TIMEFMT_LEN], e[TIMEFMT_LEN];

        timefmt_format(found[i].start, s);
        timefmt_format(found[i].end, e);
        json_array_append_new(items, json_pack("{s:s, s:s}", "start", s, "end", e));
    }
    return items;
}

enum outcome
api_schedule_slots(struct http_ctx *ctx)
{
    struct schedule_slot_query q = {0};
    struct slots_interval *busy = NULL, found[20];
    char after_s[TIMEFMT_LEN], until_s[TIMEFMT_LEN], *services = NULL;
    size_t n, nbusy = 0;
    enum outcome rc;

    if ((rc = schedule_slot_query(ctx, &q)) != OK)
        goto out;
    if ((services = json_dumps(q.names, JSON_COMPACT)) == NULL) {
        rc = ERR_INTERNAL;
        goto out;
    }
    timefmt_format(q.after, after_s);
    timefmt_format(q.after + SCHEDULE_SLOT_HORIZON, until_s);
    if ((rc = schedule_slot_services(ctx, &q, services)) != OK ||
        (rc = db_schedule_busy(ctx->db, services, after_s, until_s, &busy, &nbusy)) != OK)
        goto out;
    n = slots_find(busy, nbusy, q.after, q.after + SCHEDULE_SLOT_HORIZON, q.duration, found,
                   (size_t)q.limit);
    http_reply(
        ctx, 200,
        json_pack("{s:o, s:s}", "items", schedule_slot_items(found, n), "searched_until", until_s));
out:
    free(busy);
    free(services);
    json_decref(q.names);
    return rc;
}

enum outcome
api_changes_recent(struct http_ctx *ctx)
{
    char service[80], buf[16];
    json_t *rows = NULL;
    long hours = 72;
    enum outcome rc;

    if (http_query(ctx, "service", service, sizeof service) != 1 || !validate_slug(service))
        http_field(ctx, "service", "is required: a service name");
    if (http_query(ctx, "hours", buf, sizeof buf) != 0) {
        char *end;
        hours = strtol(buf, &end, 10);
        if (*buf == '\0' || *end != '\0' || hours < 1 || hours > 24L * 90)
            http_field(ctx, "hours", "a whole number from 1 to 2160");
    }
    if ((rc = http_fields_ok(ctx)) != OK)
        return rc;
    rc = db_schedule_recent(ctx->db, service, (int)hours, &rows);
    if (rc == ERR_NOT_FOUND) {
        http_field(ctx, "service", "no service is named %s", service);
        return http_fields_ok(ctx);
    }
    if (rc != OK)
        return rc;
    http_reply(ctx, 200, http_page_all(schedule_changes(rows)));
    return OK;
}
