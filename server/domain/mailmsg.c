#include "domain/mailmsg.h"

#include <string.h>
#include <time.h>

/* Header lines are kept well under RFC 5322's 78 characters where this
 * writer folds them, and an encoded word under RFC 2047's 75. */
#define MAILMSG_WORD_BYTES 42  /* of UTF-8 per encoded word: 56 base64 characters */
#define MAILMSG_PLAIN_MAX 900  /* a plain header value longer than this is encoded */
#define MAILMSG_PHRASE_MAX 400 /* a display name, quoted, longer than this is encoded */

const char *const mailmsg_kinds[MAIL_KINDS] = {"awaiting_approval", "decision", "conflict"};

int
mailmsg_kind_parse(const char *name)
{
    int i;

    for (i = 0; name != NULL && i < MAIL_KINDS; i++)
        if (strcmp(name, mailmsg_kinds[i]) == 0)
            return i;
    return -1;
}

static const char *
mailmsg_or(const char *s, const char *otherwise)
{
    return s != NULL && s[0] != '\0' ? s : otherwise;
}

/* "2026-12-03T10:00:00Z" as "2026-12-03 10:00"; anything else as it is. */
static void
mailmsg_time(struct strbuf *sb, const char *t)
{
    if (t != NULL && strlen(t) >= 16 && t[10] == 'T' && t[13] == ':')
        strbuf_printf(sb, "%.10s %.5s", t, t + 11);
    else
        strbuf_puts(sb, mailmsg_or(t, "?"));
}

/* "2026-12-03 10:00–11:00 UTC", or across days both dates. */
static void
mailmsg_window(struct strbuf *sb, const char *start, const char *end)
{
    if (start == NULL || start[0] == '\0') {
        strbuf_puts(sb, "not scheduled");
        return;
    }
    mailmsg_time(sb, start);
    strbuf_puts(sb, " – ");
    if (end != NULL && strlen(end) >= 16 && strncmp(start, end, 10) == 0 && end[10] == 'T')
        strbuf_printf(sb, "%.5s", end + 11);
    else
        mailmsg_time(sb, end);
    strbuf_puts(sb, " UTC");
}

static void
mailmsg_link(struct strbuf *sb, const struct mail_notice *n)
{
    strbuf_printf(sb, "%s/#/changes/%s\n", n->base_url, n->ref);
}

static void
mailmsg_awaiting(const struct mail_notice *n, struct strbuf *subject, struct strbuf *body)
{
    strbuf_printf(subject, "[Cabinet] %s awaits your approval: %s", n->ref, n->title);
    if (n->unauthorized)
        strbuf_printf(body,
                      "%s “%s” was started before it was approved, and awaits your "
                      "approval.\n\n",
                      n->ref, n->title);
    else
        strbuf_printf(body, "%s “%s” awaits your approval.\n\n", n->ref, n->title);
    if (n->level[0] != '\0' && n->score >= 0)
        strbuf_printf(body, "Risk:      %s (score %d)\n", n->level, n->score);
    strbuf_puts(body, "Window:    ");
    mailmsg_window(body, n->start, n->end);
    strbuf_printf(body, "\nApprovals: %d of %d\n", n->have, n->needed);
    strbuf_printf(body, "Raised by: %s\n\n", mailmsg_or(n->requester, "?"));
    strbuf_puts(body, "Review it and sign your decision:\n");
    mailmsg_link(body, n);
}

/* A state in words: "in_progress" as "in progress". */
static const char *
mailmsg_state(const char *state)
{
    static const char *const words[][2] = {
        {"awaiting_approval", "awaiting approval"},
        {"in_progress", "in progress"},
    };
    size_t i;

    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(state, words[i][0]) == 0)
            return words[i][1];
    return state;
}

static void
mailmsg_decision(const struct mail_notice *n, struct strbuf *subject, struct strbuf *body)
{
    bool approve = strcmp(n->decision, "approve") == 0;
    const char *line;
    size_t len;

    strbuf_printf(subject, "[Cabinet] %s %s by %s: %s", n->ref, approve ? "approved" : "rejected",
                  mailmsg_or(n->approver, "?"), n->title);
    strbuf_printf(body, "%s %s version %d of your change %s “%s”.\n", mailmsg_or(n->approver, "?"),
                  approve ? "approved" : "rejected", n->version, n->ref, n->title);
    if (n->comment != NULL && n->comment[0] != '\0') {
        strbuf_puts(body, "\n");
        for (line = n->comment; *line != '\0'; line += len + (line[len] == '\n')) {
            len = strcspn(line, "\n");
            strbuf_puts(body, "> ");
            strbuf_append(body, line, len);
            strbuf_puts(body, "\n");
        }
    }
    if (strcmp(n->state, "awaiting_approval") == 0)
        strbuf_printf(body, "\nApprovals: %d of %d; it awaits the others.\n", n->have, n->needed);
    else
        strbuf_printf(body, "\nThe change is now %s.\n", mailmsg_state(n->state));
    strbuf_puts(body, "\n");
    mailmsg_link(body, n);
}

