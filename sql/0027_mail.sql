-- E-mail notifications (README "E-mail notifications").
--
-- Three things are told by e-mail:
--   awaiting_approval  a change awaits the approvers its policy counts (it
--                      was submitted, sent back for approval by an edit, or
--                      started before it was approved);
--   decision           a signed approval or rejection of the owner's change;
--   conflict           a schedule conflict or a freeze that touches the
--                      owner's change.
--
-- In the transaction of the write, a trigger records one mail_events row
-- per happening (one small insert); the mail workers of whichever instance
-- has CABINET_SMTP_URL fan each out to its recipients (mails, one per
-- person), then send them through SMTP with retries, like webhook
-- deliveries: at-least-once, claimed with FOR UPDATE SKIP LOCKED, retried
-- with backoff and marked dead after the give-up time.
--
-- Nothing is recorded while no instance sends mail: mail_relay holds when
-- one last looked, and the triggers write only if that was in the last day,
-- so an installation without SMTP never grows a queue.

CREATE TABLE mail_relay (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    seen_at timestamptz NOT NULL
);

-- What each user switched off (the kinds above); no row: everything on.
CREATE TABLE mail_preferences (
    user_id    bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    off        text[] NOT NULL DEFAULT '{}'
               CHECK (off <@ ARRAY['awaiting_approval', 'decision', 'conflict']::text[]),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mail_events (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('awaiting_approval', 'decision', 'conflict')),
    change_id  bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    facts      jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mails (
    id              bigserial PRIMARY KEY,
    event_id        bigint NOT NULL,
    user_id         bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('awaiting_approval', 'decision', 'conflict')),
    change_id       bigint NOT NULL REFERENCES changes ON DELETE CASCADE,
    facts           jsonb NOT NULL DEFAULT '{}',
    -- the same Message-ID on every attempt, so that a receiver that got a
    -- message whose acknowledgement was lost can tell the copy
    message_id      text NOT NULL UNIQUE,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'dead', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (event_id, user_id)
);
CREATE INDEX mails_due ON mails (next_attempt_at) WHERE state = 'pending';
CREATE INDEX mails_created ON mails (created_at);
CREATE INDEX mails_user ON mails (user_id);

-- Whether an instance that sends mail has looked in the last day.
CREATE FUNCTION mail_wanted() RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM mail_relay WHERE seen_at > now() - interval '1 day')
$$;

-- Whether a change in this state, with these flags, takes decisions: the
-- SQL twin of lifecycle_takes_decisions() (server/domain/lifecycle.c),
-- which tests/api/test_mail.py holds it to over every state.
CREATE FUNCTION change_takes_decisions(p_state text, p_flags text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_state = 'awaiting_approval'
           OR (p_state IN ('in_progress', 'review') AND 'unauthorized' = ANY (p_flags))
$$;

-- The outbox's events that e-mail tells of: a change that came to take
-- decisions (submitted, sent back for approval, or started before it was
-- approved, as a retrospective emergency or by a deployment hook), and each
-- change of a conflict detected.
CREATE FUNCTION mail_from_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    flags text[];
BEGIN
    IF NOT mail_wanted() THEN
        RETURN NULL;
    END IF;
    IF NEW.type = 'change.state_changed' THEN
        flags := ARRAY(SELECT jsonb_array_elements_text(NEW.payload -> 'change' -> 'flags'));
        IF change_takes_decisions(NEW.payload ->> 'to', flags)
           AND NOT change_takes_decisions(NEW.payload ->> 'from', flags) THEN
            INSERT INTO mail_events (kind, change_id)
            VALUES ('awaiting_approval', (NEW.payload -> 'change' ->> 'id')::bigint);
        END IF;
    ELSIF NEW.type = 'change.conflict_detected' THEN
        INSERT INTO mail_events (kind, change_id, facts)
        SELECT 'conflict', (x ->> 'id')::bigint, NEW.payload
        FROM jsonb_array_elements(NEW.payload -> 'changes') x;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mail_from_outbox AFTER INSERT ON outbox
    FOR EACH ROW
    WHEN (NEW.type IN ('change.state_changed', 'change.conflict_detected'))
    EXECUTE FUNCTION mail_from_outbox();

-- An edit of a change that awaits approval voids the approvals given and
-- asks again (it stays awaiting_approval, so no state_changed event says so).
CREATE FUNCTION mail_from_edit() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF mail_wanted() THEN
        INSERT INTO mail_events (kind, change_id) VALUES ('awaiting_approval', NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mail_from_edit AFTER UPDATE OF version ON changes
    FOR EACH ROW
    WHEN (NEW.version > OLD.version AND OLD.state = 'awaiting_approval'
          AND NEW.state = 'awaiting_approval')
    EXECUTE FUNCTION mail_from_edit();

-- Every signed decision, for the owner of the change.
CREATE FUNCTION mail_from_approval() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF mail_wanted() THEN
        INSERT INTO mail_events (kind, change_id, facts)
        VALUES ('decision', NEW.change_id,
                jsonb_build_object('approval', NEW.id, 'decision', NEW.decision,
                                   'approver', NEW.approver_id, 'comment', NEW.comment,
                                   'version', NEW.version));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mail_from_approval AFTER INSERT ON approvals
    FOR EACH ROW EXECUTE FUNCTION mail_from_approval();

-- Who hears of a mail event: active users who have not switched its kind
-- off; for awaiting_approval, those with a role the change's policy counts,
-- never the owner nor one who already decided this version, and only while
-- the change still waits; otherwise the owner.
CREATE FUNCTION mail_recipients(p_kind text, p_change bigint) RETURNS SETOF bigint
    LANGUAGE sql STABLE AS $$
    SELECT u.id
    FROM changes c
    JOIN users u ON CASE WHEN p_kind = 'awaiting_approval'
                         THEN u.id <> c.requester_id
                              AND u.roles && ARRAY(SELECT q ->> 'role'
                                                   FROM jsonb_array_elements(c.policy -> 'quotas') q)
                         ELSE u.id = c.requester_id END
    WHERE c.id = p_change
      AND NOT u.disabled
      AND (p_kind <> 'awaiting_approval'
           OR (change_takes_decisions(c.state, c.flags)
               AND NOT EXISTS (SELECT 1 FROM approvals a
                               WHERE a.change_id = c.id AND a.version = c.version
                                 AND a.approver_id = u.id)))
      AND NOT EXISTS (SELECT 1 FROM mail_preferences p
                      WHERE p.user_id = u.id AND p_kind = ANY (p.off))
$$;

-- Fans out up to p_limit mail events, oldest first, each in full or not at
-- all: its mails are written and the event is gone in one statement.
-- Returns how many events were fanned out.
CREATE FUNCTION mail_fan_out(p_limit integer) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH e AS (
        DELETE FROM mail_events
        WHERE id IN (SELECT id FROM mail_events ORDER BY id
                     LIMIT p_limit FOR UPDATE SKIP LOCKED)
        RETURNING *),
    m AS (
        INSERT INTO mails (event_id, user_id, kind, change_id, facts, message_id)
        SELECT e.id, r.uid, e.kind, e.change_id, e.facts,
               'cabinet-' || replace(gen_random_uuid()::text, '-', '')
        FROM e CROSS JOIN LATERAL mail_recipients(e.kind, e.change_id) AS r(uid)
        ON CONFLICT (event_id, user_id) DO NOTHING)
    SELECT count(*) INTO n FROM e;
    RETURN n;
END $$;
