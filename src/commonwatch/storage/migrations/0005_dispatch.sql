-- Dispatch: stations, units and their shifts, unit status history, assignments of units to
-- incidents, live positions, imported CAD history, and the per-incident response intervals.

CREATE TABLE stations (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('street_police_post', 'fire_station',
                                              'property_security_office', 'volunteer_base')),
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    jpath       ltree NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stations_jpath_gist ON stations USING gist (jpath);

CREATE TABLE units (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('patrol_car', 'foot_patrol', 'ebike_patrol',
                                                  'fire_engine', 'ambulance', 'security_guard',
                                                  'volunteer_team')),
    station_id      text NOT NULL REFERENCES stations (id),
    capabilities    text[] NOT NULL DEFAULT '{}',
    jpath           ltree NOT NULL,
    status          text NOT NULL DEFAULT 'available',
    status_since    timestamptz NOT NULL DEFAULT now(),
    -- false: on duty only while one of its shifts covers the time
    always_on_duty  boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX units_jpath_gist ON units USING gist (jpath);

CREATE TABLE unit_shifts (
    id          bigserial PRIMARY KEY,
    unit_id     text NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at)
);
CREATE INDEX unit_shifts_unit ON unit_shifts (unit_id, ends_at);

-- Every status change of every unit, with when and why (the machine's timestamps).
CREATE TABLE unit_status_log (
    id           bigserial PRIMARY KEY,
    unit_id      text NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    at           timestamptz NOT NULL,
    incident_id  text,
    actor        text,
    jpath        ltree NOT NULL
);
CREATE INDEX unit_status_log_unit ON unit_status_log (unit_id, id);

-- A unit sent to an incident. Cleared when the unit is released; an unacknowledged assignment
-- (no en route within the timeout) is marked, not cleared: the unit may still answer late.
CREATE TABLE assignments (
    id                 bigserial PRIMARY KEY,
    incident_id        text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    unit_id            text NOT NULL REFERENCES units (id),
    jpath              ltree NOT NULL,
    assigned_by        text,
    eta_s              real,
    dispatched_at      timestamptz NOT NULL,
    ack_due_at         timestamptz NOT NULL,
    en_route_at        timestamptz,
    on_scene_at        timestamptz,
    cleared_at         timestamptz,
    unacknowledged_at  timestamptz
);
CREATE INDEX assignments_incident ON assignments (incident_id);
-- One open assignment per unit: a unit works one incident at a time.
CREATE UNIQUE INDEX assignments_open_unit ON assignments (unit_id) WHERE cleared_at IS NULL;

-- Latest position per unit. Migration 0004 (OwnTracks) creates the same table; whichever runs
-- first creates it and both write to it.
CREATE TABLE IF NOT EXISTS unit_positions (
    unit_id     text PRIMARY KEY,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    accuracy_m  real,
    speed_kmh   real,
    battery     real,
    at          timestamptz NOT NULL,
    jpath       ltree NOT NULL
);

-- Imported CAD history (commonwatch import cad-csv): one row per call, with the incident-level
-- timestamps (first unit dispatched, en route, on scene), and one row per unit response.
CREATE TABLE cad_calls (
    id             text PRIMARY KEY,       -- '<format>:<call number>'
    source         text NOT NULL DEFAULT 'cad_import',
    format         text NOT NULL,
    call_number    text NOT NULL,
    call_type      text NOT NULL,
    incident_type  text NOT NULL,
    jpath          ltree NOT NULL,
    lat            double precision,
    lon            double precision,
    received_at    timestamptz NOT NULL,
    answered_at    timestamptz,
    dispatched_at  timestamptz,
    en_route_at    timestamptz,
    on_scene_at    timestamptz,
    imported_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cad_calls_received ON cad_calls (received_at);
CREATE INDEX cad_calls_jpath_gist ON cad_calls USING gist (jpath);

CREATE TABLE cad_responses (
    call_id        text NOT NULL REFERENCES cad_calls (id) ON DELETE CASCADE,
    unit_id        text NOT NULL,
    unit_type      text NOT NULL,
    sequence       integer,
    dispatched_at  timestamptz,
    en_route_at    timestamptz,
    on_scene_at    timestamptz,
    available_at   timestamptz,
    PRIMARY KEY (call_id, unit_id)
);
CREATE INDEX cad_responses_unit ON cad_responses (unit_id, dispatched_at);

-- The five timestamps of every incident, live or imported: what the interval report reads.
-- Live: answered = acknowledged, or the first dispatch when nobody acknowledged first;
-- en route = the first assignment's en route. Imported: see commonwatch.cad.sffd.
CREATE VIEW incident_intervals AS
SELECT i.id AS incident_id, 'live'::text AS source, i.type AS incident_type, i.jpath,
       i.received_at, LEAST(i.acknowledged_at, i.dispatched_at) AS answered_at,
       i.dispatched_at, a.en_route_at, i.on_scene_at
FROM incidents i
LEFT JOIN LATERAL (
    SELECT min(en_route_at) AS en_route_at FROM assignments WHERE incident_id = i.id
) a ON true
UNION ALL
SELECT id, source, incident_type, jpath, received_at, answered_at, dispatched_at, en_route_at,
       on_scene_at
FROM cad_calls;

-- Retention limits for what dispatch keeps (enforced once handlers/retention.py has their
-- deletes); assignments go with their incidents (ON DELETE CASCADE).
INSERT INTO retention_policies (data_class, days) VALUES ('unit_status_log', 365), ('cad_history', 3650)
    ON CONFLICT (data_class) DO NOTHING;