static void
mailmsg_conflict(const struct mail_notice *n, struct strbuf *subject, struct strbuf *body)
{
    bool freeze = n->freeze != NULL && n->freeze[0] != '\0';

    if (freeze) {
        strbuf_printf(subject, "[Cabinet] %s falls in the freeze “%s”: %s", n->ref, n->freeze,
                      n->title);
        strbuf_printf(body, "Your change %s “%s” (", n->ref, n->title);
        mailmsg_window(body, n->start, n->end);
        strbuf_printf(body, ") falls in the %s freeze “%s”", n->hard ? "hard" : "soft", n->freeze);
    } else {
        strbuf_printf(subject, "[Cabinet] %s conflicts with %s: %s", n->ref,
                      mailmsg_or(n->other_ref, "?"), n->title);
        strbuf_printf(body, "Your change %s “%s” (", n->ref, n->title);
        mailmsg_window(body, n->start, n->end);
        strbuf_printf(body, ") overlaps %s “%s” (", mailmsg_or(n->other_ref, "?"),
                      mailmsg_or(n->other_title, "?"));
        mailmsg_window(body, n->other_start, n->other_end);
        strbuf_puts(body, ")");
    }
    if (n->services != NULL && n->services[0] != '\0')
        strbuf_printf(body, " on %s", n->services);
    strbuf_puts(body, ".\n\n");
    if (freeze && n->hard)
        strbuf_puts(body, "A hard freeze stops its approval until the window moves or a manager "
                          "lifts the freeze.\n\n");
    strbuf_printf(body, "The schedule's conflicts: %s/#/conflicts\nThe change: ", n->base_url);
    mailmsg_link(body, n);
}

void
mailmsg_compose(const struct mail_notice *n, struct strbuf *subject, struct strbuf *body)
{
    static const char *const why[MAIL_KINDS] = {
        "a role the change's approval policy counts",
        "you raised the change",
        "you raised the change",
    };

    strbuf_printf(body, "Hello %s,\n\n", mailmsg_or(n->to_name, "there"));
    switch (n->kind) {
    case MAIL_AWAITING_APPROVAL: mailmsg_awaiting(n, subject, body); break;
    case MAIL_DECISION: mailmsg_decision(n, subject, body); break;
    case MAIL_CONFLICT: mailmsg_conflict(n, subject, body); break;
    }
    strbuf_printf(body,
                  "\n-- \nCabinet sent this because %s%s. To switch these e-mails off:\n"
                  "%s/#/me/notifications\n",
                  n->kind == MAIL_AWAITING_APPROVAL ? "you have " : "", why[n->kind], n->base_url);
}

void
mailmsg_base64(struct strbuf *sb, const unsigned char *p, size_t n, bool wrap)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, col = 0;

    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        char q[4];

        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = abc[(v >> 18) & 63];
        q[1] = abc[(v >> 12) & 63];
        q[2] = '=';
        q[3] = '=';
        if (i + 1 < n)
            q[2] = abc[(v >> 6) & 63];
        if (i + 2 < n)
            q[3] = abc[v & 63];
        strbuf_append(sb, q, 4);
        col += 4;
        if (wrap && col == 76) {
            strbuf_puts(sb, "\r\n");
            col = 0;
        }
    }
    if (wrap && col > 0)
        strbuf_puts(sb, "\r\n");
}

/* Whether a header value can be written as it is: printable ASCII, not too
 * long, and nothing a reader would take for an encoded word ("=?"), which
 * would let a title show as other text than it is. */
