-- The ingest worker keeps where each device is (community, building, jurisdiction) in memory
-- and COPYs events straight into `events`. It must hear at once when the registry changes.
CREATE FUNCTION notify_place_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('places', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER devices_place_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION notify_place_change();
CREATE TRIGGER communities_place_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON communities FOR EACH STATEMENT EXECUTE FUNCTION notify_place_change();
