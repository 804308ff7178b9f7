-- The gate's wake-ups (README "Gate"): whatever can change a gate's answer
-- NOTIFYs the channel cabinet_gate, and every server's listener wakes the
-- clients long-polling the gates concerned to look again.
--
--   'c<id>'  change <id>'s state, flags, window or version moved
--   'f'      a freeze or its services were created, changed or deleted: a
--            freeze touches any number of gates, so every waiter looks
--
-- NOTIFY is sent at COMMIT and not at all on ROLLBACK, so a waiter never
-- looks before the write is visible; the same payload sent twice in one
-- transaction is delivered once. Triggers rather than the workflow's own
-- statements, so that no path that writes a change (the API, hooks, a
-- manager's psql) can forget to.

CREATE FUNCTION gate_notify_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cabinet_gate', 'c' || NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER changes_gate_notify AFTER UPDATE ON changes FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.flags IS DISTINCT FROM NEW.flags
          OR OLD.win IS DISTINCT FROM NEW.win OR OLD.version IS DISTINCT FROM NEW.version
          OR OLD.model IS DISTINCT FROM NEW.model)
    EXECUTE FUNCTION gate_notify_change();

-- The stored impact set (change_impact_sets, 0012) is rewritten by an
-- assessment that moves it: the impact set a freeze is judged on.
CREATE FUNCTION gate_notify_impact() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('cabinet_gate', 'c' || OLD.change_id);
        RETURN NULL;
    END IF;
    PERFORM pg_notify('cabinet_gate', 'c' || NEW.change_id);
    RETURN NULL;
END $$;

CREATE TRIGGER change_impact_gate_notify AFTER INSERT OR UPDATE OR DELETE ON change_impact_sets
    FOR EACH ROW EXECUTE FUNCTION gate_notify_impact();

CREATE FUNCTION gate_notify_freeze() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cabinet_gate', 'f');
    RETURN NULL;
END $$;

CREATE TRIGGER freezes_gate_notify AFTER INSERT OR UPDATE OR DELETE ON freezes
    FOR EACH STATEMENT EXECUTE FUNCTION gate_notify_freeze();
CREATE TRIGGER freeze_services_gate_notify AFTER INSERT OR UPDATE OR DELETE ON freeze_services
    FOR EACH STATEMENT EXECUTE FUNCTION gate_notify_freeze();
