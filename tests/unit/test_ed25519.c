/* Ed25519 in sec/ against outside vectors: RFC 8032 §7.1 (keys from seeds,
 * deterministic signatures) and Wycheproof (every valid signature accepted,
 * every invalid one refused). The fixtures are committed in tests/fixtures
 * (read from the top of the repository), or where CABINET_FIXTURES points. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec/sec.h"
#include "unit.h"

static json_t *
ed_fixture(const char *name)
{
    const char *dir = getenv("CABINET_FIXTURES");
    char path[1024];
    json_t *v;

    snprintf(path, sizeof path, "%s/ed25519/%s", dir ? dir : "tests/fixtures", name);
    v = json_load_file(path, 0, NULL);
    unit_row("fixture %s", path);
    CHECK(v != NULL);
    return v;
}

/* Hex to base64 (standard, padded); NULL-safe empty. */
static void
ed_hex_b64(const char *hex, char *out, size_t size)
{
    unsigned char bin[1024];
    size_t n = 0;

    sodium_hex2bin(bin, sizeof bin, hex, strlen(hex), NULL, &n, NULL);
    sodium_bin2base64(out, size, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

static size_t
ed_hex_bin(const char *hex, unsigned char *out, size_t size)
{
    size_t n = 0;

    sodium_hex2bin(out, size, hex, strlen(hex), NULL, &n, NULL);
    return n;
}

void
test_ed25519_rfc8032(void)
{
    json_t *f = ed_fixture("rfc8032_vectors.json"), *vs = json_object_get(f, "vectors");
    size_t i;

    CHECK(sodium_init() >= 0);
    CHECK(json_array_size(vs) >= 2);
    for (i = 0; i < json_array_size(vs); i++) {
        const json_t *v = json_array_get(vs, i);
        char seed[SEC_ED_PUBLIC_B64], want_pk[SEC_ED_PUBLIC_B64], pk[SEC_ED_PUBLIC_B64];
        char sk[SEC_ED_SECRET_B64], sig[SEC_ED_SIG_B64], want_sig[SEC_ED_SIG_B64];
        unsigned char msg[1100];
        size_t mlen;

        unit_row("RFC 8032 vector %zu", i + 1);
        ed_hex_b64(json_string_value(json_object_get(v, "secret_seed_hex")), seed, sizeof seed);
        ed_hex_b64(json_string_value(json_object_get(v, "public_key_hex")), want_pk,
                   sizeof want_pk);
        ed_hex_b64(json_string_value(json_object_get(v, "signature_hex")), want_sig,
                   sizeof want_sig);
        mlen = ed_hex_bin(json_string_value(json_object_get(v, "message_hex")), msg, sizeof msg);
        CHECK_INT(sec_ed25519_from_seed(seed, pk, sk), OK);
        CHECK_STR(pk, want_pk);
        CHECK_INT(sec_ed25519_sign(sk, (const char *)msg, mlen, sig), OK);
        CHECK_STR(sig, want_sig);
        CHECK(sec_ed25519_public_ok(pk));
        CHECK(sec_ed25519_verify(pk, (const char *)msg, mlen, sig));
        /* one flipped bit anywhere in the message breaks it */
        if (mlen > 0) {
            msg[mlen / 2] ^= 1;
            CHECK(!sec_ed25519_verify(pk, (const char *)msg, mlen, sig));
        }
    }
    json_decref(f);
}

void
test_ed25519_wycheproof(void)
{
    json_t *f = ed_fixture("wycheproof_ed25519_test.json"), *groups;
    size_t g, t, valid = 0, invalid = 0;

    CHECK(sodium_init() >= 0);
    groups = json_object_get(f, "testGroups");
    for (g = 0; g < json_array_size(groups); g++) {
        const json_t *grp = json_array_get(groups, g), *tests = json_object_get(grp, "tests");
        char pk[128];

        ed_hex_b64(json_string_value(json_object_get(json_object_get(grp, "publicKey"), "pk")), pk,
                   sizeof pk);
        for (t = 0; t < json_array_size(tests); t++) {
            const json_t *tc = json_array_get(tests, t);
            const char *result = json_string_value(json_object_get(tc, "result"));
            const char *sighex = json_string_value(json_object_get(tc, "sig"));
            unsigned char msg[2048], sigbin[512];
            char sig[1024];
            size_t mlen, slen;
            bool want = strcmp(result, "valid") == 0, got;

            unit_row("Wycheproof tcId %lld (%s)",
                     (long long)json_integer_value(json_object_get(tc, "tcId")), result);
            mlen = ed_hex_bin(json_string_value(json_object_get(tc, "msg")), msg, sizeof msg);
            slen = ed_hex_bin(sighex, sigbin, sizeof sigbin);
            sodium_bin2base64(sig, sizeof sig, sigbin, slen, sodium_base64_VARIANT_ORIGINAL);
            got = sec_ed25519_verify(pk, (const char *)msg, mlen, sig);
            CHECK_INT(got, want);
            if (want)
                valid++;
            else
                invalid++;
        }
    }
    unit_row("Wycheproof totals");
    CHECK(valid > 0);
    CHECK(invalid > 0);
    CHECK_INT(valid + invalid, json_integer_value(json_object_get(f, "numberOfTests")));
    json_decref(f);
}

void
test_ed25519_encoding(void)
{
    static const struct {
        const char *b64;
        bool ok;
    } rows[] = {
        {"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", true},
        {"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo", false},  /* unpadded */
        {"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=", false}, /* base64url */
        {"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=", false}, /* non-zero pad bits */
        {"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUQ==", false}, /* 31 bytes */
        {"", false},
        {" 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", false},
    };
    size_t i;

    CHECK(sodium_init() >= 0);
    for (i = 0; i < UNIT_NELEM(rows); i++) {
        unit_row("public key \"%s\"", rows[i].b64);
        CHECK_INT(sec_ed25519_public_ok(rows[i].b64), rows[i].ok);
    }
}
