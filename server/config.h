/*
 * Configuration: each setting comes from its environment variable or its
 * --flag (`--flag VALUE` or `--flag=VALUE`; the flag wins), checked once at start-up; bad values
 * stop the program before it serves. The one global, fixed before any thread starts and read-only
 * afterwards.
 */
#ifndef CABINET_CONFIG_H
#define CABINET_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

/* A network of CABINET_TRUSTED_PROXIES: an IPv4 address is held as the
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d), its prefix length plus 96. */
struct config_net {
    unsigned char addr[16];
    int bits;
};

struct config {
    char *database_url;
    char *listen;
    char *base_url;
    char *web_root;
    char *sql_dir;
    char *server_key_file;
    char *support_contact;
    char *log_format;
    bool access_log; /* one line per request (README "Monitoring") */
    int threads;
    int max_per_client; /* connections (or, through a proxy, requests) per client; 0: any */
    /* clients that may long-poll a gate at once (each holds a worker);
     * given as -1: a quarter of the threads; 0: none, every gate answers
     * at once */
    int gate_waiters;
    char *trusted_proxies;           /* as given: addresses and networks, comma-separated */
    struct config_net *trusted_nets; /* trusted_proxies parsed */
    int ntrusted;
    int db_pool;
    int db_wait;           /* seconds serve waits for the database at start */
    int db_backoff_ms;     /* wait after a failed attempt to connect; doubles */
    int db_backoff_max_ms; /* ... up to this */
    int session_hours;
    int webhook_retry_base;      /* seconds before the first retry; doubles each time */
    int webhook_give_up;         /* seconds after which an undelivered event is dead */
    int webhook_timeout;         /* seconds one attempt may take */
    int delivery_workers;        /* threads sending webhooks, each with a connection */
    bool webhook_allow_loopback; /* receivers on 127.0.0.0/8 and ::1 allowed */
    char *webhook_ca_file; /* PEM bundle to trust instead of the system's ("": the system's) */
    bool cookie_secure;    /* forced on by CABINET_TLS_CERT */
    int shutdown_seconds;  /* how long a stop waits for requests and deliveries under way */
    char *tls_cert;        /* PEM certificate (chain) to serve HTTPS with; "": plain HTTP */
    char *tls_key;         /* its PEM private key */
    /* e-mail notifications (README "E-mail notifications"): "" sends none */
    char *smtp_url;           /* smtp://host:port or smtps://host:port, credentials inside */
    char *smtp_from;          /* the From setting as given: "a@b" or "Name <a@b>" */
    char *smtp_tls;           /* for smtp://: "required" (STARTTLS) or "off" */
    char smtp_from_name[128]; /* smtp_from parsed; both  when it is not an address */
    char smtp_from_address[256];
};

extern const struct config *config;

/* Reads the environment and the flags in argv (removing the ones it takes,
 * so that argc/argv keep only the command's own words). Returns 0, or -1
 * after printing what is wrong to stderr. */
int config_load(int *argc, char **argv);
/* Frees what config_load allocated. */
void config_free(void);
/* Prints the variables, flags and defaults on out. */
void config_usage(FILE *out);

#endif
