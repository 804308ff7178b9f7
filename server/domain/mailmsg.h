/*
 * E-mail notifications as messages (README "E-mail notifications"): what a
 * notice says (mailmsg_compose), and the RFC 5322 message that carries it
 * (mailmsg_write): CRLF line ends, header values from people's input
 * written as RFC 2047 encoded words whenever they hold anything but
 * printable ASCII (so no CR or LF ever reaches a header), a UTF-8 text body
 * in base64. Pure and thread-safe.
 */
#ifndef CABINET_MAILMSG_H
#define CABINET_MAILMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/strbuf.h"

enum mail_kind { MAIL_AWAITING_APPROVAL, MAIL_DECISION, MAIL_CONFLICT };

/* The kinds by name ("awaiting_approval", "decision", "conflict"), as the
 * API and the database name them. */
#define MAIL_KINDS 3
extern const char *const mailmsg_kinds[MAIL_KINDS];
/* The kind of a name, or -1. */
int mailmsg_kind_parse(const char *name);

/* What happened, for one recipient (strings borrowed; "" when unknown). */
struct mail_notice {
    enum mail_kind kind;
    const char *base_url; /* links are made of it */
    const char *to_name;
    /* the change */
    const char *ref, *title, *state, *level;
    int score;               /* -1: not assessed */
    const char *start, *end; /* its window, RFC 3339 */
    int needed, have;        /* approvals */
    const char *requester;
    bool unauthorized; /* started before approval (a retrospective emergency, a hook) */
    /* MAIL_DECISION */
    const char *approver, *decision, *comment;
    int version;
    /* MAIL_CONFLICT: the other change, or the freeze */
    const char *other_ref, *other_title, *other_start, *other_end;
    const char *freeze;
    bool hard;
    const char *services; /* comma-separated */
};

/* The subject (one line) and the plain-text body (lines ending in LF). */
void mailmsg_compose(const struct mail_notice *n, struct strbuf *subject, struct strbuf *body);

/* A message ready for SMTP's DATA (the SMTP client does the dot-stuffing). */
struct mail_message {
    const char *from_name;    /* "" for none */
    const char *from_address; /* an address mailmsg_address_ok accepts */
    const char *to_name;      /* the recipient's display name */
    const char *to_address;   /* an address mailmsg_address_ok accepts */
    const char *message_id;   /* without the angle brackets */
    int64_t date;             /* epoch seconds */
    const char *subject;
    const char *body;       /* UTF-8 text, LF line ends */
    const char *change_ref; /* for X-Cabinet-Change, "" for none */
};
void mailmsg_write(struct strbuf *sb, const struct mail_message *m);

/* Whether addr is an address this writer puts in a header and an SMTP
 * envelope as it is: local@domain of printable ASCII, without spaces,
 * quotes, angle brackets, parentheses, commas, semicolons, backslashes or
 * "=?", at most 254 characters. */
bool mailmsg_address_ok(const char *addr);
/* Splits a From setting, "a@b" or "Name <a@b>" (the name printable ASCII,
 * optionally in double quotes, without quotes or backslashes inside), into
 * name ("" for none) and address; false when from is neither or a part
 * does not fit. */
bool mailmsg_from_parse(const char *from, char *name, size_t nsize, char *addr, size_t asize);

/* RFC 4648 base64 of n bytes, in lines of at most 76 characters each ending
 * in CRLF when wrap, else one unbroken run. */
void mailmsg_base64(struct strbuf *sb, const unsigned char *p, size_t n, bool wrap);

#endif
