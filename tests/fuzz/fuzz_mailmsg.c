/* E-mail messages: for any subject, display names, sender setting, address
 * and body, the message's header lines are printable ASCII of at most 998
 * octets, each a known header or a folded continuation, every encoded word
 * at most 75 characters; every line ends in CRLF; the body is base64 lines
 * of at most 76 characters. So nothing a person types can add a header or
 * end the header block. Notices of any text compose without fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/mailmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_headers[] = {
    "Date: ",
    "From: ",
    "To: ",
    "Subject: ",
    "Message-ID: ",
    "X-Cabinet-Change: ",
    "Auto-Submitted: ",
    "MIME-Version: ",
    "Content-Type: ",
    "Content-Transfer-Encoding: ",
};

static void
fuzz_check_header(const char *line, size_t len)
{
    size_t i, known = 0;
    const char *w;

    if (len == 0 || len > 998)
        abort();
    for (i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            abort();
    for (i = 0; i < sizeof fuzz_headers / sizeof fuzz_headers[0]; i++)
        if (strncmp(line, fuzz_headers[i], strlen(fuzz_headers[i])) == 0)
            known = 1;
    if (!known && line[0] != ' ')
        abort();
    for (w = line; (w = strstr(w, "=?UTF-8?B?")) != NULL && w < line + len;) {
        const char *end = strstr(w + 10, "?=");
        if (end == NULL || end > line + len || end + 2 - w > 75)
            abort();
        w = end + 2;
    }
}

static void
fuzz_check(const char *msg)
{
    const char *line = msg, *end;
    int in_body = 0;

    for (; *line != '\0'; line = end + 2) {
        size_t len;

        end = strstr(line, "\r\n");
        if (end == NULL)
            abort(); /* a last line without CRLF */
        len = (size_t)(end - line);
        if (memchr(line, '\n', len) || memchr(line, '\r', len))
            abort();
        if (!in_body && len == 0) {
            in_body = 1;
            continue;
        }
        if (!in_body) {
            fuzz_check_header(line, len);
        } else {
            if (len == 0 || len > 76 ||
                strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                             "qrstuvwxyz0123456789+/=") != len)
                abort();
        }
    }
    if (!in_body)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *part[6] = {0}, *p;
    char fname[128], faddr[256];
    struct strbuf msg = STRBUF_INIT, subject = STRBUF_INIT, body = STRBUF_INIT;
    struct mail_notice n;
    struct mail_message m;
    int i;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* fields split by 0x01: subject, name, body, from, to, kind */
    for (i = 0, p = s; i < 6; i++) {
        part[i] = p;
        p = p ? strchr(p, '\x01') : NULL;
        if (p != NULL)
            *p++ = '\0';
    }
    for (i = 0; i < 6; i++)
        if (part[i] == NULL)
            part[i] = "";
    if (!mailmsg_from_parse(part[3], fname, sizeof fname, faddr, sizeof faddr)) {
        strcpy(fname, "Cabinet");
        strcpy(faddr, "cab@example.org");
    } else if (!mailmsg_address_ok(faddr)) {
        abort();
    }
    m = (struct mail_message){
        .from_name = fname,
        .from_address = faddr,
        .to_name = part[1],
        .to_address = mailmsg_address_ok(part[4]) ? part[4] : "ada@example.org",
        .message_id = "cabinet-0@example.org",
        .date = (int64_t)size * 86400,
        .subject = part[0],
        .body = part[2],
        .change_ref = part[1],
    };
    mailmsg_write(&msg, &m);
    if (!strbuf_failed(&msg))
        fuzz_check(strbuf_str(&msg));

    memset(&n, 0, sizeof n);
    n.kind = (enum mail_kind)((unsigned char)part[5][0] % MAIL_KINDS);
    n.base_url = "https://cab.example.org";
    n.to_name = part[1];
    n.ref = n.title = n.state = n.level = n.requester = n.approver = part[0];
    n.decision = n.comment = n.services = part[2];
    n.start = n.end = n.other_ref = n.other_title = n.other_start = n.other_end = part[3];
    n.freeze = part[4];
    n.score = (int)size - 5;
    mailmsg_compose(&n, &subject, &body);
    if (!strbuf_failed(&subject) && memchr(strbuf_str(&subject), '\0', subject.len))
        abort();
    strbuf_free(&msg);
    strbuf_free(&subject);
    strbuf_free(&body);
    free(s);
    return 0;
}
