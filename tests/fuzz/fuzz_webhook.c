/* The webhook signature headers. Standard Webhooks (sec_webhook_sign and
 * sec_webhook_verify, the webhook-signature list, and hooklink_timestamp,
 * webhook-timestamp): a header verifies exactly when one of its
 * space-separated entries is the signature of id.timestamp.body; the
 * signature verifies wherever it sits among other entries; a signature with
 * any byte changed, or of another body, does not; a timestamp is taken only
 * as its own decimal spelling, and is OK only within the tolerance. GitHub
 * (X-Hub-Signature-256): sec_hmac_sha256_hex is libsodium's HMAC-SHA256 in
 * lowercase hex, and the header matches exactly when it is "sha256=" and
 * that. The published vectors (tests/fixtures) hold at start.
 *
 * Input, by lines: secret (empty: the published one), id, timestamp,
 * header, then the body (the rest). */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/hooklink.h"
#include "sec/sec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define check(ok)                                                                                  \
    ((ok) ? (void)0 : (fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #ok), abort()))

static const char vector_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
#define NOW 1614265330

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char body[] = "{\"test\": 2432232314}";
    char sig[128], hex[SEC_HEX256_LEN];

    (void)argc;
    (void)argv;
    check(sodium_init() >= 0);
    check(sec_webhook_sign(vector_secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", NOW, body, strlen(body),
                           sig, sizeof sig) == OK);
    check(strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") == 0);
    sec_hmac_sha256_hex("It's a Secret to Everybody", "Hello, World!", 13, hex);
    check(strcmp(hex, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17") == 0);
    return 0;
}

/* The model of the list: whether one space-separated entry is sig. */
static bool
model_listed(const char *header, const char *sig)
{
    size_t n = strlen(sig);
    const char *p = header;

    while ((p = strstr(p, sig)) != NULL) {
        if ((p == header || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
        p++;
    }
    return false;
}

static void
fuzz_timestamp(const char *ts)
{
    long long t = -1;
    char back[32];
    enum hooklink_ts r = hooklink_timestamp(ts, NOW, &t);

    if (r != HOOKLINK_TS_MALFORMED) {
        snprintf(back, sizeof back, "%lld", t);
        check(strcmp(back, ts) == 0);
        check((r == HOOKLINK_TS_OK) ==
              (t >= NOW - HOOKLINK_TOLERANCE_S && t <= NOW + HOOKLINK_TOLERANCE_S));
    }
}

static void
fuzz_github(const char *secret, const char *header, const char *body, size_t len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[SEC_HEX256_LEN], want[SEC_HEX256_LEN], expected[SEC_HEX256_LEN + 8];

    sec_hmac_sha256_hex(secret, body, len, hex);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(want, sizeof want, mac, sizeof mac);
    check(strcmp(hex, want) == 0);
    snprintf(expected, sizeof expected, "sha256=%s", hex);
    check(sec_equal(header, expected) == (strcmp(header, expected) == 0));
    check(sec_equal(expected, expected));
}

static void
fuzz_standard(const char *secret, const char *id, const char *header, const char *body, size_t len,
              unsigned pos)
{
    char sig[128], *listed, *spoilt;
    size_t n;

    if (sec_webhook_sign(secret, id, NOW, body, len, sig, sizeof sig) != OK) {
        check(!sec_webhook_verify(secret, id, NOW, body, len, header));
        return;
    }
    check(strncmp(sig, "v1,", 3) == 0 && strlen(sig) == 3 + 44);
    check(sec_webhook_verify(secret, id, NOW, body, len, header) == model_listed(header, sig));
    check(sec_webhook_verify(secret, id, NOW, body, len, sig));
    /* among the header's entries, after the pos'th byte */
    n = strlen(header);
    listed = malloc(n + sizeof sig + 3);
    check(listed != NULL);
    pos = n ? pos % (unsigned)(n + 1) : 0;
    snprintf(listed, n + sizeof sig + 3, "%.*s %s %s", (int)pos, header, sig, header + pos);
    check(sec_webhook_verify(secret, id, NOW, body, len, listed));
    free(listed);
    /* one byte changed, or another body: refused */
    spoilt = strdup(sig);
    check(spoilt != NULL);
    spoilt[3 + pos % 44] = spoilt[3 + pos % 44] == 'A' ? 'B' : 'A';
    check(!sec_webhook_verify(secret, id, NOW, body, len, spoilt));
    free(spoilt);
    check(!sec_webhook_verify(secret, id, NOW + 1, body, len, sig));
    if (len > 0)
        check(!sec_webhook_verify(secret, id, NOW, body, len - 1, sig));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *part[4], *p;
    const char *secret;
    size_t len;
    int i;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (i = 0, p = buf; i < 4; i++) {
        part[i] = p;
        p += strcspn(p, "\n");
        if (*p == '\n')
            *p++ = '\0';
    }
    len = size - (size_t)(p - buf);
    secret = part[0][0] ? part[0] : vector_secret;
    fuzz_timestamp(part[2]);
    fuzz_github(secret, part[3], p, len);
    fuzz_standard(secret, part[1], part[3], p, len, size ? data[0] : 0);
    free(buf);
    return 0;
}
