-- A freeze that opens, reopens or resolves a conflict changes the
-- representation of the change it conflicts with, so that change's row
-- revision (its ETag) must move as well. conflicts_refresh bumps only the
-- other changes of a pair, because its usual caller writes the change
-- itself; a freeze writes no change, so these two functions do it.

-- Refreshes every change the freeze may touch (those overlapping its window
-- now and those it conflicted with before) and bumps the changes whose
-- conflict records changed state. Returns how many changes were bumped.
CREATE FUNCTION freeze_conflicts_refresh(p_freeze bigint) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    x bigint;
    n integer := 0;
BEGIN
    FOR x IN SELECT DISTINCT ci.change_id FROM change_impact ci, freezes f
             WHERE f.id = p_freeze AND ci.win && f.win
             UNION SELECT k.change_a FROM conflicts k WHERE k.freeze_id = p_freeze
             ORDER BY 1
    LOOP
        IF EXISTS (SELECT 1 FROM conflicts_refresh(x)) THEN
            UPDATE changes SET rev = rev + 1 WHERE id = x;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;

-- Resolves the open conflicts of a freeze about to be deleted and bumps
-- the changes they were recorded on.
CREATE FUNCTION freeze_conflicts_resolve(p_freeze bigint) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH r AS (UPDATE conflicts SET state = 'resolved', resolved_at = now()
               WHERE freeze_id = p_freeze AND state <> 'resolved' RETURNING change_a)
    UPDATE changes c SET rev = c.rev + 1 WHERE c.id IN (SELECT change_a FROM r);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
