-- What /metrics reports about the data (README "Monitoring"), kept cheap at a
-- million changes: a scrape reads these tallies, a few dozen rows, and never
-- counts the tables themselves. Triggers keep them in the same transaction
-- as the change they count, so a tally is exactly as committed as its rows.
-- Each count is spread over 8 rows (by the row's id) so that concurrent
-- writers of the same state seldom wait on one tally row; a scrape sums them.

CREATE TABLE tallies (
    kind  text NOT NULL,     -- 'change', 'conflict' (open or acknowledged), 'delivery'
    state text NOT NULL,
    shard smallint NOT NULL,
    n     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, state, shard)
);

-- Changes created per day, emergency or not, for the emergency share of a
-- window: at most one row per day and kind and shard.
CREATE TABLE tallies_created (
    day       date NOT NULL,
    emergency boolean NOT NULL,
    shard     smallint NOT NULL,
    n         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, emergency, shard)
);

CREATE FUNCTION tally_add(p_kind text, p_state text, p_id bigint, p_n integer) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO tallies (kind, state, shard, n) VALUES (p_kind, p_state, p_id % 8, p_n)
    ON CONFLICT (kind, state, shard) DO UPDATE SET n = tallies.n + EXCLUDED.n
$$;

CREATE FUNCTION tally_created_add(p_at timestamptz, p_model text, p_id bigint, p_n integer)
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO tallies_created (day, emergency, shard, n)
    VALUES ((p_at AT TIME ZONE 'UTC')::date,
            COALESCE((SELECT kind = 'emergency' FROM models WHERE name = p_model), false),
            p_id % 8, p_n)
    ON CONFLICT (day, emergency, shard) DO UPDATE SET n = tallies_created.n + EXCLUDED.n
$$;

-- One trigger function for the three tables of states: conflicts count
-- only while open or acknowledged.
CREATE FUNCTION tally_state() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text := CASE TG_TABLE_NAME WHEN 'changes' THEN 'change'
                                 WHEN 'conflicts' THEN 'conflict' ELSE 'delivery' END;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND (k <> 'conflict' OR OLD.state <> 'resolved') THEN
        PERFORM tally_add(k, OLD.state, OLD.id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (k <> 'conflict' OR NEW.state <> 'resolved') THEN
        PERFORM tally_add(k, NEW.state, NEW.id, 1);
    END IF;
    -- nested: PL/pgSQL evaluates both sides of AND, and only changes have a model
    IF k = 'change' THEN
        IF TG_OP = 'INSERT' THEN
            PERFORM tally_created_add(NEW.created_at, NEW.model, NEW.id, 1);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM tally_created_add(OLD.created_at, OLD.model, OLD.id, -1);
        ELSIF NEW.model IS DISTINCT FROM OLD.model THEN
            PERFORM tally_created_add(OLD.created_at, OLD.model, OLD.id, -1);
            PERFORM tally_created_add(NEW.created_at, NEW.model, NEW.id, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Writers wait while the tallies are first counted, so that none is missed
-- or counted twice.
LOCK TABLE changes, conflicts, deliveries IN SHARE MODE;

CREATE TRIGGER changes_tally AFTER INSERT OR DELETE OR UPDATE OF state, model ON changes
    FOR EACH ROW EXECUTE FUNCTION tally_state();
CREATE TRIGGER conflicts_tally AFTER INSERT OR DELETE OR UPDATE OF state ON conflicts
    FOR EACH ROW EXECUTE FUNCTION tally_state();
CREATE TRIGGER deliveries_tally AFTER INSERT OR DELETE OR UPDATE OF state ON deliveries
    FOR EACH ROW EXECUTE FUNCTION tally_state();

INSERT INTO tallies (kind, state, shard, n)
    SELECT 'change', state, id % 8, count(*) FROM changes GROUP BY 2, 3
    UNION ALL
    SELECT 'conflict', state, id % 8, count(*) FROM conflicts WHERE state <> 'resolved' GROUP BY 2, 3
    UNION ALL
    SELECT 'delivery', state, id % 8, count(*) FROM deliveries GROUP BY 2, 3;
INSERT INTO tallies_created (day, emergency, shard, n)
    SELECT (c.created_at AT TIME ZONE 'UTC')::date, COALESCE(m.kind = 'emergency', false),
           c.id % 8, count(*)
    FROM changes c LEFT JOIN models m ON m.name = c.model GROUP BY 1, 2, 3;

-- The addresses each API token was used from, so that a use from a new one
-- is logged (auth.token_new_address) once.
CREATE TABLE api_token_addrs (
    token_id bigint NOT NULL REFERENCES api_tokens ON DELETE CASCADE,
    addr     text NOT NULL,
    first_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, addr)
);
