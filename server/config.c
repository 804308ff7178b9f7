#include "config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/mailmsg.h"

enum config_type { CONFIG_STR, CONFIG_INT, CONFIG_BOOL };

struct config_item {
    const char *env;
    const char *flag;
    enum config_type type;
    size_t offset;
    const char *def;
    int min, max; /* for CONFIG_INT */
};

#define CONFIG_AT(field) offsetof(struct config, field)

static const struct config_item config_items[] = {
    {"CABINET_DATABASE_URL", "--database-url", CONFIG_STR, CONFIG_AT(database_url),
     "postgresql:///cabinet", 0, 0},
    {"CABINET_LISTEN", "--listen", CONFIG_STR, CONFIG_AT(listen), "127.0.0.1:8080", 0, 0},
    {"CABINET_BASE_URL", "--base-url", CONFIG_STR, CONFIG_AT(base_url), "", 0, 0},
    {"CABINET_WEB_ROOT", "--web-root", CONFIG_STR, CONFIG_AT(web_root), "web", 0, 0},
    {"CABINET_SQL_DIR", "--sql-dir", CONFIG_STR, CONFIG_AT(sql_dir), "sql", 0, 0},
    {"CABINET_SERVER_KEY_FILE", "--server-key-file", CONFIG_STR, CONFIG_AT(server_key_file),
     "cabinet-server.key", 0, 0},
    {"CABINET_SUPPORT_CONTACT", "--support-contact", CONFIG_STR, CONFIG_AT(support_contact), "", 0,
     0},
    {"CABINET_LOG_FORMAT", "--log-format", CONFIG_STR, CONFIG_AT(log_format), "text", 0, 0},
    {"CABINET_ACCESS_LOG", "--access-log", CONFIG_BOOL, CONFIG_AT(access_log), "true", 0, 0},
    {"CABINET_THREADS", "--threads", CONFIG_INT, CONFIG_AT(threads), "256", 2, 4096},
    {"CABINET_MAX_PER_CLIENT", "--max-per-client", CONFIG_INT, CONFIG_AT(max_per_client), "16", 0,
     4096},
    {"CABINET_GATE_WAITERS", "--gate-waiters", CONFIG_INT, CONFIG_AT(gate_waiters), "-1", -1, 4095},
    {"CABINET_TRUSTED_PROXIES", "--trusted-proxies", CONFIG_STR, CONFIG_AT(trusted_proxies), "", 0,
     0},
    {"CABINET_DB_POOL", "--db-pool", CONFIG_INT, CONFIG_AT(db_pool), "8", 1, 512},
    {"CABINET_DB_WAIT", "--db-wait", CONFIG_INT, CONFIG_AT(db_wait), "30", 0, 3600},
    {"CABINET_DB_BACKOFF_MS", "--db-backoff-ms", CONFIG_INT, CONFIG_AT(db_backoff_ms), "100", 1,
     60000},
    {"CABINET_DB_BACKOFF_MAX_MS", "--db-backoff-max-ms", CONFIG_INT, CONFIG_AT(db_backoff_max_ms),
     "5000", 1, 600000},
    {"CABINET_SESSION_HOURS", "--session-hours", CONFIG_INT, CONFIG_AT(session_hours), "12", 1,
     24 * 90},
    {"CABINET_WEBHOOK_RETRY_BASE", "--webhook-retry-base", CONFIG_INT,
     CONFIG_AT(webhook_retry_base), "10", 1, 3600},
    {"CABINET_WEBHOOK_GIVE_UP", "--webhook-give-up", CONFIG_INT, CONFIG_AT(webhook_give_up),
     "86400", 1, 30 * 86400},
    {"CABINET_WEBHOOK_TIMEOUT", "--webhook-timeout", CONFIG_INT, CONFIG_AT(webhook_timeout), "10",
     1, 120},
    {"CABINET_DELIVERY_WORKERS", "--delivery-workers", CONFIG_INT, CONFIG_AT(delivery_workers), "4",
     1, 64},
    {"CABINET_WEBHOOK_CA_FILE", "--webhook-ca-file", CONFIG_STR, CONFIG_AT(webhook_ca_file), "", 0,
     0},
    {"CABINET_WEBHOOK_ALLOW_LOOPBACK", "--webhook-allow-loopback", CONFIG_BOOL,
     CONFIG_AT(webhook_allow_loopback), "false", 0, 0},
    {"CABINET_COOKIE_SECURE", "--cookie-secure", CONFIG_BOOL, CONFIG_AT(cookie_secure), "false", 0,
     0},
    {"CABINET_SHUTDOWN_SECONDS", "--shutdown-seconds", CONFIG_INT, CONFIG_AT(shutdown_seconds),
     "10", 0, 3600},
    {"CABINET_TLS_CERT", "--tls-cert", CONFIG_STR, CONFIG_AT(tls_cert), "", 0, 0},
    {"CABINET_TLS_KEY", "--tls-key", CONFIG_STR, CONFIG_AT(tls_key), "", 0, 0},
    {"CABINET_SMTP_URL", "--smtp-url", CONFIG_STR, CONFIG_AT(smtp_url), "", 0, 0},
    {"CABINET_SMTP_FROM", "--smtp-from", CONFIG_STR, CONFIG_AT(smtp_from), "", 0, 0},
    {"CABINET_SMTP_TLS", "--smtp-tls", CONFIG_STR, CONFIG_AT(smtp_tls), "required", 0, 0},
};

