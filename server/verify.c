#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_canon.h"
#include "db/db_audit.h"
#include "domain/statement.h"
#include "sec/sec.h"

#define VERIFY_BATCH 5000

struct verify {
    FILE *out;
    int problems;
    int64_t entries;
    int checkpoints;
    int approvals;
    int versions;
};

static void
verify_bad(struct verify *v, const char *fmt, ...)
{
    va_list ap;

    v->problems++;
    fputs("FAIL: ", v->out);
    va_start(ap, fmt);
    vfprintf(v->out, fmt, ap);
    va_end(ap);
    fputc('\n', v->out);
}

static const char *
verify_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t
verify_int(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Checks that entry e continues the chain after *seq and prev. */
static bool
verify_entry(struct verify *v, const json_t *e, int64_t *seq, char prev[65])
{
    int64_t s = verify_int(e, "seq"), id = verify_int(e, "id");
    char hash[65];

    if (s != *seq + 1) {
        if (s > *seq + 1)
            verify_bad(v,
                       "audit_log seq %lld is missing (deleted?): seq %lld (id %lld) "
                       "follows seq %lld",
                       (long long)*seq + 1, (long long)s, (long long)id, (long long)*seq);
        else
            verify_bad(v, "audit_log seq %lld (id %lld) is out of order", (long long)s,
                       (long long)id);
        return false;
    }
    if (strcmp(verify_str(e, "prev_hash"), prev) != 0) {
        verify_bad(v,
                   "audit_log seq %lld (id %lld): prev_hash does not match the hash of "
                   "seq %lld (reordered or edited?)",
                   (long long)s, (long long)id, (long long)*seq);
        return false;
    }
    if (!audit_canon_hash(e, s, prev, hash) || strcmp(hash, verify_str(e, "hash")) != 0) {
        verify_bad(v,
                   "audit_log seq %lld (id %lld): its hash does not match its content "
                   "(edited?)",
                   (long long)s, (long long)id);
        return false;
    }
    memcpy(prev, hash, 65);
    *seq = s;
    v->entries++;
    return true;
}

/* Checks a run of entries; stops at the first bad one (false). */
static bool
verify_entries(struct verify *v, const json_t *entries, int64_t *seq, char prev[65])
{
    size_t i;

    for (i = 0; i < json_array_size(entries); i++)
        if (!verify_entry(v, json_array_get(entries, i), seq, prev))
            return false;
    return true;
}

static bool
verify_checkpoint_sig(struct verify *v, const json_t *cp, const char *public_key)
{
    struct strbuf st = STRBUF_INIT;
    bool ok;

    statement_checkpoint(&st, verify_int(cp, "seq"), verify_str(cp, "hash"),
                         verify_str(cp, "signed_at"));
    ok = !strbuf_failed(&st) &&
         sec_ed25519_verify(public_key, st.buf, st.len, verify_str(cp, "signature"));
    strbuf_free(&st);
    if (!ok)
        verify_bad(v, "checkpoint at seq %lld: the server's signature does not verify",
                   (long long)verify_int(cp, "seq"));
    v->checkpoints += ok;
    return ok;
}

static bool
verify_approval(struct verify *v, const json_t *a, const char *ref)
{
    struct strbuf st = STRBUF_INIT;
    bool ok;

    statement_approval(&st, ref ? ref : verify_str(a, "ref"), verify_int(a, "version"),
                       verify_str(a, "content_hash"), verify_str(a, "decision"),
                       verify_str(a, "signed_at"));
    if (strbuf_failed(&st) || strcmp(st.buf, verify_str(a, "statement")) != 0) {
        verify_bad(v, "approval %lld: its statement does not match its fields",
                   (long long)verify_int(a, "id"));
        ok = false;
    } else if (!sec_ed25519_verify(verify_str(a, "public_key"), st.buf, st.len,
                                   verify_str(a, "signature"))) {
        verify_bad(v, "approval %lld: the signature does not verify with key %s",
                   (long long)verify_int(a, "id"), verify_str(a, "public_key"));
        ok = false;
    } else {
        ok = true;
        v->approvals++;
    }
    strbuf_free(&st);
    return ok;
}

int
verify_database(struct db *db, FILE *out)
{
    struct verify v = {out, 0, 0, 0, 0, 0};
    json_t *cps = NULL, *key = NULL, *batch = NULL, *stale = NULL, *approvals = NULL;
    char prev[65];
    int64_t seq = 0;
    size_t next_cp = 0, i;
    bool chain_ok = true;
    enum outcome rc;

    memset(prev, '0', 64);
    prev[64] = '\0';
    if ((rc = db_audit_server_key_get(db, &key)) == ERR_NOT_FOUND) {
        fprintf(out, "FAIL: no server key is recorded in this database, so nothing here was "
                     "ever signed: it has never been served (cabinet serve records its key at "
                     "its first start); is CABINET_DATABASE_URL the database you meant?\n");
        v.problems++;
        goto out;
    }
    if (rc != OK || db_audit_checkpoints(db, &cps) != OK ||
        db_audit_approvals(db, &approvals) != OK || db_audit_stale(db, &stale) != OK) {
        fprintf(out, "FAIL: cannot read the audit tables: is this a Cabinet database, migrated "
                     "(cabinet migrate)?\n");
        v.problems++;
        goto out;
    }
    for (;;) {
        json_decref(batch);
        batch = NULL;
        if (db_audit_list(db, seq, VERIFY_BATCH, &batch) != OK) {
            verify_bad(&v, "cannot read audit_log after seq %lld", (long long)seq);
            break;
        }
        /* checkpoints are compared as the chain passes their seq */
        for (i = 0; i < json_array_size(batch) && chain_ok; i++) {
            chain_ok = verify_entry(&v, json_array_get(batch, i), &seq, prev);
            while (chain_ok && next_cp < json_array_size(cps) &&
                   verify_int(json_array_get(cps, next_cp), "seq") == seq) {
                const json_t *cp = json_array_get(cps, next_cp++);
                if (strcmp(verify_str(cp, "hash"), prev) != 0) {
                    verify_bad(&v, "checkpoint at seq %lld does not match the chain there",
                               (long long)seq);
                    chain_ok = false;
                } else {
                    chain_ok = verify_checkpoint_sig(&v, cp, verify_str(key, "public_key"));
                }
            }
        }
        if (!chain_ok || json_array_size(batch) < VERIFY_BATCH)
            break;
    }
    if (chain_ok && next_cp < json_array_size(cps))
        verify_bad(&v,
                   "checkpoint at seq %lld signs entries the chain no longer has "
                   "(deleted at the end?); the chain ends at seq %lld",
                   (long long)verify_int(json_array_get(cps, next_cp), "seq"), (long long)seq);
    for (i = 0; i < json_array_size(approvals); i++)
        verify_approval(&v, json_array_get(approvals, i), NULL);
    if (json_array_size(stale) > 0)
        verify_bad(&v,
                   "%zu audit entries are unchained after a minute, the first id %lld "
                   "(written at %s): is a server running its chainer?",
                   json_array_size(stale), (long long)verify_int(json_array_get(stale, 0), "id"),
                   verify_str(json_array_get(stale, 0), "at"));
out:
    if (v.problems == 0)
        fprintf(out, "ok: %lld audit entries chained, %d checkpoints and %d approvals verified\n",
                (long long)v.entries, v.checkpoints, v.approvals);
    json_decref(cps);
    json_decref(key);
    json_decref(batch);
    json_decref(stale);
    json_decref(approvals);
    return v.problems == 0 ? 0 : 1;
}

int
verify_bundle(const char *path, FILE *out)
{
    struct verify v = {out, 0, 0, 0, 0, 0};
    json_t *b, *versions, *entries, *cp, *approvals, *change;
    json_error_t err;
    const char *server_key, *ref;
    char prev[65], hash[65];
    int64_t seq;
    size_t i, j;

    if ((b = json_load_file(path, 0, &err)) == NULL) {
        fprintf(out, "FAIL: %s is not JSON: %s (line %d)\n", path, err.text, err.line);
        return 1;
    }
    if (strcmp(verify_str(b, "format"), "cabinet-evidence-v1") != 0) {
        fprintf(out, "FAIL: %s is not a cabinet-evidence-v1 bundle\n", path);
        json_decref(b);
        return 1;
    }
    change = json_object_get(b, "change");
    ref = verify_str(change, "ref");
    server_key = verify_str(b, "server_public_key");
    versions = json_object_get(b, "versions");
    for (i = 0; i < json_array_size(versions); i++) {
        const json_t *ver = json_array_get(versions, i);
        struct strbuf sb = STRBUF_INIT;

        if (!audit_canon_json(json_object_get(ver, "content"), &sb) || strbuf_failed(&sb) ||
            strcmp(sb.buf, verify_str(ver, "canonical")) != 0) {
            verify_bad(&v, "version %lld: its canonical text does not match its content",
                       (long long)verify_int(ver, "version"));
        } else {
            sec_sha256_hex(sb.buf, sb.len, hash);
            if (strcmp(hash, verify_str(ver, "content_hash")) != 0)
                verify_bad(&v, "version %lld: its content does not hash to its content_hash",
                           (long long)verify_int(ver, "version"));
            else
                v.versions++;
        }
        strbuf_free(&sb);
    }
    approvals = json_object_get(b, "approvals");
    for (i = 0; i < json_array_size(approvals); i++) {
        const json_t *a = json_array_get(approvals, i);
        bool known = false;

        for (j = 0; j < json_array_size(versions); j++) {
            const json_t *ver = json_array_get(versions, j);
            known |= verify_int(ver, "version") == verify_int(a, "version") &&
                     strcmp(verify_str(ver, "content_hash"), verify_str(a, "content_hash")) == 0;
        }
        if (!known)
            verify_bad(&v, "approval %lld signs version %lld, which the bundle does not hold",
                       (long long)verify_int(a, "id"), (long long)verify_int(a, "version"));
        else
            verify_approval(&v, a, ref);
    }
    entries = json_object_get(json_object_get(b, "audit"), "entries");
    cp = json_object_get(json_object_get(b, "audit"), "checkpoint");
    if (json_array_size(entries) > 0) {
        const json_t *first = json_array_get(entries, 0);

        seq = verify_int(first, "seq") - 1;
        snprintf(prev, sizeof prev, "%s", verify_str(first, "prev_hash"));
        if (verify_entries(&v, entries, &seq, prev)) {
            if (!json_is_object(cp) || verify_int(cp, "seq") != seq ||
                strcmp(verify_str(cp, "hash"), prev) != 0)
                verify_bad(&v,
                           "the checkpoint does not sign the last entry of the bundle "
                           "(seq %lld)",
                           (long long)seq);
            else
                verify_checkpoint_sig(&v, cp, server_key);
        }
    }
    if (v.problems == 0)
        fprintf(out,
                "ok: %s — %d versions, %d approvals, %lld audit entries and %d checkpoint "
                "verified\n",
                ref, v.versions, v.approvals, (long long)v.entries, v.checkpoints);
    json_decref(b);
    return v.problems == 0 ? 0 : 1;
}
