#include "sec/sec.h"

#include <sodium.h>
#include <string.h>

_Static_assert(SEC_PWHASH_LEN == crypto_pwhash_STRBYTES, "pwhash length");
_Static_assert(SEC_SHA256_LEN == crypto_hash_sha256_BYTES, "sha256 length");

enum outcome
sec_init(void)
{
    return sodium_init() < 0 ? ERR_INTERNAL : OK;
}

enum outcome
sec_password_hash(const char *password, char out[SEC_PWHASH_LEN])
{
    if (crypto_pwhash_str_alg(out, password, strlen(password),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ERR_INTERNAL; /* out of memory */
    return OK;
}

bool
sec_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void
sec_password_waste(const char *password)
{
    char scratch[SEC_PWHASH_LEN];

    if (sec_password_hash(password, scratch) == OK)
        sodium_memzero(scratch, sizeof scratch);
}

void
sec_token(const char *prefix, char out[SEC_TOKEN_LEN])
{
    uint8_t raw[32];
    size_t plen = strlen(prefix);

    randombytes_buf(raw, sizeof raw);
    memcpy(out, prefix, plen);
    sodium_bin2base64(out + plen, SEC_TOKEN_LEN - plen, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void
sec_sha256(const void *data, size_t len, uint8_t out[SEC_SHA256_LEN])
{
    crypto_hash_sha256(out, data, len);
}

void
sec_hex(const uint8_t *bytes, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, bytes, n);
}

void
sec_sha256_hex(const void *data, size_t len, char out[SEC_HEX256_LEN])
{
    uint8_t h[SEC_SHA256_LEN];

    sec_sha256(data, len, h);
    sec_hex(h, sizeof h, out);
}

bool
sec_equal(const char *a, const char *b)
{
    uint8_t ha[SEC_SHA256_LEN], hb[SEC_SHA256_LEN];

    /* Comparing digests keeps the time independent of where they differ
     * and lets strings of different lengths be compared safely. */
    crypto_hash_sha256(ha, (const unsigned char *)a, strlen(a));
    crypto_hash_sha256(hb, (const unsigned char *)b, strlen(b));
    return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

void
sec_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}
