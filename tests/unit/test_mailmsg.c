/* E-mail notices and their RFC 5322 messages. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "domain/mailmsg.h"
#include "unit.h"

void
test_mailmsg_address(void)
{
    static const struct {
        const char *addr;
        int ok;
    } rows[] = {
        /* clang-format off */
        {"a@b", 1},
        {"first.last+tag@example.org", 1},
        {"o'brien@example.org", 1},
        {"", 0},
        {"@b", 0},
        {"a@", 0},
        {"ab", 0},
        {"a@b@c", 0},
        {"a b@c", 0},
        {"a@b\r\nBcc: x@y", 0},
        {"a@b\n", 0},
        {"<a@b>", 0},
        {"a\"b@c", 0},
        {"a,b@c", 0},
        {"a;b@c", 0},
        {"a@b)", 0},
        {"a\\b@c", 0},
        {"a=?b@c", 0},
        {"a=b?c@d", 1},
        {"\xc3\xa9@example.org", 0},
        /* clang-format on */
    };
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%zu %s", i, rows[i].addr);
        CHECK_INT(mailmsg_address_ok(rows[i].addr), rows[i].ok);
    }
    {
        char *big = unit_build("a@", "b", 253, NULL);
        CHECK(!mailmsg_address_ok(big));
        big[254] = '\0';
        CHECK(mailmsg_address_ok(big));
        free(big);
    }
}

void
test_mailmsg_from(void)
{
    static const struct {
        const char *from, *name, *addr;
    } rows[] = {
        /* clang-format off */
        {"cab@example.org", "", "cab@example.org"},
        {"Cabinet <cab@example.org>", "Cabinet", "cab@example.org"},
        {"\"Cabinet, CAB\" <cab@example.org>", "Cabinet, CAB", "cab@example.org"},
        {"  Spaced   <cab@example.org>", "Spaced", "cab@example.org"},
        {"<cab@example.org>", "", "cab@example.org"},
        {"", NULL, NULL},
        {"Cabinet", NULL, NULL},
        {"Cabinet <cab@example.org", NULL, NULL},
        {"Cabinet <cab@example.org> x", NULL, NULL},
        {"Cabinet <>", NULL, NULL},
        {"Cab\"inet <cab@example.org>", NULL, NULL},
        {"Cab\r\nBcc: x <cab@example.org>", NULL, NULL},
        {"Caf\xc3\xa9 <cab@example.org>", NULL, NULL},
        {"Cabinet <cab example.org>", NULL, NULL},
        /* clang-format on */
    };
    char name[64], addr[64];
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        bool ok = mailmsg_from_parse(rows[i].from, name, sizeof name, addr, sizeof addr);
        unit_row("%zu %s", i, rows[i].from);
        CHECK_INT(ok, rows[i].addr != NULL);
        if (ok && rows[i].addr) {
            CHECK_STR(name, rows[i].name);
            CHECK_STR(addr, rows[i].addr);
        }
    }
    CHECK(!mailmsg_from_parse("Cabinet <cab@example.org>", name, 4, addr, sizeof addr));
    CHECK(!mailmsg_from_parse("cab@example.org", name, sizeof name, addr, 8));
}

void
test_mailmsg_base64(void)
{
    static const char *const rows[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    struct strbuf sb = STRBUF_INIT;
    unsigned char bytes[200];
    const char *p, *line;
    size_t i;

    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("%s", rows[i][0]);
        mailmsg_base64(&sb, (const unsigned char *)rows[i][0], strlen(rows[i][0]), false);
        CHECK_STR(strbuf_str(&sb), rows[i][1]);
        strbuf_free(&sb);
    }
    /* wrapped: lines of 76 and a last shorter one, each ending in CRLF */
    for (i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 7);
    mailmsg_base64(&sb, bytes, sizeof bytes, true);
    for (line = strbuf_str(&sb); *line != '\0'; line = p + 2) {
        p = strstr(line, "\r\n");
        CHECK(p != NULL);
        if (p == NULL)
            break;
        CHECK(p - line <= 76);
        CHECK(p - line == 76 || p[2] == '\0');
    }
    CHECK_INT(sb.len, 268 + 2 * 4); /* 200 bytes: 268 characters on 4 lines */
    strbuf_free(&sb);
}

