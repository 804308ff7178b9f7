-- Failed logins are counted per account and client address: repeated
-- failures from one address are slowed down (a growing delay), and an
-- account is never locked for everyone (ASVS V2.2.1).
ALTER TABLE login_failures ADD COLUMN addr text NOT NULL DEFAULT '';
DROP INDEX login_failures_email_at;
CREATE INDEX login_failures_email_addr_at ON login_failures (email, addr, at);

-- Seconds a client must still wait before its next login attempt, after
-- `failures` failures in the last 15 minutes, the latest at `last`: none
-- for the first five, then 1 s, doubling with each further failure, at
-- most 15 minutes.
CREATE FUNCTION login_retry_after(failures bigint, last timestamptz) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN failures < 5 OR last IS NULL THEN 0
                ELSE greatest(0, ceil(extract(epoch FROM
                         last + make_interval(secs => least(900, 2 ^ least(failures - 5, 10)))
                         - now())))::integer
           END
$$;

-- The longest wait any client address has left for this account (0: none).
CREATE FUNCTION login_locked_for(account text) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT COALESCE(max(login_retry_after(g.n, g.last)), 0)
    FROM (SELECT count(*) AS n, max(at) AS last FROM login_failures
          WHERE email = lower(account) AND at > now() - interval '15 minutes'
          GROUP BY addr) g
$$;
