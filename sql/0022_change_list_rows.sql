-- GET /changes?view=rows: a page of the search as compact rows, what a
-- list shows: the schedule's row (0013's change_row) with the model, the
-- flags, the requester, whether the viewer p_viewer raised it (`mine`)
-- and the last update. No document, no actions: a list page costs its
-- rows, not 50 documents.
CREATE FUNCTION change_list_row(c changes, p_viewer bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT (change_row(c)::jsonb
            || jsonb_build_object('model', c.model,
                                  'flags', to_jsonb(c.flags),
                                  'requester', user_ref(c.requester_id)::jsonb,
                                  'mine', c.requester_id = p_viewer,
                                  'updated_at', cab_ts(c.updated_at)))::json
$$;