/* The header block of a message (up to the blank line), and its body
 * decoded. */
static void
mailmsg_split(const char *msg, struct strbuf *head, struct strbuf *body)
{
    const char *end = strstr(msg, "\r\n\r\n");
    struct strbuf joined = STRBUF_INIT;
    unsigned char out[4096];
    size_t n = 0;
    const char *p;

    CHECK(end != NULL);
    if (end == NULL)
        return;
    strbuf_append(head, msg, (size_t)(end - msg) + 2);
    for (p = end + 4; *p != '\0'; p++)
        if (*p != '\r' && *p != '\n')
            strbuf_putc(&joined, *p);
    CHECK_INT(sodium_base642bin(out, sizeof out, joined.buf ? joined.buf : "", joined.len, NULL, &n,
                                NULL, sodium_base64_VARIANT_ORIGINAL),
              0);
    strbuf_append(body, (const char *)out, n);
    strbuf_free(&joined);
}

/* The text of the encoded words of a header value, decoded. */
static void
mailmsg_decode_words(const char *value, struct strbuf *out)
{
    const char *p = value, *q;
    unsigned char bin[256];
    size_t n;

    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        p += 10;
        q = strstr(p, "?=");
        CHECK(q != NULL);
        if (q == NULL)
            return;
        CHECK(q - p + 12 <= 75); /* RFC 2047: an encoded word is at most 75 characters */
        n = 0;
        CHECK_INT(sodium_base642bin(bin, sizeof bin, p, (size_t)(q - p), NULL, &n, NULL,
                                    sodium_base64_VARIANT_ORIGINAL),
                  0);
        /* each word holds whole characters: it starts on no continuation byte */
        CHECK(n == 0 || (bin[0] & 0xc0) != 0x80);
        strbuf_append(out, (const char *)bin, n);
        p = q + 2;
    }
}

static void
mailmsg_sample(struct strbuf *sb, const char *subject, const char *name, const char *body)
{
    struct mail_message m = {
        .from_name = "Cabinet, CAB",
        .from_address = "cab@example.org",
        .to_name = name,
        .to_address = "ada@example.org",
        .message_id = "cabinet-1@example.org",
        .date = 1764669600, /* 2025-12-02 10:00:00 UTC, a Tuesday */
        .subject = subject,
        .body = body,
        .change_ref = "CHG-7",
    };
    mailmsg_write(sb, &m);
}

void
test_mailmsg_write(void)
{
    struct strbuf sb = STRBUF_INIT, head = STRBUF_INIT, body = STRBUF_INIT;
    const char *p;

    mailmsg_sample(&sb, "[Cabinet] CHG-7 awaits your approval: plain", "Ada \"the\" Lovelace",
                   "Hello,\n\nline two\n");
    CHECK(!strbuf_failed(&sb));
    /* every line ends in CRLF: no bare LF, no bare CR */
    for (p = strbuf_str(&sb); *p != '\0'; p++) {
        if (*p == '\n')
            CHECK(p > sb.buf && p[-1] == '\r');
        if (*p == '\r')
            CHECK(p[1] == '\n');
    }
    mailmsg_split(strbuf_str(&sb), &head, &body);
    CHECK(strstr(head.buf, "Date: Tue, 02 Dec 2025 10:00:00 +0000\r\n") != NULL);
    CHECK(strstr(head.buf, "From: \"Cabinet, CAB\" <cab@example.org>\r\n") != NULL);
    CHECK(strstr(head.buf, "To: \"Ada \\\"the\\\" Lovelace\" <ada@example.org>\r\n") != NULL);
    CHECK(strstr(head.buf, "Subject: [Cabinet] CHG-7 awaits your approval: plain\r\n") != NULL);
    CHECK(strstr(head.buf, "Message-ID: <cabinet-1@example.org>\r\n") != NULL);
    CHECK(strstr(head.buf, "X-Cabinet-Change: CHG-7\r\n") != NULL);
    CHECK(strstr(head.buf, "Auto-Submitted: auto-generated\r\n") != NULL);
    CHECK(strstr(head.buf, "Content-Type: text/plain; charset=UTF-8\r\n") != NULL);
    CHECK(strstr(head.buf, "Content-Transfer-Encoding: base64\r\n") != NULL);
    CHECK_STR(body.buf, "Hello,\r\n\r\nline two\r\n");
    strbuf_free(&sb);
    strbuf_free(&head);
    strbuf_free(&body);
}

