-- Documents planned once per session, not once per statement.
--
-- A SQL function that PostgreSQL cannot inline into the statement that
-- calls it (one whose body has a FROM) is planned anew every time that
-- statement runs, and so is every such function it calls. A change
-- document called six of them, so that planning, not reading, was most of
-- what a GET cost (2.5 ms a document where its rows take 0.25 ms). The
-- document itself and its services list are PL/pgSQL since 0014; the
-- functions below, which it calls, become PL/pgSQL too, whose statements
-- are prepared once per connection and their plans kept: same names, same
-- arguments, same results.

CREATE OR REPLACE FUNCTION user_ref(uid bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_build_object('id', u.id, 'name', u.name, 'email', u.email)
            FROM users u WHERE u.id = uid);
END $$;

-- 0002's approval, as every approval list and change document shows it.
CREATE OR REPLACE FUNCTION approval_doc(a approvals, current_version integer) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'id', a.id,
        'approver', user_ref(a.approver_id),
        'decision', a.decision,
        'comment', a.comment,
        'key_id', a.key_id,
        'public_key', (SELECT k.public_key FROM user_keys k WHERE k.id = a.key_id),
        'version', a.version,
        'content_hash', a.content_hash,
        'signed_at', a.signed_at,
        'statement', a.statement,
        'signature', a.signature,
        'valid', a.version = current_version,
        'created_at', cab_ts(a.created_at));
END $$;

-- 0011's compact conflicts and their summary.
CREATE OR REPLACE FUNCTION change_conflicts(p_change bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT COALESCE(json_agg(e.entry ORDER BY e.indirect, e.start, e.id), '[]')
        FROM (SELECT k.id, k.overlap IS DISTINCT FROM 'direct' AS indirect,
                     lower(COALESCE(o.win, f.win)) AS start,
                     json_build_object(
                         'id', k.id,
                         'kind', k.kind,
                         'overlap', k.overlap,
                         'state', k.state,
                         CASE WHEN k.kind = 'change' THEN 'other' ELSE 'freeze' END,
                         CASE WHEN k.kind = 'change'
                              THEN json_build_object('id', o.id, 'ref', 'CHG-' || o.id, 'title', o.title)
                              ELSE json_build_object('id', k.freeze_id, 'name', k.freeze_name) END)
                         AS entry
              FROM change_conflict_records(p_change) k
              LEFT JOIN changes o
                ON k.kind = 'change'
               AND o.id = CASE WHEN k.change_a = p_change THEN k.change_b ELSE k.change_a END
              LEFT JOIN freezes f ON f.id = k.freeze_id
              WHERE k.state <> 'resolved'
              ORDER BY 2, 3, 1
              LIMIT 20) e);
END $$;

CREATE OR REPLACE FUNCTION change_conflict_summary(p_change bigint) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT json_build_object(
            'total', count(*),
            'open', count(*) FILTER (WHERE k.state = 'open'),
            'acknowledged', count(*) FILTER (WHERE k.state = 'acknowledged'),
            'direct', count(*) FILTER (WHERE k.overlap = 'direct'))
        FROM change_conflict_records(p_change) k WHERE k.state <> 'resolved');
END $$;
