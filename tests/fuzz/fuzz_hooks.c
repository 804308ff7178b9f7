/* The GitHub and GitLab payload mappers (api/hooks_tools.c, with the
 * domain/hooklink.c pieces they use), linked with the http_field of
 * http_shim.c. fuzz-link: server/api/hooks_tools.c server/api/decode.c tests/fuzz/http_shim.c
 *
 * For any payload and event: a delivery acted on either fails with the
 * fields at fault named, or gives the external reference
 * "<tool>:<project>:<environment>:<sha>" made of exactly the payload's
 * repository (project), environment and commit SHA in lowercase, at most
 * CHANGE_EXTERNAL_REF_MAX bytes, and a change to raise whose title is valid
 * UTF-8 of at most CHANGE_TITLE_MAX bytes, whose description is valid UTF-8,
 * with a model, services and a window; a reported time is "" or normal. It
 * never fails for want of anything but memory. An event not acted on is
 * answered 200 or 202 with a body. The generic (Standard Webhooks) kind
 * fails with fields named, or names a change or raises one.
 *
 * hooklink's own: a SHA (bare or at the end of a commit URL) is 40 hex
 * digits lowercased from the text; a GitLab time is normal; clipping keeps
 * a prefix that is valid UTF-8.
 *
 * Input: a byte choosing the kind and event, then the JSON payload. */
#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/hooks.h"
#include "domain/hooklink.h"
#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(ok)                                                                                  \
    ((ok) ? (void)0 : (fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #ok), abort()))

static const char *const github_events[] = {"deployment", "deployment_status",
                                            "deployment_protection_rule", "ping", "push"};
static const char *const gitlab_events[] = {"Deployment Hook", "Push Hook"};

static const char *
str(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);

    return json_string_value(b ? json_object_get(v, b) : v);
}

static bool
utf8(const char *s)
{
    return s != NULL && validate_utf8(s, NULL);
}

/* The SHA the payload names, as the mapper must have read it. */
static void
lower40(const char *s, char out[HOOKLINK_SHA_LEN])
{
    size_t i;

    for (i = 0; i < HOOKLINK_SHA_LEN - 1; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static void
check_raised(const struct hook_intent *in, bool github, const json_t *p)
{
    const char *project =
        github ? str(p, "repository", "full_name") : str(p, "project", "path_with_namespace");
    const char *env = github ? str(p, "deployment", "environment") : str(p, "environment", NULL);
    const char *sha = github ? str(p, "deployment", "sha") : str(p, "commit_url", NULL);
    const json_t *r = in->raise;
    char want[2048], hex[HOOKLINK_SHA_LEN];
    size_t n;

    if (github && env == NULL)
        env = str(p, "environment", NULL);
    check(project != NULL && env != NULL && sha != NULL);
    n = strlen(sha);
    if (!github && n > 0 && sha[n - 1] == '/')
        n--;
    check(n >= HOOKLINK_SHA_LEN - 1);
    lower40(sha + n - (HOOKLINK_SHA_LEN - 1), hex);
    snprintf(want, sizeof want, "%s:%s:%s:%s", github ? "github" : "gitlab", project, env, hex);
    check(strcmp(in->ref, want) == 0 && strlen(in->ref) <= CHANGE_EXTERNAL_REF_MAX);
    check(json_is_object(r));
    check(utf8(str(r, "title", NULL)) && strlen(str(r, "title", NULL)) <= CHANGE_TITLE_MAX);
    check(utf8(str(r, "description", NULL)));
    check(strcmp(str(r, "external_ref", NULL), in->ref) == 0);
    check(json_object_get(r, "model") && json_object_get(r, "services"));
    check(timefmt_is_normal(str(json_object_get(r, "window"), "start", NULL)));
    check(in->started_at[0] == '\0' || timefmt_is_normal(in->started_at));
    check(in->finished_at[0] == '\0' || timefmt_is_normal(in->finished_at));
}

static void
fuzz_tool(uint8_t pick, json_t *payload)
{
    static struct http_ctx ctx;
    json_t *row =
        json_pack("{s:s, s:[s], s:{s:[s,s]}, s:i}", "model", "standard", "services", "web",
                  "environments", "production", "db", "web", "default_duration_s", 3600);
    struct hook_link link = {1, "github", row};
    struct hook_intent in;
    enum outcome rc;
    int kind = pick % 3;

    memset(&ctx, 0, sizeof ctx);
    memset(&in, 0, sizeof in);
    if (kind == 0) {
        snprintf(in.event, sizeof in.event, "%s", github_events[(pick / 3) % 5]);
        rc = hooks_github_intent(&ctx, &link, payload, &in);
    } else if (kind == 1) {
        link.kind = "gitlab";
        snprintf(in.event, sizeof in.event, "%s", gitlab_events[(pick / 3) % 2]);
        rc = hooks_gitlab_intent(&ctx, &link, payload, &in);
    } else {
        link.kind = "generic";
        rc = hooks_generic_intent(&ctx, &link, payload, &in);
    }
    /* a long repository, task or environment is cut, never refused */
    check(rc != ERR_INTERNAL);
    check((rc == ERR_INVALID) == (ctx.fe.n > 0));
    check(rc == OK || rc == ERR_INVALID);
    if (rc == OK && !in.act)
        check((in.status == 200 || in.status == 202) && in.reply != NULL);
    if (rc == OK && in.act && kind < 2)
        check_raised(&in, kind == 0, payload);
    if (rc == OK && in.act && kind == 2)
        check(in.raise != NULL || (in.report && in.ref[0] != '\0'));
    json_decref(in.raise);
    json_decref(in.reply);
    json_decref(row);
}

static void
fuzz_hooklink(const char *s)
{
    char sha[HOOKLINK_SHA_LEN], want[HOOKLINK_SHA_LEN], at[TIMEFMT_LEN], *clip;
    size_t n = strlen(s), max;

    if (hooklink_sha(s, sha)) {
        check(n == HOOKLINK_SHA_LEN - 1 && strspn(s, "0123456789abcdefABCDEF") == n);
        lower40(s, want);
        check(strcmp(sha, want) == 0);
    }
    if (hooklink_commit_url_sha(s, sha)) {
        check(strspn(sha, "0123456789abcdef") == HOOKLINK_SHA_LEN - 1 && strchr(s, '/'));
        n -= n > 0 && s[n - 1] == '/';
        lower40(s + n - (HOOKLINK_SHA_LEN - 1), want);
        check(strcmp(sha, want) == 0 && s[n - HOOKLINK_SHA_LEN] == '/');
    }
    if (hooklink_gitlab_time(s, at))
        check(timefmt_is_normal(at));
    if (validate_utf8(s, NULL) && (clip = strdup(s)) != NULL) {
        max = n ? (unsigned char)s[0] % (n + 1) : 0;
        hooklink_clip(clip, max);
        check(strlen(clip) <= max && strncmp(clip, s, strlen(clip)) == 0);
        check(validate_utf8(clip, NULL) && strlen(clip) + 4 > max);
        free(clip);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *payload;
    char *s;

    if (size < 1)
        return 0;
    s = malloc(size);
    if (s != NULL) {
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        fuzz_hooklink(s);
        free(s);
    }
    payload = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (json_is_object(payload))
        fuzz_tool(data[0], payload);
    json_decref(payload);
    return 0;
}
