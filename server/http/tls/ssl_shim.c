/*
 * A stand-in for libssl.so, for CivetWeb's HTTPS. Debian 12's libcivetweb
 * (1.15) loads OpenSSL at run time by the name libssl.so and looks up
 * SSL_get_peer_certificate, which OpenSSL 3 no longer exports (it is a
 * macro for SSL_get1_peer_certificate there), so its TLS fails to start.
 * This library is named libssl.so (its SONAME), depends on the real
 * libssl.so.3, and adds that one function: `serve` loads it before
 * CivetWeb starts (http/server.c), and CivetWeb's dlopen("libssl.so") then
 * finds it already loaded and every other symbol in libssl.so.3 behind it.
 */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *ssl);

X509 *
SSL_get_peer_certificate(const SSL *ssl)
{
    return SSL_get1_peer_certificate(ssl);
}