#define CONFIG_N (sizeof config_items / sizeof config_items[0])

static struct config config_value;
const struct config *config = &config_value;

static int
config_set(const struct config_item *it, const char *value, const char *from)
{
    char *base = (char *)&config_value + it->offset;
    char *end;
    long n;

    switch (it->type) {
    case CONFIG_STR: {
        char *copy = strdup(value);
        if (copy == NULL)
            return -1;
        free(*(char **)(void *)base);
        *(char **)(void *)base = copy;
        return 0;
    }
    case CONFIG_INT:
        n = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || n < it->min || n > it->max) {
            fprintf(stderr, "cabinet: %s must be a whole number from %d to %d, not \"%s\"\n", from,
                    it->min, it->max, value);
            return -1;
        }
        *(int *)(void *)base = (int)n;
        return 0;
    case CONFIG_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0) {
            *(bool *)(void *)base = true;
        } else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
                   strcmp(value, "no") == 0 || *value == '\0') {
            *(bool *)(void *)base = false;
        } else {
            fprintf(stderr, "cabinet: %s must be true or false, not \"%s\"\n", from, value);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* The From setting split into its name and address; both empty when it is
 * not one (`serve` says so: main_preflight). */
static int
config_check_smtp(void)
{
    if (!mailmsg_from_parse(config_value.smtp_from, config_value.smtp_from_name,
                            sizeof config_value.smtp_from_name, config_value.smtp_from_address,
                            sizeof config_value.smtp_from_address)) {
        config_value.smtp_from_name[0] = '\0';
        config_value.smtp_from_address[0] = '\0';
    }
    return 0;
}

/* Whether text is one of the words a boolean setting takes. */
static bool
config_is_bool(const char *text)
{
    static const char *const words[] = {"true", "false", "1", "0", "yes", "no"};

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(text, words[i]) == 0)
            return true;
    return false;
}

/* One entry of CABINET_TRUSTED_PROXIES, "192.0.2.7", "10.0.0.0/8",
 * "2001:db8::/32", into *net. False when it is none of those. */
