-- GET /conflicts and GET /changes/{id}/conflicts: each record also names
-- its parties as compact rows, so that a page of conflicts is one request.
-- `parties` holds each change side {id, ref, title, state, window, requester};
-- a freeze record's `with` also carries the freeze's window. Additive: every
-- field 0011 returns is kept as it was.
CREATE OR REPLACE FUNCTION conflict_party(p_change bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id,
        'ref', 'CHG-' || c.id,
        'title', c.title,
        'state', c.state,
        'window', json_build_object('start', cab_ts(lower(c.win)), 'end', cab_ts(upper(c.win))),
        'requester', user_ref(c.requester_id))
    FROM changes c WHERE c.id = p_change
$$;

CREATE OR REPLACE FUNCTION conflict_doc(k conflicts, p_change bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', k.id,
        'kind', k.kind,
        'overlap', k.overlap,
        'state', k.state,
        'changes', CASE WHEN k.kind = 'change' THEN json_build_array('CHG-' || k.change_a,
                                                                   'CHG-' || k.change_b)
                        ELSE json_build_array('CHG-' || k.change_a) END,
        'parties', CASE WHEN k.kind = 'change' THEN json_build_array(conflict_party(k.change_a),
                                                                   conflict_party(k.change_b))
                        ELSE json_build_array(conflict_party(k.change_a)) END,
        'with', CASE WHEN k.kind = 'freeze' THEN
                    (SELECT json_build_object('freeze', k.freeze_id, 'name', k.freeze_name,
                                              'hard', f.hard,
                                              'window', CASE WHEN f.id IS NULL THEN NULL ELSE
                                                  json_build_object('start', cab_ts(lower(f.win)),
                                                                    'end', cab_ts(upper(f.win))) END)
                     FROM (SELECT 1) one LEFT JOIN freezes f ON f.id = k.freeze_id)
                WHEN p_change IS NULL THEN NULL
                ELSE (SELECT json_build_object('ref', 'CHG-' || o.id, 'title', o.title,
                                               'state', o.state)
                      FROM changes o
                      WHERE o.id = CASE WHEN k.change_a = p_change THEN k.change_b
                                        ELSE k.change_a END) END,
        'services', to_json(k.services),
        'note', k.note,
        'acknowledged_by', user_ref(k.acknowledged_by),
        'acknowledged_at', cab_ts(k.acknowledged_at),
        'detected_at', cab_ts(k.detected_at),
        'resolved_at', cab_ts(k.resolved_at))
$$;