void
test_mailmsg_headers_encoded(void)
{
    /* 60 characters of 2 and 3 bytes, a line break someone slipped into a
     * title, and a name that is not ASCII */
    char *title = unit_build("CHG-7 “", "é€", 30, "”\r\nBcc: eve@example.org");
    struct strbuf sb = STRBUF_INIT, head = STRBUF_INIT, body = STRBUF_INIT, got = STRBUF_INIT;
    const char *subj, *line;

    mailmsg_sample(&sb, title, "Zoë Ångström", "x\n");
    mailmsg_split(strbuf_str(&sb), &head, &body);
    /* no header line begins with what the title carried */
    for (line = head.buf; line != NULL && *line != '\0'; line = strstr(line, "\r\n")) {
        if (line != head.buf)
            line += 2;
        CHECK(strncmp(line, "Bcc:", 4) != 0);
    }
    subj = strstr(head.buf, "Subject: ");
    CHECK(subj != NULL);
    if (subj != NULL) {
        const char *end = subj;
        /* the value runs on over folded lines (CRLF then a space) */
        while ((end = strstr(end, "\r\n")) != NULL && end[2] == ' ')
            end += 2;
        {
            struct strbuf value = STRBUF_INIT;
            strbuf_append(&value, subj, end ? (size_t)(end - subj) : strlen(subj));
            mailmsg_decode_words(value.buf, &got);
            strbuf_free(&value);
        }
        CHECK_STR(got.buf, title);
    }
    strbuf_free(&got);
    mailmsg_decode_words(strstr(head.buf, "To: "), &got);
    CHECK(got.buf != NULL && strncmp(got.buf, "Zoë Ångström", strlen("Zoë Ångström")) == 0);
    CHECK(strstr(head.buf, "<ada@example.org>\r\n") != NULL);
    free(title);
    strbuf_free(&sb);
    strbuf_free(&head);
    strbuf_free(&body);
    strbuf_free(&got);
}

/* What the fuzzer found: text that looks like an encoded word is encoded
 * itself (a reader would decode it and show other text), and a display
 * name of quotes and backslashes never makes a To line over 998 octets. */
void
test_mailmsg_fuzz_found(void)
{
    struct strbuf sb = STRBUF_INIT, head = STRBUF_INIT, body = STRBUF_INIT;
    char *name = unit_build("\"", "\\\"", 300, NULL);
    const char *line, *end;

    mailmsg_sample(&sb, "=?UTF-8?B?SGk=?=", name, "x\n");
    mailmsg_split(strbuf_str(&sb), &head, &body);
    CHECK(strstr(head.buf, "Subject: =?UTF-8?B?SGk=?=\r\n") == NULL);
    CHECK(strstr(head.buf, "Subject: =?UTF-8?B?PT9VVEYtOD9CP1NHaz0/PQ==?=\r\n") != NULL);
    for (line = head.buf; (end = strstr(line, "\r\n")) != NULL; line = end + 2)
        CHECK(end - line <= 998);
    free(name);
    strbuf_free(&sb);
    strbuf_free(&head);
    strbuf_free(&body);
}