static bool
mailmsg_is_plain(const char *s, size_t max)
{
    size_t n = 0;

    if (strstr(s, "=?") != NULL)
        return false;
    for (; *s != '\0'; s++, n++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return n <= max;
}

/* Encoded words of s, each of whole UTF-8 characters, folded onto lines
 * of their own after the first. */
static void
mailmsg_encoded(struct strbuf *sb, const char *s)
{
    size_t len = strlen(s), at = 0;

    while (at < len) {
        size_t n = len - at > MAILMSG_WORD_BYTES ? MAILMSG_WORD_BYTES : len - at;

        /* never split a character: back up over continuation bytes */
        while (n > 1 && at + n < len && ((unsigned char)s[at + n] & 0xc0) == 0x80)
            n--;
        if (at > 0)
            strbuf_puts(sb, "\r\n ");
        strbuf_puts(sb, "=?UTF-8?B?");
        mailmsg_base64(sb, (const unsigned char *)s + at, n, false);
        strbuf_puts(sb, "?=");
        at += n;
    }
}

/* An unstructured header (Subject): as it is when plain, else encoded. */
static void
mailmsg_header(struct strbuf *sb, const char *name, const char *value)
{
    strbuf_printf(sb, "%s: ", name);
    if (mailmsg_is_plain(value, MAILMSG_PLAIN_MAX))
        strbuf_puts(sb, value);
    else
        mailmsg_encoded(sb, value);
    strbuf_puts(sb, "\r\n");
}

/* A display name: a quoted string when plain, else encoded words; either
 * way, with an address of 254 characters, the line stays within 998. */
static void
mailmsg_phrase(struct strbuf *sb, const char *name)
{
    size_t escapes = 0;
    const char *p;

    for (p = name; *p != '\0'; p++)
        escapes += *p == '"' || *p == '\\';
    if (escapes > MAILMSG_PHRASE_MAX || !mailmsg_is_plain(name, MAILMSG_PHRASE_MAX - escapes)) {
        mailmsg_encoded(sb, name);
        return;
    }
    strbuf_putc(sb, '"');
    for (; *name != '\0'; name++) {
        if (*name == '"' || *name == '\\')
            strbuf_putc(sb, '\\');
        strbuf_putc(sb, *name);
    }
    strbuf_putc(sb, '"');
}

static void
mailmsg_date(struct strbuf *sb, int64_t epoch)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)epoch;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    strbuf_printf(sb, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday % 7],
                  tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
}

void
mailmsg_write(struct strbuf *sb, const struct mail_message *m)
{
    struct strbuf body = STRBUF_INIT;
    const char *p;

    mailmsg_date(sb, m->date);
    strbuf_puts(sb, "From: ");
    if (m->from_name != NULL && m->from_name[0] != '\0') {
        mailmsg_phrase(sb, m->from_name);
        strbuf_putc(sb, ' ');
    }
    strbuf_printf(sb, "<%s>\r\n", m->from_address);
    strbuf_puts(sb, "To: ");
    if (m->to_name != NULL && m->to_name[0] != '\0') {
        mailmsg_phrase(sb, m->to_name);
        strbuf_putc(sb, ' ');
    }
    strbuf_printf(sb, "<%s>\r\n", m->to_address);
    mailmsg_header(sb, "Subject", m->subject);
    strbuf_printf(sb, "Message-ID: <%s>\r\n", m->message_id);
    if (m->change_ref != NULL && m->change_ref[0] != '\0' &&
        mailmsg_is_plain(m->change_ref, MAILMSG_PLAIN_MAX))
        strbuf_printf(sb, "X-Cabinet-Change: %s\r\n", m->change_ref);
    /* RFC 3834: no out-of-office replies to a machine */
    strbuf_puts(sb, "Auto-Submitted: auto-generated\r\n"
                    "MIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n");
    /* the body's lines end in CRLF before it is encoded */
    for (p = m->body; *p != '\0'; p++) {
        if (*p == '\n')
            strbuf_putc(&body, '\r');
        strbuf_putc(&body, *p);
    }
    if (strbuf_failed(&body))
        sb->failed = true;
    else
        mailmsg_base64(sb, (const unsigned char *)body.buf, body.len, true);
    strbuf_free(&body);
}

bool
mailmsg_address_ok(const char *addr)
{
    const char *at = NULL, *p;

    /* "=?" too: a reader may take what follows for an encoded word */
    if (addr == NULL || strlen(addr) > 254 || strstr(addr, "=?") != NULL)
        return false;
    for (p = addr; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p > 0x7e || strchr("\"<>(),;:\\[]", *p))
            return false;
        if (*p == '@') {
            if (at != NULL)
                return false;
            at = p;
        }
    }
    return at != NULL && at != addr && at[1] != '\0';
}

bool
mailmsg_from_parse(const char *from, char *name, size_t nsize, char *addr, size_t asize)
{
    const char *lt = strchr(from, '<'), *a = from, *b;
    size_t n;

    name[0] = '\0';
    if (lt != NULL) {
        /* Name <address>, the address at the very end; the name may be
         * quoted, and is written again as a quoted string */
        n = strlen(lt);
        if (n < 3 || lt[n - 1] != '>')
            return false;
        for (a = from; a < lt && *a == ' '; a++)
            ;
        for (b = lt; b > a && b[-1] == ' '; b--)
            ;
        if (b - a >= 2 && *a == '"' && b[-1] == '"') {
            a++;
            b--;
        }
        if ((size_t)(b - a) >= nsize)
            return false;
        for (const char *p = a; p < b; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
                return false;
        memcpy(name, a, (size_t)(b - a));
        name[b - a] = '\0';
        a = lt + 1;
        n -= 2;
    } else {
        n = strlen(from);
    }
    if (n == 0 || n >= asize)
        return false;
    memcpy(addr, a, n);
    addr[n] = '\0';
    return mailmsg_address_ok(addr);
}
