-- Deliveries in order per subscription (README "Events out"). The pending
-- deliveries of one subscription form its lane, sent one at a time, oldest
-- first: a worker sends only a lane's head, and only while its connection
-- holds the lane's session advisory lock. A later event of a subscription
-- therefore waits until the earlier ones are delivered or dead, whichever
-- instance sends them; a head that failed and waits for its retry holds the
-- lane. A worker that dies loses its connection and with it the lock, so the
-- head it was sending is sent again at once by whoever takes the lane next
-- (at least once).

-- The heads: a subscription's pending deliveries by id. Workers no longer
-- look for due deliveries by time across all subscriptions, so the index
-- for that goes.
CREATE INDEX deliveries_lane ON deliveries (webhook_id, id) WHERE state = 'pending';
DROP INDEX deliveries_due;

-- What to send next to a subscription: its oldest pending delivery, when
-- that one is due. Nothing while the oldest waits for its retry: a later
-- delivery never overtakes it.
CREATE FUNCTION delivery_next(p_webhook bigint) RETURNS SETOF deliveries
    LANGUAGE sql STABLE ROWS 1 AS $$
    SELECT h.* FROM (SELECT * FROM deliveries d
                     WHERE d.webhook_id = p_webhook AND d.state = 'pending'
                     ORDER BY d.id LIMIT 1) h
    WHERE h.next_attempt_at <= now()
$$;

-- The lane locks: session advisory locks in the two-key space (apart from
-- the single-key locks of the migrations, the chainer and the conflict
-- rules), class 1667326564 ("cabd") and the lane's key: the subscription's
-- id, its low 31 bits (two subscriptions 2^31 apart share a lock: they only
-- wait for each other). Session locks, because a worker holds its lane while
-- it sends, outside any transaction; they need a connection of the worker's
-- own, never a transaction-pooling proxy.
CREATE FUNCTION delivery_lane_key(p_webhook bigint) RETURNS int
    LANGUAGE sql IMMUTABLE AS $$ SELECT (p_webhook & 2147483647)::int $$;

CREATE FUNCTION delivery_lane_lock(p_webhook bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_lock(1667326564, delivery_lane_key(p_webhook)) THEN
        RETURN false;
    END IF;
    -- A holder whose machine vanishes without closing its connection keeps
    -- its lanes until the server notices: on TCP, probe an idle session
    -- that holds lanes within a minute rather than the system's two hours.
    -- (Nothing to do on a Unix socket, where a dead process is seen at once.)
    PERFORM set_config('tcp_keepalives_idle', '30', false),
            set_config('tcp_keepalives_interval', '10', false),
            set_config('tcp_keepalives_count', '3', false);
    RETURN true;
END $$;

CREATE FUNCTION delivery_lane_unlock(p_webhook bigint) RETURNS boolean
    LANGUAGE sql AS $$ SELECT pg_advisory_unlock(1667326564, delivery_lane_key(p_webhook)) $$;

-- The keys of the lanes some session of this database holds now: a hint,
-- to skip them; only delivery_lane_lock decides.
CREATE FUNCTION delivery_lanes_taken() RETURNS SETOF int
    LANGUAGE sql AS $$
    SELECT l.objid::bigint::int FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1667326564
    AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
$$;
