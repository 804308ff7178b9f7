-- Cabinet schema: the whole domain of DESIGN.md §3–§6.
-- Invariants live here: NOT NULL by default, CHECKs, foreign keys with an
-- explicit ON DELETE, UNIQUE instead of read-then-insert, tstzrange windows
-- with GiST indexes.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- RFC 3339 UTC with whole seconds: the only time format Cabinet speaks.
CREATE FUNCTION cab_ts(t timestamptz) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

CREATE DOMAIN slug AS text
    CHECK (VALUE ~ '^[a-z0-9][a-z0-9-]{0,62}$');

CREATE DOMAIN sha256_hex AS text
    CHECK (VALUE ~ '^[0-9a-f]{64}$');

-- People -------------------------------------------------------------------

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash text NOT NULL,
    roles         text[] NOT NULL DEFAULT '{}'
                  CHECK (roles <@ ARRAY['cab', 'ecab', 'manager', 'admin']::text[]),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Failed logins per (lower-cased) e-mail address, for the lockout rule.
CREATE TABLE login_failures (
    id    bigserial PRIMARY KEY,
    email text NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_at ON login_failures (email, at);

CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scope        text NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'feed')),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Ed25519 public keys of approvers. Revoked keys stay, so that old approvals
-- remain verifiable.
CREATE TABLE user_keys (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    public_key text NOT NULL UNIQUE CHECK (length(decode(public_key, 'base64')) = 32),
    label      text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX user_keys_user ON user_keys (user_id);

-- The service map --------------------------------------------------------------

CREATE TABLE services (
    name        slug PRIMARY KEY,
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    tier        smallint NOT NULL CHECK (tier BETWEEN 1 AND 4),
    owner       text NOT NULL DEFAULT '' CHECK (length(owner) <= 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- service depends on depends_on; the graph may have cycles.
CREATE TABLE service_deps (
    service    text NOT NULL REFERENCES services ON DELETE CASCADE,
    depends_on text NOT NULL REFERENCES services ON DELETE RESTRICT,
    PRIMARY KEY (service, depends_on),
    CHECK (service <> depends_on)
);
CREATE INDEX service_deps_depends_on ON service_deps (depends_on);

-- Change models and changes --------------------------------------------------

CREATE TABLE models (
    name        slug PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('standard', 'normal', 'emergency')),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    -- Approval policy overriding the defaults: {"<level>": [{"role","count"}]}
    policy      jsonb CHECK (policy IS NULL OR jsonb_typeof(policy) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO models (name, kind, title, description) VALUES
    ('standard', 'standard', 'Standard change',
     'Pre-approved, low-risk and routine: approved at submit when assessed low.'),
    ('normal', 'normal', 'Normal change',
     'Assessed and approved by the CAB before it starts.'),
    ('emergency', 'emergency', 'Emergency change',
     'Must ship now: one ECAB approval, always reviewed afterwards.');

CREATE TABLE integrations (
    id                 bigserial PRIMARY KEY,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind               text NOT NULL CHECK (kind IN ('generic', 'github', 'gitlab')),
    key_hash           bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    -- HMAC verification needs the secret itself, not a hash of it.
    secret             text NOT NULL,
    model              text NOT NULL REFERENCES models ON DELETE RESTRICT,
    services           text[] NOT NULL DEFAULT '{}',
    environments       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(environments) = 'object'),
    default_duration_s integer NOT NULL DEFAULT 3600 CHECK (default_duration_s BETWEEN 60 AND 604800),
    created_by         bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    created_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz
);

CREATE TABLE changes (
    id                  bigserial PRIMARY KEY,
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description         text NOT NULL DEFAULT '',
    model               text NOT NULL REFERENCES models ON DELETE RESTRICT,
    state               text NOT NULL DEFAULT 'draft' CHECK (state IN
                        ('draft', 'awaiting_approval', 'approved', 'rejected',
                         'in_progress', 'review', 'closed', 'cancelled')),
    -- version numbers the content approvers sign; rev every write (the ETag).
    version             integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    rev                 bigint NOT NULL DEFAULT 1 CHECK (rev >= 1),
    win                 tstzrange CHECK (win IS NULL OR (NOT isempty(win)
                        AND NOT lower_inf(win) AND NOT upper_inf(win))),
    business_impact     text CHECK (business_impact IN ('low', 'medium', 'high')),
    implementation_plan text NOT NULL DEFAULT '',
    backout_plan        text NOT NULL DEFAULT '',
    test_plan           text NOT NULL DEFAULT '',
    requester_id        bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    integration_id      bigint REFERENCES integrations ON DELETE SET NULL,
    source              text NOT NULL CHECK (source IN ('web', 'api', 'hook')),
    external_ref        text CHECK (length(external_ref) <= 500),
    callback_url        text,
    outcome             text CHECK (outcome IN ('successful', 'failed', 'rolled_back')),
    flags               text[] NOT NULL DEFAULT '{}'
                        CHECK (flags <@ ARRAY['unauthorized', 'retrospective']::text[]),
    content_hash        sha256_hex NOT NULL,
    gate_token          text NOT NULL UNIQUE,
    cancel_reason       text,
    completion_notes    text,
    retrospective_reason text,
    review              text,
    -- the approval policy at the current version, and how much of it is met:
    -- {"level","quotas":[{"role","count"}]}, set when the change is assessed
    policy              jsonb,
    approvals_needed    integer CHECK (approvals_needed >= 0),
    approvals_have      integer CHECK (approvals_have >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    submitted_at        timestamptz,
    approved_at         timestamptz,
    started_at          timestamptz,
    completed_at        timestamptz,
    closed_at           timestamptz,
    CHECK (length(description) <= 100000 AND length(implementation_plan) <= 100000
           AND length(backout_plan) <= 100000 AND length(test_plan) <= 100000),
    CHECK (state = 'draft' OR win IS NOT NULL)
);
CREATE INDEX changes_state ON changes (state, id);
CREATE INDEX changes_model ON changes (model, id);
CREATE INDEX changes_requester ON changes (requester_id, id);
CREATE INDEX changes_win ON changes USING gist (win);
CREATE INDEX changes_external_ref ON changes (external_ref) WHERE external_ref IS NOT NULL;
-- At most one active change per external reference (webhook links act on it).
CREATE UNIQUE INDEX changes_external_ref_active ON changes (external_ref)
    WHERE external_ref IS NOT NULL AND state IN ('draft', 'awaiting_approval', 'approved', 'in_progress');

CREATE TABLE change_services (
    change_id bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    service   text NOT NULL REFERENCES services ON DELETE RESTRICT,
    PRIMARY KEY (change_id, service)
);
CREATE INDEX change_services_service ON change_services (service, change_id);

-- The content of every version, as signed (canonical JSON) and its hash.
CREATE TABLE change_versions (
    change_id    bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    version      integer NOT NULL,
    content      jsonb NOT NULL,
    content_hash sha256_hex NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (change_id, version)
);

-- The impact set of an active change with its window: what conflicts are
-- computed on (GiST over service and window).
CREATE TABLE change_impact (
    change_id bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    service   text NOT NULL REFERENCES services ON DELETE CASCADE,
    win       tstzrange NOT NULL,
    PRIMARY KEY (change_id, service)
);
CREATE INDEX change_impact_service_win ON change_impact USING gist (service, win);

CREATE TABLE assessments (
    id         bigserial PRIMARY KEY,
    change_id  bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    version    integer NOT NULL,
    score      integer NOT NULL CHECK (score >= 0),
    level      text NOT NULL CHECK (level IN ('low', 'medium', 'high', 'critical')),
    reasons    jsonb NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
    impact_set text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assessments_change ON assessments (change_id, version, id);

CREATE TABLE approvals (
    id             bigserial PRIMARY KEY,
    change_id      bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    approver_id    bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    key_id         bigint NOT NULL REFERENCES user_keys ON DELETE RESTRICT,
    decision       text NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment        text NOT NULL DEFAULT '' CHECK (length(comment) <= 10000),
    version        integer NOT NULL,
    content_hash   sha256_hex NOT NULL,
    signed_at      text NOT NULL CHECK (signed_at ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'),
    statement      text NOT NULL,
    signature      text NOT NULL,
    policy         jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (change_id, version, approver_id)
);

CREATE TABLE comments (
    id         bigserial PRIMARY KEY,
    change_id  bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    author_id  bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_change ON comments (change_id, id);

-- Freezes and conflicts ----------------------------------------------------------

CREATE TABLE freezes (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    win        tstzrange NOT NULL CHECK (NOT isempty(win) AND NOT lower_inf(win) AND NOT upper_inf(win)),
    hard       boolean NOT NULL DEFAULT true,
    reason     text NOT NULL DEFAULT '',
    created_by bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX freezes_win ON freezes USING gist (win);

-- A freeze with no rows here covers every service.
CREATE TABLE freeze_services (
    freeze_id bigint NOT NULL REFERENCES freezes ON DELETE CASCADE,
    service   text NOT NULL REFERENCES services ON DELETE CASCADE,
    PRIMARY KEY (freeze_id, service)
);

CREATE TABLE conflicts (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('change', 'freeze')),
    change_a        bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    change_b        bigint REFERENCES changes ON DELETE CASCADE,
    -- a deleted freeze leaves its conflicts, resolved, with its name
    freeze_id       bigint REFERENCES freezes ON DELETE SET NULL,
    freeze_name     text,
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
    services        text[] NOT NULL DEFAULT '{}',
    note            text,
    acknowledged_by bigint REFERENCES users ON DELETE SET NULL,
    acknowledged_at timestamptz,
    detected_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    CHECK ((kind = 'change' AND change_b IS NOT NULL AND freeze_id IS NULL AND change_a < change_b)
        OR (kind = 'freeze' AND change_b IS NULL
            AND (freeze_id IS NOT NULL OR state = 'resolved')))
);
CREATE UNIQUE INDEX conflicts_change_pair ON conflicts (change_a, change_b) WHERE kind = 'change';
CREATE UNIQUE INDEX conflicts_change_freeze ON conflicts (change_a, freeze_id) WHERE kind = 'freeze';
CREATE INDEX conflicts_change_b ON conflicts (change_b) WHERE change_b IS NOT NULL;
CREATE INDEX conflicts_open ON conflicts (id) WHERE state <> 'resolved';

-- Audit trail ------------------------------------------------------------------------

-- Rows are inserted in the transaction of the write they record and chained
-- afterwards (seq, prev_hash, hash) by one chainer per database.
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    actor     text NOT NULL CHECK (actor ~ '^(user:[0-9]+|integration:[0-9]+|system)$'),
    action    text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    entity    text NOT NULL CHECK (length(entity) BETWEEN 1 AND 100),
    entity_id text NOT NULL,
    data      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    seq       bigint UNIQUE CHECK (seq >= 1),
    prev_hash sha256_hex,
    hash      sha256_hex,
    CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL))
);
CREATE INDEX audit_log_unchained ON audit_log (id) WHERE seq IS NULL;
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);

-- Entries are append-only: once written only the chainer may fill in the
-- chain columns, once; nothing may delete them.
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '55000';
    END IF;
    IF OLD.seq IS NOT NULL
       OR NEW.id <> OLD.id OR NEW.at <> OLD.at OR NEW.actor <> OLD.actor
       OR NEW.action <> OLD.action OR NEW.entity <> OLD.entity
       OR NEW.entity_id <> OLD.entity_id OR NEW.data <> OLD.data THEN
        RAISE EXCEPTION 'audit_log entries cannot be changed' USING ERRCODE = '55000';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();

-- Signed checkpoints of the chain: cabinet-checkpoint-v1\n<seq>\n<hash>\n<signed_at>
CREATE TABLE checkpoints (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    hash       sha256_hex NOT NULL,
    signed_at  text NOT NULL CHECK (signed_at ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'),
    signature  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One server key per installation: the public half of CABINET_SERVER_KEY_FILE.
CREATE TABLE server_key (
    id         integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    public_key text NOT NULL CHECK (length(decode(public_key, 'base64')) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency of POST /changes ----------------------------------------------------

CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash sha256_hex NOT NULL,
    status       integer NOT NULL,
    location     text,
    response     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- Webhook links in -----------------------------------------------------------------

CREATE TABLE hook_deliveries (
    id             bigserial PRIMARY KEY,
    integration_id bigint NOT NULL REFERENCES integrations ON DELETE CASCADE,
    delivery_id    text NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 255),
    event          text NOT NULL,
    status         integer NOT NULL,
    response       text NOT NULL,
    change_id      bigint REFERENCES changes ON DELETE SET NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (integration_id, delivery_id)
);

-- Events out: a transactional outbox and one delivery per subscription --------------

CREATE TABLE webhooks (
    id         bigserial PRIMARY KEY,
    url        text NOT NULL CHECK (url ~ '^https?://'),
    events     text[] NOT NULL CHECK (cardinality(events) >= 1),
    format     text NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'chat')),
    secret     text NOT NULL,
    created_by bigint NOT NULL REFERENCES users ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    event_id   text NOT NULL UNIQUE,
    type       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    fanned_out boolean NOT NULL DEFAULT false
);
CREATE INDEX outbox_pending ON outbox (id) WHERE NOT fanned_out;

CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES webhooks ON DELETE CASCADE,
    outbox_id       bigint NOT NULL REFERENCES outbox ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (webhook_id, outbox_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE delivery_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES deliveries ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    status      integer,
    error       text,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0)
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
