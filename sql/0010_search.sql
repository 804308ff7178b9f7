-- Text search of changes (`q`) served by indexes, not by reading every
-- change: trigram GIN indexes for the title and the description (pg_trgm,
-- a trusted extension shipped with PostgreSQL), the primary key for a ref
-- (CHG-42) and 0001's btree for an external_ref. change_search_match is the
-- one test GET /changes applies; it is a single expression, so PostgreSQL
-- inlines it and sees each arm against its index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX changes_title_trgm ON changes USING gin (title gin_trgm_ops);
CREATE INDEX changes_description_trgm ON changes USING gin (description gin_trgm_ops);

-- The LIKE pattern that finds q anywhere, its wildcards taken literally.
CREATE FUNCTION search_pattern(q text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- The id a ref such as CHG-42 (any case) names, else NULL.
CREATE FUNCTION search_ref_id(q text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN q ~* '^CHG-[1-9][0-9]{0,17}$' THEN substr(q, 5)::bigint END
$$;

-- Whether a change matches q: its title or description holds q (any case),
-- q is its ref, or q is its external_ref.
CREATE FUNCTION change_search_match(p_id bigint, p_title text, p_description text,
                                    p_external_ref text, q text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_title ILIKE search_pattern(q) OR p_description ILIKE search_pattern(q)
           OR p_id = search_ref_id(q) OR p_external_ref = q
$$;
