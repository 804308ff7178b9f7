-- Walks of the service map, breadth first with a set of the services met:
-- each service is met once, at its shortest depth, however many paths lead
-- to it and whatever cycles the map has. The recursive query of 0002 kept a
-- row per (service, depth) reached: a service reached by paths of many
-- lengths was walked again from each, and a cycle kept the walk going to its
-- 1000-level bound; a few hundred services cost hundreds of milliseconds on
-- every assessment.
--
-- dependants: true walks to the services that depend on the roots (the
-- impact set of a change); false to those the roots depend on.
CREATE FUNCTION service_walk(roots text[], dependants boolean)
    RETURNS TABLE (name text, depth integer)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    seen text[];
    frontier text[];
    level integer := 0;
BEGIN
    SELECT array_agg(DISTINCT s.name::text) INTO frontier FROM services s
    WHERE s.name = ANY (roots);
    seen := frontier;
    -- array_agg of no rows is NULL: the walk ends when a level adds nothing
    WHILE frontier IS NOT NULL LOOP
        RETURN QUERY SELECT f.f, level FROM unnest(frontier) f;
        level := level + 1;
        IF dependants THEN
            SELECT array_agg(DISTINCT x.service::text) INTO frontier FROM service_deps x
            WHERE x.depends_on = ANY (frontier) AND NOT x.service = ANY (seen);
        ELSE
            SELECT array_agg(DISTINCT x.depends_on::text) INTO frontier FROM service_deps x
            WHERE x.service = ANY (frontier) AND NOT x.depends_on = ANY (seen);
        END IF;
        seen := seen || frontier;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION impact_set(roots text[])
    RETURNS TABLE (name text, depth integer)
    LANGUAGE sql STABLE AS $$
    SELECT w.name, w.depth FROM service_walk(roots, true) w
$$;
