#include "sec/sec.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

_Static_assert(SEC_PWHASH_LEN == crypto_pwhash_STRBYTES, "pwhash length");
_Static_assert(SEC_SHA256_LEN == crypto_hash_sha256_BYTES, "sha256 length");

enum outcome
sec_init(void)
{
    return sodium_init() < 0 ? ERR_INTERNAL : OK;
}

/* Each hash or check holds its memory cost while it runs: a few at once, so
 * that logins arriving together cannot take the process's memory (the
 * others wait their turn). Process-wide state, guarded by its mutex. */
static pthread_mutex_t sec_pw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sec_pw_freed = PTHREAD_COND_INITIALIZER;
static int sec_pw_running;

static void
sec_pw_enter(void)
{
    pthread_mutex_lock(&sec_pw_lock);
    while (sec_pw_running >= SEC_PWHASH_AT_ONCE)
        pthread_cond_wait(&sec_pw_freed, &sec_pw_lock);
    sec_pw_running++;
    pthread_mutex_unlock(&sec_pw_lock);
}

static void
sec_pw_leave(void)
{
    pthread_mutex_lock(&sec_pw_lock);
    sec_pw_running--;
    pthread_cond_signal(&sec_pw_freed);
    pthread_mutex_unlock(&sec_pw_lock);
}

enum outcome
sec_password_hash(const char *password, char out[SEC_PWHASH_LEN])
{
    int rc;

    sec_pw_enter();
    rc = crypto_pwhash_str_alg(out, password, strlen(password), SEC_PWHASH_OPS, SEC_PWHASH_MEM,
                               crypto_pwhash_ALG_ARGON2ID13);
    sec_pw_leave();
    return rc == 0 ? OK : ERR_INTERNAL; /* out of memory */
}

bool
sec_password_verify(const char *hash, const char *password)
{
    int rc;

    sec_pw_enter();
    rc = crypto_pwhash_str_verify(hash, password, strlen(password));
    sec_pw_leave();
    return rc == 0;
}

void
sec_password_waste(const char *password)
{
    char scratch[SEC_PWHASH_LEN];

    if (sec_password_hash(password, scratch) == OK)
        sodium_memzero(scratch, sizeof scratch);
}

void
sec_random_hex(size_t n, char *out)
{
    uint8_t raw[32];

    if (n > sizeof raw)
        n = sizeof raw;
    randombytes_buf(raw, n);
    sodium_bin2hex(out, 2 * n + 1, raw, n);
}

void
sec_token(const char *prefix, char out[SEC_TOKEN_LEN])
{
    uint8_t raw[32];
    size_t plen = strlen(prefix);

    randombytes_buf(raw, sizeof raw);
    memcpy(out, prefix, plen + 1);
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

/* Whether every byte of s is of the alphabet of variant (padding for the
 * original). libsodium 1.0.18 takes any byte from 0x80 up as the last digit
 * ('/' or '_'), which would give every key, signature, secret and cursor
 * many spellings: sodium_base642bin is only ever given text that passed. */
static bool
sec_b64_chars(const char *s, int variant)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    for (; *s != '\0'; s++)
        if (strchr(digits, *s) == NULL &&
            strchr(variant == sodium_base64_VARIANT_ORIGINAL ? "+/=" : "-_", *s) == NULL)
            return false;
    return true;
}

/* Decodes strict, padded base64 of exactly n bytes. */
static bool
sec_b64_exact(const char *b64, unsigned char *out, size_t n)
{
    size_t got = 0;
    const char *end = NULL;

    if (b64 == NULL ||
        strlen(b64) != sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) - 1 ||
        !sec_b64_chars(b64, sodium_base64_VARIANT_ORIGINAL))
        return false;
    if (sodium_base642bin(out, n, b64, strlen(b64), NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return got == n && *end == '\0';
}

bool
sec_ed25519_public_ok(const char *b64)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];

    return sec_b64_exact(b64, pk, sizeof pk);
}

bool
sec_ed25519_verify(const char *public_b64, const char *msg, size_t len, const char *sig_b64)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];

    if (!sec_b64_exact(public_b64, pk, sizeof pk) || !sec_b64_exact(sig_b64, sig, sizeof sig))
        return false;
    return crypto_sign_verify_detached(sig, (const unsigned char *)msg, len, pk) == 0;
}

