/* Standard Webhooks signatures against the published vectors in
 * tests/fixtures/standard-webhooks, read from the top of the repository (or
 * under CABINET_FIXTURES). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec/sec.h"
#include "unit.h"

void
test_webhook_signature(void)
{
    const char *dir = getenv("CABINET_FIXTURES");
    const char *const lists[] = {"published_vectors",
                                 "derived_vectors_NOT_published_computed_locally_with_python_hmac"};
    char path[1024], sig[128];
    json_t *f;
    size_t i, l, checked = 0;

    CHECK(sodium_init() >= 0);
    snprintf(path, sizeof path, "%s/standard-webhooks/vectors.json", dir ? dir : "tests/fixtures");
    f = json_load_file(path, 0, NULL);
    unit_row("fixture %s", path);
    CHECK(f != NULL);
    for (l = 0; l < UNIT_NELEM(lists); l++) {
        const json_t *vs = json_object_get(f, lists[l]);
        for (i = 0; i < json_array_size(vs); i++) {
            const json_t *v = json_array_get(vs, i);
            const char *payload = json_string_value(json_object_get(v, "payload"));

            unit_row("%s[%zu]", lists[l], i);
            CHECK_INT(
                sec_webhook_sign(json_string_value(json_object_get(v, "secret")),
                                 json_string_value(json_object_get(v, "msg_id")),
                                 (long long)json_integer_value(json_object_get(v, "timestamp")),
                                 payload, strlen(payload), sig, sizeof sig),
                OK);
            CHECK_STR(sig, json_string_value(json_object_get(v, "expected_signature")));
            checked++;
        }
    }
    {
        const json_t *neg = json_object_get(f, "published_negative_vectors");
        for (i = 0; i < json_array_size(neg); i++) {
            const json_t *v = json_array_get(neg, i);
            const char *payload = json_string_value(json_object_get(v, "payload"));
            const json_t *ts = json_object_get(v, "timestamp");

            unit_row("published_negative_vectors[%zu]", i);
            /* only the vectors about a signature over a given message apply
             * to the sender; the others are about receivers */
            if (payload == NULL || json_object_get(v, "secret") == NULL ||
                json_object_get(v, "msg_id") == NULL ||
                json_object_get(v, "signature_header") == NULL)
                continue;
            if (sec_webhook_sign(json_string_value(json_object_get(v, "secret")),
                                 json_string_value(json_object_get(v, "msg_id")),
                                 (long long)(ts ? json_integer_value(ts) : 1614265330), payload,
                                 strlen(payload), sig, sizeof sig) == OK)
                CHECK(strcmp(sig, json_string_value(json_object_get(v, "signature_header"))) != 0);
        }
    }
    unit_row("totals");
    CHECK(checked >= 2);
    unit_row("bad secrets");
    CHECK(sec_webhook_sign("nope", "m", 1, "{}", 2, sig, sizeof sig) == ERR_INVALID);
    CHECK(sec_webhook_sign("whsec_!!!", "m", 1, "{}", 2, sig, sizeof sig) == ERR_INVALID);
    CHECK(sec_webhook_sign("whsec_", "m", 1, "{}", 2, sig, sizeof sig) == ERR_INVALID);
    CHECK(sec_webhook_sign("", "m", 1, "{}", 2, sig, sizeof sig) == ERR_INVALID);
    {
        char secret[SEC_WEBHOOK_SECRET_LEN];
        sec_webhook_secret(secret);
        unit_row("a fresh secret signs");
        CHECK(strncmp(secret, "whsec_", 6) == 0);
        CHECK(sec_webhook_sign(secret, "m", 1, "{}", 2, sig, sizeof sig) == OK);
    }
    json_decref(f);
}

/* Passwords: argon2id at 19 MiB and two passes, checked by their own
 * settings (a hash made with libsodium's interactive limits still checks). */
void
test_password_hash(void)
{
    char hash[SEC_PWHASH_LEN], old[SEC_PWHASH_LEN];

    CHECK(sodium_init() >= 0);
    CHECK_INT(sec_password_hash("correct horse", hash), OK);
    CHECK(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    CHECK(sec_password_verify(hash, "correct horse"));
    CHECK(!sec_password_verify(hash, "correct horsf"));
    CHECK(crypto_pwhash_str_alg(old, "correct horse", 13, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                crypto_pwhash_ALG_ARGON2ID13) == 0);
    CHECK(strncmp(old, "$argon2id$v=19$m=65536,", 23) == 0);
    CHECK(sec_password_verify(old, "correct horse"));
    CHECK(!sec_password_verify(old, "wrong"));
}
