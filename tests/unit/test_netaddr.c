/* Which receiver addresses a webhook may be sent to. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "domain/netaddr.h"
#include "unit.h"

static const struct {
    const char *addr;
    const char *strict; /* the refusal without loopback allowed, or NULL */
    const char *loose;  /* with loopback allowed */
} netaddr_rows[] = {
    /* clang-format off */
    {"93.184.216.34",         NULL,                     NULL},
    {"10.1.2.3",              NULL,                     NULL},
    {"172.16.0.1",            NULL,                     NULL},
    {"192.168.1.10",          NULL,                     NULL},
    {"100.64.0.1",            NULL,                     NULL},
    {"0.0.0.0",               "an unspecified address", "an unspecified address"},
    {"0.1.2.3",               "an unspecified address", "an unspecified address"},
    {"127.0.0.1",             "a loopback address",     NULL},
    {"127.255.255.254",       "a loopback address",     NULL},
    {"126.255.255.255",       NULL,                     NULL},
    {"128.0.0.1",             NULL,                     NULL},
    {"169.254.169.254",       "a link-local address",   "a link-local address"},
    {"169.253.1.1",           NULL,                     NULL},
    {"169.255.1.1",           NULL,                     NULL},
    {"224.0.0.1",             "a multicast address",    "a multicast address"},
    {"239.255.255.250",       "a multicast address",    "a multicast address"},
    {"223.255.255.255",       NULL,                     NULL},
    {"240.0.0.1",             NULL,                     NULL},
    {"255.255.255.255",       "the broadcast address",  "the broadcast address"},
    {"2001:db8::1",           NULL,                     NULL},
    {"fd12:3456::1",          NULL,                     NULL},
    {"::",                    "an unspecified address", "an unspecified address"},
    {"::1",                   "a loopback address",     NULL},
    {"::2",                   NULL,                     NULL},
    {"fe80::1",               "a link-local address",   "a link-local address"},
    {"febf::1",               "a link-local address",   "a link-local address"},
    {"fec0::1",               NULL,                     NULL},
    {"ff02::1",               "a multicast address",    "a multicast address"},
    {"::ffff:127.0.0.1",      "a loopback address",     NULL},
    {"::ffff:169.254.169.254", "a link-local address",  "a link-local address"},
    {"::ffff:10.0.0.1",       NULL,                     NULL},
    {"64:ff9b::169.254.169.254", "a link-local address", "a link-local address"},
    {"64:ff9b::8.8.8.8",      NULL,                     NULL},
    /* clang-format on */
};

/* Compares a refusal with the one wanted, NULL meaning allowed; the address
 * is named in the message when they differ. */
static void
check_refusal(const char *got, const char *want, const char *addr)
{
    char g[96], w[96];

    snprintf(g, sizeof g, "%s: %s", addr, got ? got : "allowed");
    snprintf(w, sizeof w, "%s: %s", addr, want ? want : "allowed");
    CHECK_STR(g, w);
}

void
test_netaddr_sockaddr(void)
{
    size_t i;

    for (i = 0; i < sizeof netaddr_rows / sizeof netaddr_rows[0]; i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        if (strchr(netaddr_rows[i].addr, ':')) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            in6->sin6_family = AF_INET6;
            CHECK(inet_pton(AF_INET6, netaddr_rows[i].addr, &in6->sin6_addr) == 1);
        } else {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            in->sin_family = AF_INET;
            CHECK(inet_pton(AF_INET, netaddr_rows[i].addr, &in->sin_addr) == 1);
        }
        check_refusal(netaddr_refused((struct sockaddr *)&ss, false), netaddr_rows[i].strict,
                      netaddr_rows[i].addr);
        check_refusal(netaddr_refused((struct sockaddr *)&ss, true), netaddr_rows[i].loose,
                      netaddr_rows[i].addr);
    }
}

void
test_netaddr_literal(void)
{
    size_t i;
    char bracketed[80];

    for (i = 0; i < sizeof netaddr_rows / sizeof netaddr_rows[0]; i++) {
        check_refusal(netaddr_refused_literal(netaddr_rows[i].addr, false), netaddr_rows[i].strict,
                      netaddr_rows[i].addr);
        check_refusal(netaddr_refused_literal(netaddr_rows[i].addr, true), netaddr_rows[i].loose,
                      netaddr_rows[i].addr);
        if (strchr(netaddr_rows[i].addr, ':')) {
            snprintf(bracketed, sizeof bracketed, "[%s]", netaddr_rows[i].addr);
            check_refusal(netaddr_refused_literal(bracketed, false), netaddr_rows[i].strict,
                          bracketed);
        }
    }
    /* host names are not for this function to judge */
    CHECK(netaddr_refused_literal("localhost", false) == NULL);
    CHECK(netaddr_refused_literal("chat.example.org", false) == NULL);
    CHECK(netaddr_refused_literal("[]", false) == NULL);
    CHECK(netaddr_refused_literal("", false) == NULL);
    CHECK(netaddr_refused_literal("[not-an-address]", false) == NULL);
}

void
test_netaddr_other_families(void)
{
    struct sockaddr sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNIX;
    CHECK_STR(netaddr_refused(&sa, true), "not an internet address");
}