static void
sec_b64(const unsigned char *bin, size_t n, char *out, size_t size)
{
    sodium_bin2base64(out, size, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

void
sec_ed25519_keygen(char public_b64[SEC_ED_PUBLIC_B64], char secret_b64[SEC_ED_SECRET_B64])
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

    crypto_sign_keypair(pk, sk);
    sec_b64(pk, sizeof pk, public_b64, SEC_ED_PUBLIC_B64);
    sec_b64(sk, sizeof sk, secret_b64, SEC_ED_SECRET_B64);
    sodium_memzero(sk, sizeof sk);
}

void
sec_ed25519_seed(char seed_b64[SEC_ED_PUBLIC_B64])
{
    unsigned char seed[crypto_sign_SEEDBYTES];

    randombytes_buf(seed, sizeof seed);
    sec_b64(seed, sizeof seed, seed_b64, SEC_ED_PUBLIC_B64);
    sodium_memzero(seed, sizeof seed);
}

enum outcome
sec_ed25519_from_seed(const char *seed_b64, char public_b64[SEC_ED_PUBLIC_B64],
                      char secret_b64[SEC_ED_SECRET_B64])
{
    unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES],
        sk[crypto_sign_SECRETKEYBYTES];

    if (!sec_b64_exact(seed_b64, seed, sizeof seed))
        return ERR_INVALID;
    crypto_sign_seed_keypair(pk, sk, seed);
    sec_b64(pk, sizeof pk, public_b64, SEC_ED_PUBLIC_B64);
    sec_b64(sk, sizeof sk, secret_b64, SEC_ED_SECRET_B64);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    return OK;
}

enum outcome
sec_ed25519_sign(const char *secret_b64, const char *msg, size_t len, char sig_b64[SEC_ED_SIG_B64])
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];

    if (!sec_b64_exact(secret_b64, sk, sizeof sk))
        return ERR_INVALID;
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, len, sk);
    sodium_memzero(sk, sizeof sk);
    sec_b64(sig, sizeof sig, sig_b64, SEC_ED_SIG_B64);
    return OK;
}

bool
sec_b64url_encode(const void *data, size_t len, char *out, size_t size)
{
    if (sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > size)
        return false;
    sodium_bin2base64(out, size, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return true;
}

long
sec_b64url_decode(const char *in, void *out, size_t size)
{
    size_t got = 0;
    const char *end = NULL;

    if (!sec_b64_chars(in, sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        sodium_base642bin(out, size, in, strlen(in), NULL, &got, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        *end != '\0')
        return -1;
    return (long)got;
}

void
sec_webhook_secret(char out[SEC_WEBHOOK_SECRET_LEN])
{
    unsigned char key[24];

    randombytes_buf(key, sizeof key);
    memcpy(out, "whsec_", sizeof "whsec_");
    sodium_bin2base64(out + 6, SEC_WEBHOOK_SECRET_LEN - 6, key, sizeof key,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
}

enum outcome
sec_webhook_sign(const char *secret, const char *id, long long timestamp, const char *body,
                 size_t len, char *out, size_t size)
{
    unsigned char key[256], mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    char ts[24];
    size_t klen = 0;
    const char *end = NULL;

    if (strncmp(secret, "whsec_", 6) != 0 ||
        !sec_b64_chars(secret + 6, sodium_base64_VARIANT_ORIGINAL) ||
        sodium_base642bin(key, sizeof key, secret + 6, strlen(secret + 6), NULL, &klen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *end != '\0' || klen == 0 ||
        size < 4 + sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_ORIGINAL))
        return ERR_INVALID;
    snprintf(ts, sizeof ts, "%lld", timestamp);
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", sizeof "v1,");
    sodium_bin2base64(out + 3, size - 3, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
    sodium_memzero(&st, sizeof st);
    return OK;
}

bool
sec_webhook_verify(const char *secret, const char *id, long long timestamp, const char *body,
                   size_t len, const char *header)
{
    char expected[64], one[128];
    const char *p = header, *sp;
    bool good = false;
    size_t n;

    if (header == NULL ||
        sec_webhook_sign(secret, id, timestamp, body, len, expected, sizeof expected) != OK)
        return false;
    while (*p != '\0') {
        sp = strchr(p, ' ');
        n = sp ? (size_t)(sp - p) : strlen(p);
        /* every signature is looked at, so that where the good one sits
         * does not show in the time taken */
        if (n > 0 && n < sizeof one) {
            memcpy(one, p, n);
            one[n] = '\0';
            if (strncmp(one, "v1,", 3) == 0 && sec_equal(one, expected))
                good = true;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    sodium_memzero(expected, sizeof expected);
    return good;
}

void
sec_hmac_sha256_hex(const char *key, const char *data, size_t len, char out[SEC_HEX256_LEN])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sec_hex(mac, sizeof mac, out);
    sodium_memzero(mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}
