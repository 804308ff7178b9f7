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
#define SEC_HEX256_LEN 65  /* 64 hex digits and NUL */
#define SEC_TOKEN_LEN 96   /* room for a prefix and 43 base64url characters */

/* Initialises libsodium; ERR_INTERNAL when it cannot. Call once at start. */
enum outcome sec_init(void);

/* Hashes a password with argon2id (interactive limits) into out. */
enum outcome sec_password_hash(const char *password, char out[SEC_PWHASH_LEN]);
/* True when password matches the stored hash. Takes ~50 ms by design. */
bool sec_password_verify(const char *hash, const char *password);
/* Runs one hash computation and discards it: makes a login for an unknown
 * account take as long as one for a known account. */
void sec_password_waste(const char *password);

/* Writes prefix followed by 32 random bytes in unpadded base64url. */
void sec_token(const char *prefix, char out[SEC_TOKEN_LEN]);

void sec_sha256(const void *data, size_t len, uint8_t out[SEC_SHA256_LEN]);
/* SHA-256 of data as 64 lowercase hex digits. */
void sec_sha256_hex(const void *data, size_t len, char out[SEC_HEX256_LEN]);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void sec_hex(const uint8_t *bytes, size_t n, char *out);

/* Compares two strings in time that depends only on their lengths. */
bool sec_equal(const char *a, const char *b);

/* Wipes n bytes at p so that the compiler cannot skip it. */
void sec_wipe(void *p, size_t n);

#endif