void
test_mailmsg_compose(void)
{
    struct mail_notice n = {
        .kind = MAIL_AWAITING_APPROVAL,
        .base_url = "https://cab.example.org",
        .to_name = "Ada",
        .ref = "CHG-7",
        .title = "Rotate keys",
        .state = "awaiting_approval",
        .level = "high",
        .score = 62,
        .start = "2026-12-03T10:00:00Z",
        .end = "2026-12-03T11:30:00Z",
        .needed = 3,
        .have = 1,
        .requester = "Grace",
        .approver = "",
        .decision = "",
        .comment = "",
        .services = "",
    };
    struct strbuf s = STRBUF_INIT, b = STRBUF_INIT;

    mailmsg_compose(&n, &s, &b);
    CHECK_STR(s.buf, "[Cabinet] CHG-7 awaits your approval: Rotate keys");
    CHECK(strstr(b.buf, "Hello Ada,\n") == b.buf);
    CHECK(strstr(b.buf, "Risk:      high (score 62)\n") != NULL);
    CHECK(strstr(b.buf, "Window:    2026-12-03 10:00 – 11:30 UTC\n") != NULL);
    CHECK(strstr(b.buf, "Approvals: 1 of 3\n") != NULL);
    CHECK(strstr(b.buf, "Raised by: Grace\n") != NULL);
    CHECK(strstr(b.buf, "https://cab.example.org/#/changes/CHG-7\n") != NULL);
    CHECK(strstr(b.buf, "https://cab.example.org/#/me/notifications\n") != NULL);
    strbuf_free(&s);
    strbuf_free(&b);

    n.kind = MAIL_DECISION;
    n.approver = "Bob";
    n.decision = "reject";
    n.version = 2;
    n.comment = "Not in the freeze.\nMove it.";
    n.state = "rejected";
    mailmsg_compose(&n, &s, &b);
    CHECK_STR(s.buf, "[Cabinet] CHG-7 rejected by Bob: Rotate keys");
    CHECK(strstr(b.buf, "Bob rejected version 2 of your change CHG-7 “Rotate keys”.\n") != NULL);
    CHECK(strstr(b.buf, "> Not in the freeze.\n> Move it.\n") != NULL);
    CHECK(strstr(b.buf, "The change is now rejected.\n") != NULL);
    strbuf_free(&s);
    strbuf_free(&b);

    n.decision = "approve";
    n.comment = "";
    n.state = "awaiting_approval";
    n.have = 2;
    mailmsg_compose(&n, &s, &b);
    CHECK_STR(s.buf, "[Cabinet] CHG-7 approved by Bob: Rotate keys");
    CHECK(strstr(b.buf, "Approvals: 2 of 3; it awaits the others.\n") != NULL);
    CHECK(strstr(b.buf, "> ") == NULL);
    strbuf_free(&s);
    strbuf_free(&b);

    n.state = "in_progress"; /* an emergency started before approval, now approved */
    mailmsg_compose(&n, &s, &b);
    CHECK(strstr(b.buf, "The change is now in progress.\n") != NULL);
    strbuf_free(&s);
    strbuf_free(&b);

    n.kind = MAIL_CONFLICT;
    n.other_ref = "CHG-9";
    n.other_title = "Patch DB";
    n.other_start = "2026-12-03T11:00:00Z";
    n.other_end = "2026-12-04T01:00:00Z";
    n.services = "db, api";
    mailmsg_compose(&n, &s, &b);
    CHECK_STR(s.buf, "[Cabinet] CHG-7 conflicts with CHG-9: Rotate keys");
    CHECK(strstr(b.buf, "overlaps CHG-9 “Patch DB” (2026-12-03 11:00 – 2026-12-04 01:00 UTC) on "
                        "db, api.\n") != NULL);
    strbuf_free(&s);
    strbuf_free(&b);

    n.freeze = "Year end";
    n.hard = true;
    mailmsg_compose(&n, &s, &b);
    CHECK_STR(s.buf, "[Cabinet] CHG-7 falls in the freeze “Year end”: Rotate keys");
    CHECK(strstr(b.buf, "falls in the hard freeze “Year end” on db, api.\n") != NULL);
    CHECK(strstr(b.buf, "A hard freeze stops its approval") != NULL);
    strbuf_free(&s);
    strbuf_free(&b);

    CHECK_INT(mailmsg_kind_parse("decision"), MAIL_DECISION);
    CHECK_INT(mailmsg_kind_parse("conflict"), MAIL_CONFLICT);
    CHECK_INT(mailmsg_kind_parse("awaiting_approval"), MAIL_AWAITING_APPROVAL);
    CHECK_INT(mailmsg_kind_parse("decisions"), -1);
    CHECK_INT(mailmsg_kind_parse(NULL), -1);
}
