#include "domain/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static const char *
netaddr_v4(const unsigned char a[4], bool allow_loopback)
{
    if (a[0] == 0)
        return "an unspecified address";
    if (a[0] == 127)
        return allow_loopback ? NULL : "a loopback address";
    if (a[0] == 169 && a[1] == 254)
        return "a link-local address";
    if (a[0] >= 224 && a[0] <= 239)
        return "a multicast address";
    if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
        return "the broadcast address";
    return NULL;
}

static const char *
netaddr_v6(const unsigned char a[16], bool allow_loopback)
{
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

    if (memcmp(a, zero, 16) == 0)
        return "an unspecified address";
    if (memcmp(a, zero, 15) == 0 && a[15] == 1)
        return allow_loopback ? NULL : "a loopback address";
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return netaddr_v4(a + 12, allow_loopback);
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return "a link-local address";
    if (a[0] == 0xff)
        return "a multicast address";
    return NULL;
}

const char *
netaddr_refused(const struct sockaddr *sa, bool allow_loopback)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return netaddr_v4((const unsigned char *)&in->sin_addr, allow_loopback);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return netaddr_v6(in6->sin6_addr.s6_addr, allow_loopback);
    }
    return "not an internet address";
}

const char *
netaddr_refused_literal(const char *text, bool allow_loopback)
{
    unsigned char a[16];
    char inner[64];
    size_t n = strlen(text);

    if (n >= 2 && text[0] == '[' && text[n - 1] == ']' && n - 2 < sizeof inner) {
        memcpy(inner, text + 1, n - 2);
        inner[n - 2] = '\0';
        text = inner;
    }
    if (inet_pton(AF_INET, text, a) == 1)
        return netaddr_v4(a, allow_loopback);
    if (inet_pton(AF_INET6, text, a) == 1)
        return netaddr_v6(a, allow_loopback);
    return NULL;
}
