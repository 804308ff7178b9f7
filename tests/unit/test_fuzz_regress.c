/* What fuzzing found (tests/fuzz/RESULTS.md), each kept as a test.
 *
 * base64: libsodium 1.0.18's decoder takes any byte from 0x80 up as the
 * alphabet's last digit ('/' or '_'), so text that is not base64 (a UTF-8
 * "é" where "//" belongs) decoded to the bytes of the canonical text: a
 * public key, a signature, a webhook secret or a paging cursor had many
 * spellings. sec/ now refuses every byte outside the alphabet. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "domain/hooklink.h"
#include "sec/sec.h"
#include "unit.h"

/* A valid text with its last digits before the padding made "é"'s bytes. */
static void
b64_spoil(char *s, size_t at)
{
    s[at] = (char)0xc3;
    s[at + 1] = (char)0xa9;
}

void
test_fuzz_b64_high_bytes(void)
{
    unsigned char pk[32], sk[64], sig[64], raw[64];
    char pub[SEC_ED_PUBLIC_B64], sig_b64[SEC_ED_SIG_B64], cursor[64], secret[64];
    char signature[128], msg[96], *slash;
    int i;

    /* a key whose base64 ends in "//8=" */
    memset(pk, 0xff, sizeof pk);
    sodium_bin2base64(pub, sizeof pub, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    CHECK(sec_ed25519_public_ok(pub));
    CHECK_STR(pub + 40, "//8=");
    b64_spoil(pub, 40);
    unit_row("public key %s", pub);
    CHECK(!sec_ed25519_public_ok(pub));

    /* a signature with a '/' digit (most have one): that digit as 0x80 */
    crypto_sign_keypair(pk, sk);
    sodium_bin2base64(pub, sizeof pub, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    for (i = 0, slash = NULL; slash == NULL && i < 100; i++) {
        snprintf(msg, sizeof msg, "cabinet-approval-v1\nCHG-%d\n1\nh\napprove\nt", i);
        crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), sk);
        sodium_bin2base64(sig_b64, sizeof sig_b64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
        slash = strchr(sig_b64, '/');
    }
    CHECK(slash != NULL);
    CHECK(sec_ed25519_verify(pub, msg, strlen(msg), sig_b64));
    if (slash != NULL)
        *slash = (char)0x80;
    unit_row("signature %s", sig_b64);
    CHECK(!sec_ed25519_verify(pub, msg, strlen(msg), sig_b64));

    /* a paging cursor (unpadded base64url) */
    CHECK(sec_b64url_encode("\xff\xff\xff", 3, cursor, sizeof cursor));
    CHECK_STR(cursor, "____");
    CHECK_INT(sec_b64url_decode(cursor, raw, sizeof raw), 3);
    b64_spoil(cursor, 0);
    CHECK_INT(sec_b64url_decode(cursor, raw, sizeof raw), -1);

    /* a webhook secret */
    snprintf(secret, sizeof secret, "whsec_%s", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    CHECK(sec_webhook_sign(secret, "msg_1", 1614265330, "{}", 2, signature, sizeof signature) ==
          OK);
    b64_spoil(secret, 6);
    CHECK(sec_webhook_sign(secret, "msg_1", 1614265330, "{}", 2, signature, sizeof signature) ==
          ERR_INVALID);
}

void
test_fuzz_commit_url_null(void)
{
    char sha[HOOKLINK_SHA_LEN] = "";

    CHECK(!hooklink_commit_url_sha(NULL, sha));
    CHECK(!hooklink_commit_url_sha("", sha));
    CHECK(!hooklink_commit_url_sha("/", sha));
    CHECK(!hooklink_sha(NULL, sha));
    CHECK_STR(sha, "");
}
