-- When a device was last heard from is derived from its events (index events_device), not stored:
-- updating a devices row per batch cost the ingest hot path more than the read ever will.
ALTER TABLE devices DROP COLUMN last_seen_at;

-- Events arrive in time order: a BRIN index serves time ranges and retention at a fraction of a
-- B-tree's cost per insert, which is the ingest hot path.
DROP INDEX events_received;
CREATE INDEX events_received_brin ON events USING brin (received_ts);
