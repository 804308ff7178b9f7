/* The approval and checkpoint statements (domain/statement.c) and the
 * decoding of Ed25519 keys and signatures (sec/sec.c). A statement of
 * fields free of newlines splits back into exactly those fields (so two
 * decisions never sign the same bytes); signed with a key, it verifies, and
 * the statement of another version, decision or time does not. Any text
 * taken as a public key is the canonical base64 of 32 bytes (decoding and
 * encoding it gives it back, nothing outside the alphabet); any signature
 * that verifies is the canonical base64 of 64 bytes under such a key.
 *
 * Input, by lines: ref, version, content hash, decision, signed_at, public
 * key, signature (standard base64). */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/statement.h"
#include "sec/sec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define check(ok)                                                                                  \
    ((ok) ? (void)0 : (fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #ok), abort()))

/* RFC 8032 §7.1 TEST 1 */
static const char seed_b64[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static char public_b64[SEC_ED_PUBLIC_B64], secret_b64[SEC_ED_SECRET_B64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    check(sodium_init() >= 0);
    check(sec_ed25519_from_seed(seed_b64, public_b64, secret_b64) == OK);
    check(strcmp(public_b64, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=") == 0);
    return 0;
}

/* Whether b64 is the canonical base64 of exactly n bytes. */
static bool
canonical(const char *b64, size_t n)
{
    unsigned char bin[64];
    char back[100];
    size_t got = 0;

    if (sodium_base642bin(bin, sizeof bin, b64, strlen(b64), NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != n)
        return false;
    sodium_bin2base64(back, sizeof back, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return strcmp(back, b64) == 0;
}

static void
approval(struct strbuf *sb, char *const f[5], int64_t version)
{
    strbuf_free(sb);
    statement_approval(sb, f[0], version, f[2], f[3], f[4]);
    check(!sb->failed);
}

static void
fuzz_statements(char *const f[5])
{
    struct strbuf sb = STRBUF_INIT, other = STRBUF_INIT;
    char line[8][64], sig[SEC_ED_SIG_B64], *text, *p;
    int64_t version = strtoll(f[1], NULL, 10);
    const char *parts[6];
    int i, n;

    approval(&sb, f, version);
    text = strdup(strbuf_str(&sb));
    check(text != NULL);
    for (n = 0, p = text; n < 6; n++) {
        parts[n] = p;
        if ((p = strchr(p, '\n')) == NULL)
            break;
        *p++ = '\0';
    }
    check(n == 5 && p == NULL); /* six lines: fields are free of newlines */
    snprintf(line[0], sizeof line[0], "%lld", (long long)version);
    check(strcmp(parts[0], "cabinet-approval-v1") == 0 && strcmp(parts[1], f[0]) == 0 &&
          strcmp(parts[2], line[0]) == 0 && strcmp(parts[3], f[2]) == 0 &&
          strcmp(parts[4], f[3]) == 0 && strcmp(parts[5], f[4]) == 0);
    free(text);

    check(sec_ed25519_sign(secret_b64, sb.buf, sb.len, sig) == OK);
    check(canonical(sig, 64));
    check(sec_ed25519_verify(public_b64, sb.buf, sb.len, sig));
    approval(&other, f, version == INT64_MAX ? version - 1 : version + 1);
    check(!sec_ed25519_verify(public_b64, other.buf, other.len, sig));
    strbuf_free(&other);
    statement_approval(&other, f[0], version, f[2], strcmp(f[3], "approve") ? "approve" : "reject",
                       f[4]);
    check(!sec_ed25519_verify(public_b64, other.buf, other.len, sig));
    strbuf_free(&other);

    statement_checkpoint(&other, version, f[2], f[4]);
    for (i = 0, p = other.buf; (p = strchr(p, '\n')) != NULL; p++)
        i++;
    check(i == 3 && strncmp(other.buf, "cabinet-checkpoint-v1\n", 22) == 0);
    strbuf_free(&other);
    strbuf_free(&sb);
}

static void
fuzz_keys(char *const f[5], const char *pub, const char *sig)
{
    struct strbuf sb = STRBUF_INIT;

    if (sec_ed25519_public_ok(pub))
        check(canonical(pub, 32));
    statement_approval(&sb, f[0], strtoll(f[1], NULL, 10), f[2], f[3], f[4]);
    if (sec_ed25519_verify(pub, sb.buf, sb.len, sig))
        check(canonical(pub, 32) && canonical(sig, 64));
    /* the fuzzed signature under the real key, and the real key's any */
    if (sec_ed25519_verify(public_b64, sb.buf, sb.len, sig))
        check(canonical(sig, 64));
    strbuf_free(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *part[7], *p;
    int i;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (i = 0, p = buf; i < 7; i++) {
        part[i] = p;
        p += strcspn(p, "\n");
        if (*p == '\n')
            *p++ = '\0';
    }
    fuzz_statements(part);
    fuzz_keys(part, part[5], part[6]);
    free(buf);
    return 0;
}