static bool
config_parse_net(const char *text, size_t len, struct config_net *net)
{
    char buf[64], *slash, *end;
    unsigned char v4[4];
    long bits = -1;
    bool is_v4;

    while (len > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if ((slash = strchr(buf, '/')) != NULL) {
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0')
            return false;
    }
    memset(net, 0, sizeof *net);
    is_v4 = inet_pton(AF_INET, buf, v4) == 1;
    if (is_v4) {
        net->addr[10] = net->addr[11] = 0xff;
        memcpy(net->addr + 12, v4, 4);
    } else if (inet_pton(AF_INET6, buf, net->addr) != 1) {
        return false;
    }
    if (bits > (is_v4 ? 32 : 128))
        return false;
    net->bits = bits < 0 ? 128 : (int)bits + (is_v4 ? 96 : 0);
    return true;
}

/* Parses CABINET_TRUSTED_PROXIES into config_value.trusted_nets. */
static int
config_parse_proxies(void)
{
    const char *p = config_value.trusted_proxies;
    int n = 1;

    for (const char *c = p; *c; c++)
        n += *c == ',';
    if ((config_value.trusted_nets = calloc((size_t)n, sizeof *config_value.trusted_nets)) == NULL)
        return -1;
    config_value.ntrusted = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (!config_parse_net(p, len, &config_value.trusted_nets[config_value.ntrusted++])) {
            fprintf(stderr,
                    "cabinet: CABINET_TRUSTED_PROXIES takes IP addresses and networks "
                    "(192.0.2.7, 10.0.0.0/8, 2001:db8::/32) separated by commas, not \"%.*s\"\n",
                    (int)len, p);
            return -1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

int
config_load(int *argc, char **argv)
{
    size_t i;
    int r, w;

    for (i = 0; i < CONFIG_N; i++) {
        const char *env = getenv(config_items[i].env);
        if (config_set(&config_items[i], env ? env : config_items[i].def, config_items[i].env) != 0)
            return -1;
    }
    for (r = w = 1; r < *argc; r++) {
        const char *arg = argv[r];
        const struct config_item *it = NULL;
        const char *value = NULL;

        for (i = 0; i < CONFIG_N && it == NULL; i++) {
            size_t n = strlen(config_items[i].flag);
            if (strncmp(arg, config_items[i].flag, n) != 0)
                continue;
            if (arg[n] == '=') {
                it = &config_items[i];
                value = arg + n + 1;
            } else if (arg[n] == '\0') {
                it = &config_items[i];
            }
        }
        if (it == NULL) {
            argv[w++] = argv[r];
            continue;
        }
        /* a switch alone means true; `--flag false` as `--flag=false` */
        if (value == NULL && it->type == CONFIG_BOOL)
            value = r + 1 < *argc && config_is_bool(argv[r + 1]) ? argv[++r] : "true";
        if (value == NULL) {
            if (r + 1 >= *argc) {
                fprintf(stderr, "cabinet: %s needs a value\n", it->flag);
                return -1;
            }
            value = argv[++r];
        }
        if (config_set(it, value, it->flag) != 0)
            return -1;
    }
    *argc = w;
    argv[w] = NULL;
    if (strcmp(config_value.log_format, "text") != 0 &&
        strcmp(config_value.log_format, "json") != 0) {
        fprintf(stderr, "cabinet: CABINET_LOG_FORMAT must be text or json\n");
        return -1;
    }
    if (config_value.db_backoff_max_ms < config_value.db_backoff_ms) {
        fprintf(stderr,
                "cabinet: CABINET_DB_BACKOFF_MAX_MS must be at least CABINET_DB_BACKOFF_MS\n");
        return -1;
    }
    if (config_value.gate_waiters < 0)
        config_value.gate_waiters = config_value.threads / 4;
    if (config_value.gate_waiters >= config_value.threads) {
        fprintf(stderr,
                "cabinet: CABINET_GATE_WAITERS must be less than CABINET_THREADS (%d), so "
                "that waiting clients never hold every worker\n",
                config_value.threads);
        return -1;
    }
    if (config_parse_proxies() != 0 || config_check_smtp() != 0)
        return -1;
    /* over HTTPS the session cookie never needs to travel in the clear */
    if (config_value.tls_cert[0] != '\0')
        config_value.cookie_secure = true;
    if (config_value.base_url[0] == '\0') {
        char *url;
        if (asprintf(&url, "%s://%s", config_value.tls_cert[0] != '\0' ? "https" : "http",
                     config_value.listen) < 0)
            return -1;
        free(config_value.base_url);
        config_value.base_url = url;
    }
    /* links are built by appending paths */
    for (size_t n = strlen(config_value.base_url); n > 0 && config_value.base_url[n - 1] == '/';
         n--)
        config_value.base_url[n - 1] = '\0';
    return 0;
}

void
config_free(void)
{
    size_t i;

    for (i = 0; i < CONFIG_N; i++)
        if (config_items[i].type == CONFIG_STR) {
            char **p = (char **)(void *)((char *)&config_value + config_items[i].offset);
            free(*p);
            *p = NULL;
        }
    free(config_value.trusted_nets);
    config_value.trusted_nets = NULL;
    config_value.ntrusted = 0;
}

void
config_usage(FILE *out)
{
    size_t i;

    fprintf(out, "settings, for every command (environment variable, --flag VALUE or "
                 "--flag=VALUE, default):\n");
    for (i = 0; i < CONFIG_N; i++)
        fprintf(out, "  %-30s %-24s %s\n", config_items[i].env, config_items[i].flag,
                /* -1 is a placeholder: the default is worked out */
                strcmp(config_items[i].def, "-1") == 0 ? "a quarter of CABINET_THREADS"
                                                       : config_items[i].def);
}
