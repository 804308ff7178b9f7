/* The receiver address guard (domain/netaddr.c) against a model of its
 * rule written here independently: an address is refused exactly when it
 * is unspecified, link-local, multicast or the broadcast address, or
 * loopback without allow_loopback, in IPv4, in IPv6, and in IPv4 mapped
 * (::ffff:0:0/96) or translated (64:ff9b::/96) into IPv6; so no loopback,
 * link-local or metadata address passes as a public one, however written.
 * Private ranges pass, as documented. Allowing loopback never refuses more.
 * The literal of an address (inet_ntop, bare or in brackets) gets the same
 * answer as the address; text that is no literal is NULL (a host name).
 *
 * Input: a byte of flags (1 allow loopback, 2 raw address, 4 IPv6, 8 an
 * odd family), then 4 or 16 raw bytes or the text of a literal. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "domain/netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(ok)                                                                                  \
    ((ok) ? (void)0 : (fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #ok), abort()))

/* The model: whether a (host order) IPv4 address is refused. */
static bool
model_v4(uint32_t a, bool lo)
{
    return (a >> 24) == 0               /* 0.0.0.0/8 */
           || (!lo && (a >> 24) == 127) /* 127.0.0.0/8 */
           || (a >> 16) == 0xa9fe       /* 169.254.0.0/16 */
           || (a >> 28) == 0xe          /* 224.0.0.0/4 */
           || a == 0xffffffffu;         /* broadcast */
}

static bool
model_v6(const uint8_t a[16], bool lo)
{
    uint32_t w[4];
    int i;

    for (i = 0; i < 4; i++)
        w[i] = (uint32_t)a[4 * i] << 24 | (uint32_t)a[4 * i + 1] << 16 |
               (uint32_t)a[4 * i + 2] << 8 | a[4 * i + 3];
    if ((w[0] | w[1] | w[2]) == 0 && w[3] <= 1)
        return w[3] == 0 || !lo; /* :: and ::1 */
    if (w[0] == 0 && w[1] == 0 && w[2] == 0xffff)
        return model_v4(w[3], lo); /* ::ffff:a.b.c.d */
    if (w[0] == 0x0064ff9b && w[1] == 0 && w[2] == 0)
        return model_v4(w[3], lo); /* 64:ff9b::a.b.c.d */
    if ((w[0] >> 22) == (0xfe80u >> 6))
        return true;             /* fe80::/10 */
    return (w[0] >> 24) == 0xff; /* ff00::/8 */
}

static void
literal_agrees(int family, const uint8_t *a, bool lo, bool refused)
{
    char text[INET6_ADDRSTRLEN], bracketed[INET6_ADDRSTRLEN + 2];

    check(inet_ntop(family, a, text, sizeof text) != NULL);
    check((netaddr_refused_literal(text, lo) != NULL) == refused);
    snprintf(bracketed, sizeof bracketed, "[%s]", text);
    check((netaddr_refused_literal(bracketed, lo) != NULL) == refused);
}

static void
fuzz_raw(uint8_t flags, const uint8_t *a, size_t n)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
    bool six = flags & 4, lo = flags & 1, refused, model;
    uint32_t v4;

    if (n < (six ? 16u : 4u))
        return;
    memset(&ss, 0, sizeof ss);
    if (flags & 8) {
        ss.ss_family = (sa_family_t)(a[0] == AF_INET || a[0] == AF_INET6 ? AF_UNIX : a[0]);
        check(netaddr_refused((const struct sockaddr *)&ss, lo) != NULL);
        return;
    }
    if (six) {
        in6->sin6_family = AF_INET6;
        memcpy(in6->sin6_addr.s6_addr, a, 16);
        model = model_v6(a, lo);
    } else {
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, a, 4);
        memcpy(&v4, a, 4);
        model = model_v4(ntohl(v4), lo);
    }
    refused = netaddr_refused((const struct sockaddr *)&ss, lo) != NULL;
    check(refused == model);
    /* allowing loopback never refuses more */
    if (lo)
        check(!refused || netaddr_refused((const struct sockaddr *)&ss, false) != NULL);
    literal_agrees(six ? AF_INET6 : AF_INET, a, lo, refused);
}

static void
fuzz_text(uint8_t flags, const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    uint8_t a[16];
    uint32_t v4;
    bool lo = flags & 1;
    const char *why;

    if (s == NULL)
        return;
    memcpy(s, data, n);
    s[n] = '\0';
    why = netaddr_refused_literal(s, lo);
    if (inet_pton(AF_INET, s, a) == 1) {
        memcpy(&v4, a, 4);
        check((why != NULL) == model_v4(ntohl(v4), lo));
    } else if (inet_pton(AF_INET6, s, a) == 1) {
        check((why != NULL) == model_v6(a, lo));
    } else if (s[0] != '[') {
        check(why == NULL); /* a host name: checked once resolved */
    }
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 2)
        fuzz_raw(data[0], data + 1, size - 1);
    else
        fuzz_text(data[0], data + 1, size - 1);
    return 0;
}
