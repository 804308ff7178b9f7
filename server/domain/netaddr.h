/*
 * Which network addresses a webhook may be sent to. The delivery worker asks
 * for every address it is about to connect to (after name resolution, so a
 * name that resolves to a forbidden address is caught too), and the API asks
 * for URLs that name an address literally. Pure and thread-safe.
 */
#ifndef CABINET_NETADDR_H
#define CABINET_NETADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* NULL when a receiver may be at sa, else why not ("link-local", ...).
 * Never allowed: unspecified, link-local (cloud metadata services live
 * there), multicast and broadcast addresses, in IPv4, IPv6 and IPv4 mapped
 * or translated into IPv6. Loopback only when allow_loopback. Private
 * ranges (RFC 1918, unique local) are allowed: chat servers live there. */
const char *netaddr_refused(const struct sockaddr *sa, bool allow_loopback);

/* The same for an address literal ("169.254.169.254", "::1", "[::1]");
 * NULL as well when text is not an address literal (a host name). */
const char *netaddr_refused_literal(const char *text, bool allow_loopback);

#endif
