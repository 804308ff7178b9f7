/*
 * Cryptography, all through libsodium: password hashing (argon2id), random
 * tokens, SHA-256, constant-time comparison and base64. The only module that
 * includes <sodium.h>. Thread-safe after sec_init().
 */
#ifndef CABINET_SEC_H
#define CABINET_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/outcome.h"

#define SEC_PWHASH_LEN 128 /* crypto_pwhash_STRBYTES */
#define SEC_SHA256_LEN 32
#define SEC_HEX256_LEN 65 /* 64 hex digits and NUL */
#define SEC_TOKEN_LEN 96  /* room for a prefix and 43 base64url characters */

/* Initialises libsodium; ERR_INTERNAL when it cannot. Call once at start. */
enum outcome sec_init(void);

/* Argon2id with 19 MiB and two passes, the first of OWASP's recommended
 * settings (libsodium's "interactive" limits take 64 MiB a hash); at most
 * SEC_PWHASH_AT_ONCE hashes or checks run at once in the process. A hash
 * made with other settings is still checked with its own. */
#define SEC_PWHASH_OPS 2
#define SEC_PWHASH_MEM (19u << 20)
#define SEC_PWHASH_AT_ONCE 2

/* Hashes a password with argon2id (the settings above) into out. */
enum outcome sec_password_hash(const char *password, char out[SEC_PWHASH_LEN]);
/* True when password matches the stored hash. Takes tens of ms by design. */
bool sec_password_verify(const char *hash, const char *password);
/* Runs one hash computation and discards it: makes a login for an unknown
 * account take as long as one for a known account. */
void sec_password_waste(const char *password);

/* Writes prefix followed by 32 random bytes in unpadded base64url. */
void sec_token(const char *prefix, char out[SEC_TOKEN_LEN]);
/* Writes n random bytes as 2n lowercase hex digits and a NUL into out. */
void sec_random_hex(size_t n, char *out);

void sec_sha256(const void *data, size_t len, uint8_t out[SEC_SHA256_LEN]);
/* SHA-256 of data as 64 lowercase hex digits. */
void sec_sha256_hex(const void *data, size_t len, char out[SEC_HEX256_LEN]);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void sec_hex(const uint8_t *bytes, size_t n, char *out);

/* Compares two strings in time that depends only on their lengths. */
bool sec_equal(const char *a, const char *b);

/* Ed25519 (README "Signed decisions"). Keys and signatures travel as
 * standard base64 with padding (RFC 4648 §4). */
#define SEC_ED_PUBLIC_B64 45 /* 32 bytes: 44 characters and NUL */
#define SEC_ED_SECRET_B64 89 /* 64 bytes: 88 characters and NUL */
#define SEC_ED_SIG_B64 89    /* 64 bytes */

/* True when b64 is the canonical base64 of exactly 32 bytes. */
bool sec_ed25519_public_ok(const char *b64);
/* True when sig_b64 is a valid signature by public_b64 of msg (len bytes):
 * crypto_sign_verify_detached, which also refuses non-canonical encodings
 * and small-order keys. */
bool sec_ed25519_verify(const char *public_b64, const char *msg, size_t len, const char *sig_b64);
/* A new key pair: the public key and the 64-byte secret key, in base64. */
void sec_ed25519_keygen(char public_b64[SEC_ED_PUBLIC_B64], char secret_b64[SEC_ED_SECRET_B64]);
/* A key pair from a 32-byte seed given in base64; ERR_INVALID when it is not
 * one. */
enum outcome sec_ed25519_from_seed(const char *seed_b64, char public_b64[SEC_ED_PUBLIC_B64],
                                   char secret_b64[SEC_ED_SECRET_B64]);
/* A fresh random 32-byte seed in base64. */
void sec_ed25519_seed(char seed_b64[SEC_ED_PUBLIC_B64]);
/* Signs msg with a 64-byte secret key (base64); ERR_INVALID for a bad key. */
enum outcome sec_ed25519_sign(const char *secret_b64, const char *msg, size_t len,
                              char sig_b64[SEC_ED_SIG_B64]);

/* Standard Webhooks: a new secret "whsec_<base64 of 24 random bytes>". */
#define SEC_WEBHOOK_SECRET_LEN 48
void sec_webhook_secret(char out[SEC_WEBHOOK_SECRET_LEN]);
/* The header value "v1,<base64 HMAC-SHA256 of id.timestamp.body>" under
 * secret (whsec_…); ERR_INVALID for a secret that is not whsec_ + base64. */
enum outcome sec_webhook_sign(const char *secret, const char *id, long long timestamp,
                              const char *body, size_t len, char *out, size_t size);

/* True when one of the space-separated signatures of header is the
 * "v1,…" of id.timestamp.body under secret (compared in constant time;
 * other versions are ignored). The timestamp's tolerance is the caller's. */
bool sec_webhook_verify(const char *secret, const char *id, long long timestamp, const char *body,
                        size_t len, const char *header);
/* HMAC-SHA256 of data under key (a string, used as its bytes) as 64
 * lowercase hex digits: GitHub's X-Hub-Signature-256 after "sha256=". */
void sec_hmac_sha256_hex(const char *key, const char *data, size_t len, char out[SEC_HEX256_LEN]);

/* Unpadded base64url of len bytes into out (size bytes); false when it
 * does not fit. */
bool sec_b64url_encode(const void *data, size_t len, char *out, size_t size);
/* Decodes strict unpadded base64url into out; the length decoded, or -1. */
long sec_b64url_decode(const char *in, void *out, size_t size);

/* Wipes n bytes at p so that the compiler cannot skip it. */
void sec_wipe(void *p, size_t n);

#endif
